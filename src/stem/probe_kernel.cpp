#include "scandiff/stem/probe_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/fft2.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/probe_size.hpp"

namespace scandiff::stem {

namespace {

std::int64_t wrap(std::int64_t i, std::int64_t n) { return ((i % n) + n) % n; }

// The FFT-wrapped signed distance of index i to 0: ((i + n/2) mod n) − n/2.
double wrapped(std::int64_t i, std::int64_t n) { return static_cast<double>(wrap(i + n / 2, n) - n / 2); }

}  // namespace

KernelMode parse_kernel_mode(std::string_view name) {
  if (name == "flat") return KernelMode::flat;
  if (name == "gaussian") return KernelMode::gaussian;
  if (name == "sigmoid") return KernelMode::sigmoid;
  if (name == "logistic") return KernelMode::logistic;
  throw InvalidArgument(fmt::format("kernel mode '{}': expected flat, gaussian, sigmoid or logistic", name));
}

std::string_view kernel_mode_name(KernelMode mode) {
  switch (mode) {
    case KernelMode::flat: return "flat";
    case KernelMode::gaussian: return "gaussian";
    case KernelMode::sigmoid: return "sigmoid";
    case KernelMode::logistic: return "logistic";
  }
  return "?";
}

Array shift_image(const Array& image, double dy, double dx, bool bilinear) {
  if (image.rank() != 2 || image.size() == 0)
    throw InvalidArgument(fmt::format("shift: expected a non-empty 2D image (got shape {})", shape_string(image.shape())));
  const Array in = image.astype(DType::f64);
  const std::int64_t ny = in.shape(0), nx = in.shape(1);
  const double* src = in.data<double>();
  Array out(DType::f64, {ny, nx});
  double* dst = out.data<double>();
  if (bilinear) {
    // Σ over the four integer rolls around (dy, dx): roll(a, s)[i] = a[i − s].
    const auto fy = static_cast<std::int64_t>(std::floor(dy)), fx = static_cast<std::int64_t>(std::floor(dx));
    const double wy = dy - static_cast<double>(fy), wx = dx - static_cast<double>(fx);
    for (std::int64_t y = 0; y < ny; ++y)
      for (std::int64_t x = 0; x < nx; ++x) {
        auto at = [&](std::int64_t sy, std::int64_t sx) { return src[wrap(y - sy, ny) * nx + wrap(x - sx, nx)]; };
        dst[y * nx + x] = at(fy, fx) * (1 - wy) * (1 - wx) + at(fy + 1, fx) * wy * (1 - wx) +
                          at(fy, fx + 1) * (1 - wy) * wx + at(fy + 1, fx + 1) * wy * wx;
      }
    return out;
  }
  analysis::Fft2 fft(ny, nx);
  std::vector<std::complex<double>> buf(static_cast<std::size_t>(ny * nx));
  for (std::int64_t i = 0; i < ny * nx; ++i) buf[static_cast<std::size_t>(i)] = src[i];
  fft.forward(buf.data());
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      const double phase = -2 * std::numbers::pi *
                           (analysis::fft_frequency(y, ny) * dy + analysis::fft_frequency(x, nx) * dx);
      buf[static_cast<std::size_t>(y * nx + x)] *= std::polar(1.0, phase);
    }
  fft.inverse(buf.data());
  const double norm = 1.0 / static_cast<double>(ny * nx);
  for (std::int64_t i = 0; i < ny * nx; ++i) dst[i] = buf[static_cast<std::size_t>(i)].real() * norm;
  return out;
}

Array probe_kernel(const Array& probe, const KernelOptions& o) {
  if (probe.rank() != 2 || probe.size() == 0)
    throw InvalidArgument(fmt::format("kernel: expected a non-empty 2D probe (got shape {})", shape_string(probe.shape())));
  const bool sigmoid = o.mode == KernelMode::sigmoid || o.mode == KernelMode::logistic;
  if (o.mode == KernelMode::gaussian && (!(o.sigma > 0) || !std::isfinite(o.sigma)))
    throw InvalidArgument(fmt::format("kernel: gaussian sigma must be > 0 (got {})", o.sigma));
  if (sigmoid && !(o.inner_px >= 0 && o.outer_px > o.inner_px && std::isfinite(o.outer_px)))
    throw InvalidArgument(fmt::format("kernel: {} radii need 0 <= inner ({}) < outer ({}) px",
                                      kernel_mode_name(o.mode), o.inner_px, o.outer_px));
  double cy = 0, cx = 0;
  if (o.center_qy_px && o.center_qx_px) {
    cy = *o.center_qy_px;
    cx = *o.center_qx_px;
  } else {
    const ProbeSize ps = measure_probe_size(probe);
    cy = ps.center_qy_px;
    cx = ps.center_qx_px;
  }
  if (!std::isfinite(cy) || !std::isfinite(cx))
    throw InvalidArgument(fmt::format("kernel: probe centre ({}, {}) is not finite", cy, cx));
  const bool bilinear = o.bilinear.value_or(o.mode != KernelMode::flat);
  double total = 0;
  {
    const Array p = probe.astype(DType::f64);
    for (std::int64_t i = 0; i < p.size(); ++i) total += p.data<double>()[i];
  }
  if (!(total > 0)) throw InvalidArgument(fmt::format("kernel: the probe must have a positive sum (got {})", total));
  Array k = shift_image(probe, -cy, -cx, bilinear);
  double* v = k.data<double>();
  const std::int64_t ny = k.shape(0), nx = k.shape(1), n = k.size();
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += v[i];
  if (o.mode == KernelMode::flat) {
    for (std::int64_t i = 0; i < n; ++i) v[i] /= sum;
    return k;
  }
  std::vector<double> ref(static_cast<std::size_t>(n));
  double r2p = 0;
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      const double dy = wrapped(y, ny), dx = wrapped(x, nx);
      r2p += (dy * dy + dx * dx) * v[y * nx + x];
    }
  const double mean_r2 = r2p / sum;
  if (o.mode == KernelMode::gaussian && !(mean_r2 > 0))
    throw InvalidArgument("kernel: the probe's mean squared radius is not > 0 (gaussian mode)");
  const double r0 = 0.5 * (o.inner_px + o.outer_px), s = 0.25 * (o.outer_px - o.inner_px);
  double ref_sum = 0;
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      const double dy = wrapped(y, ny), dx = wrapped(x, nx), r2 = dy * dy + dx * dx, r = std::sqrt(r2);
      double w = 0;
      switch (o.mode) {
        case KernelMode::gaussian: w = std::exp(-r2 / (2 * mean_r2 * o.sigma * o.sigma)); break;
        case KernelMode::sigmoid: {
          const double t = std::clamp((r - o.inner_px) / (o.outer_px - o.inner_px), 0.0, 1.0);
          const double c = std::cos(std::numbers::pi / 2 * t);
          w = c * c;
          break;
        }
        case KernelMode::logistic: w = 1.0 / (1.0 + std::exp((r - r0) / s)); break;
        case KernelMode::flat: break;
      }
      ref[static_cast<std::size_t>(y * nx + x)] = w;
      ref_sum += w;
    }
  for (std::int64_t i = 0; i < n; ++i) v[i] = v[i] / sum - ref[static_cast<std::size_t>(i)] / ref_sum;
  return k;
}

}  // namespace scandiff::stem
