#include "scandiff/analysis/gaussian_filter.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

std::vector<double> gaussian_kernel(double sigma, double truncate) {
  if (!(sigma > 0) || !(truncate > 0))
    throw InvalidArgument(fmt::format("gaussian filter: sigma ({}) and truncate ({}) must be > 0", sigma, truncate));
  const auto radius = static_cast<std::int64_t>(truncate * sigma + 0.5);
  std::vector<double> w(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0;
  for (std::int64_t i = -radius; i <= radius; ++i) {
    const double d = static_cast<double>(i);
    w[static_cast<std::size_t>(i + radius)] = std::exp(-0.5 / (sigma * sigma) * d * d);
    sum += w[static_cast<std::size_t>(i + radius)];
  }
  for (double& v : w) v /= sum;
  return w;
}

namespace {

// The source index of position i on an axis of n pixels under the boundary mode.
std::int64_t edge_index(std::int64_t i, std::int64_t n, BlurEdge edge) {
  if (i >= 0 && i < n) return i;
  if (edge == BlurEdge::nearest) return std::clamp<std::int64_t>(i, 0, n - 1);
  if (i < 0 && i >= -n) return -i - 1;         // one reflection (no division on the common path)
  if (i >= n && i < 2 * n) return 2 * n - 1 - i;
  const std::int64_t period = 2 * n;
  std::int64_t j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}

}  // namespace

// The AVX2 clone vectorises the same per-pixel sums (no FMA, same order): identical results.
[[gnu::target_clones("avx2", "default")]] void gaussian_blur(std::span<const double> in, std::span<double> out,
                                                             std::int64_t ny, std::int64_t nx,
                                                             std::span<const double> kernel,
                                                             std::vector<double>& scratch, BlurEdge edge) {
  const auto n = static_cast<std::size_t>(ny * nx);
  if (in.size() < n || out.size() < n) throw InvalidArgument("gaussian filter: image buffers are too small");
  const auto radius = static_cast<std::int64_t>(kernel.size() / 2);
  scratch.resize(n);
  // Axis 0: each output row is a weighted sum of input rows (edge rows per the boundary mode).
  for (std::int64_t y = 0; y < ny; ++y) {
    double* dst = scratch.data() + y * nx;
    std::fill(dst, dst + nx, 0.0);
    for (std::int64_t i = -radius; i <= radius; ++i) {
      const std::int64_t sy = edge_index(y + i, ny, edge);
      const double w = kernel[static_cast<std::size_t>(i + radius)];
      const double* src = in.data() + sy * nx;
      for (std::int64_t x = 0; x < nx; ++x) dst[x] += w * src[x];
    }
  }
  // Axis 1: along each row. Interior pixels accumulate tap by tap over the whole row (the same
  // summation order as a per-pixel loop, but vectorisable); edge pixels map their indices.
  const std::int64_t lo = std::min(radius, nx), hi = std::max(lo, nx - radius);
  for (std::int64_t y = 0; y < ny; ++y) {
    const double* src = scratch.data() + y * nx;
    double* dst = out.data() + y * nx;
    std::fill(dst + lo, dst + hi, 0.0);
    for (std::int64_t i = -radius; i <= radius; ++i) {
      const double w = kernel[static_cast<std::size_t>(i + radius)];
      const double* p = src + i;
      for (std::int64_t x = lo; x < hi; ++x) dst[x] += w * p[x];
    }
    for (std::int64_t x = 0; x < nx; ++x) {
      if (x >= lo && x < hi) continue;
      double s = 0;
      for (std::int64_t i = -radius; i <= radius; ++i)
        s += kernel[static_cast<std::size_t>(i + radius)] * src[edge_index(x + i, nx, edge)];
      dst[x] = s;
    }
  }
}

}  // namespace scandiff::analysis
