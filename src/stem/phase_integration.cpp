#include "scandiff/stem/phase_integration.hpp"

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/fft2.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

Array integrate_gradient(const Array& gx_in, const Array& gy_in, const PhaseIntegrationOptions& options) {
  if (gx_in.rank() != 2 || gy_in.rank() != 2 || gx_in.shape() != gy_in.shape())
    throw InvalidArgument(fmt::format("phase integration: gradient maps of shapes {} and {}; expected two 2D maps of "
                                      "one shape",
                                      shape_string(gx_in.shape()), shape_string(gy_in.shape())));
  if (!(options.regularization >= 0))
    throw InvalidArgument("phase integration: the regularization must be >= 0");
  const Array ax = gx_in.astype(DType::f64), ay = gy_in.astype(DType::f64);
  const auto gx = ax.view<const double, 2>(), gy = ay.view<const double, 2>();
  const std::int64_t H = ax.shape(0), W = ax.shape(1);
  const std::int64_t NY = options.mirror ? 2 * H : H, NX = options.mirror ? 2 * W : W;

  using cplx = std::complex<double>;
  std::vector<cplx> X(static_cast<std::size_t>(NY * NX)), Y(X.size());
  auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
  for (std::int64_t i = 0; i < NY; ++i)
    for (std::int64_t j = 0; j < NX; ++j) {
      // Mirror of the phase: φ_e(i, j) = φ(i', j') with i' = i or 2H − 1 − i, j' likewise;
      // a mirrored axis reverses the sign of the gradient along it.
      const bool my = i >= H, mx = j >= W;
      const std::int64_t si = my ? 2 * H - 1 - i : i, sj = mx ? 2 * W - 1 - j : j;
      X[static_cast<std::size_t>(i * NX + j)] = finite(gx(si, sj)) * (mx ? -1.0 : 1.0);
      Y[static_cast<std::size_t>(i * NX + j)] = finite(gy(si, sj)) * (my ? -1.0 : 1.0);
    }
  const analysis::Fft2 fft(NY, NX);
  fft.forward(X.data());
  fft.forward(Y.data());
  for (std::int64_t i = 0; i < NY; ++i) {
    const double fy = analysis::fft_frequency(i, NY);
    for (std::int64_t j = 0; j < NX; ++j) {
      const double fx = analysis::fft_frequency(j, NX);
      const double k2 = fx * fx + fy * fy + options.regularization;
      const auto p = static_cast<std::size_t>(i * NX + j);
      X[p] = k2 > 0 ? (fx * X[p] + fy * Y[p]) / (cplx(0, 2 * std::numbers::pi) * k2) : cplx(0, 0);
    }
  }
  fft.inverse(X.data());
  Array phase(DType::f64, {H, W});
  auto out = phase.view<double, 2>();
  const double norm = 1.0 / static_cast<double>(NY * NX);
  for (std::int64_t i = 0; i < H; ++i)
    for (std::int64_t j = 0; j < W; ++j) out(i, j) = X[static_cast<std::size_t>(i * NX + j)].real() * norm;
  return phase;
}

}  // namespace scandiff::stem
