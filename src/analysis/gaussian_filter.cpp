#include "scandiff/analysis/gaussian_filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

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

// Four doubles (a GCC vector: one AVX register, two SSE2 ones in the default clone).
using Vec4 = double __attribute__((vector_size(32)));

[[gnu::always_inline]] inline void load4(Vec4& v, const double* p) { std::memcpy(&v, p, sizeof v); }

// dst[x] = Σ_t w[t]·src[t][x] for x in [lo, hi), each sum started at 0 and taken over t in
// ascending order: the order of a plain per-pixel loop, so both clones give the same bits (no
// FMA in either). Blocks of 32 pixels keep their sums in eight registers across the taps: eight
// independent chains of additions keep the adders busy (four left them waiting on the latency).
[[gnu::always_inline]] inline void weighted_sum(const double* const* src, const double* w, std::size_t taps, double* dst,
                                                std::int64_t lo, std::int64_t hi) {
  std::int64_t x = lo;
  for (; x + 32 <= hi; x += 32) {
    Vec4 a0 = {}, a1 = {}, a2 = {}, a3 = {}, a4 = {}, a5 = {}, a6 = {}, a7 = {};
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec4 wt = {w[t], w[t], w[t], w[t]};
      const double* s = src[t] + x;
      Vec4 v0, v1, v2, v3, v4, v5, v6, v7;
      load4(v0, s);
      load4(v1, s + 4);
      load4(v2, s + 8);
      load4(v3, s + 12);
      load4(v4, s + 16);
      load4(v5, s + 20);
      load4(v6, s + 24);
      load4(v7, s + 28);
      a0 += wt * v0;
      a1 += wt * v1;
      a2 += wt * v2;
      a3 += wt * v3;
      a4 += wt * v4;
      a5 += wt * v5;
      a6 += wt * v6;
      a7 += wt * v7;
    }
    std::memcpy(dst + x, &a0, sizeof a0);
    std::memcpy(dst + x + 4, &a1, sizeof a1);
    std::memcpy(dst + x + 8, &a2, sizeof a2);
    std::memcpy(dst + x + 12, &a3, sizeof a3);
    std::memcpy(dst + x + 16, &a4, sizeof a4);
    std::memcpy(dst + x + 20, &a5, sizeof a5);
    std::memcpy(dst + x + 24, &a6, sizeof a6);
    std::memcpy(dst + x + 28, &a7, sizeof a7);
  }
  for (; x + 4 <= hi; x += 4) {
    Vec4 a = {};
    for (std::size_t t = 0; t < taps; ++t) {
      const Vec4 wt = {w[t], w[t], w[t], w[t]};
      Vec4 v;
      load4(v, src[t] + x);
      a += wt * v;
    }
    std::memcpy(dst + x, &a, sizeof a);
  }
  for (; x < hi; ++x) {
    double a = 0;
    for (std::size_t t = 0; t < taps; ++t) a += w[t] * src[t][x];
    dst[x] = a;
  }
}

}  // namespace

// Row by row: the axis-0 pass of row y into a scratch row padded by `radius` on each side (the
// padding filled per the boundary mode), then the axis-1 pass over that row, so the intermediate
// stays in the L1 cache and every pixel takes the same vector path.
// (No AVX-512 clone: GCC's avx512f target enables FMA, which would change the bits.)
[[gnu::target_clones("avx2", "default")]] void gaussian_blur(std::span<const double> in, std::span<double> out,
                                                             std::int64_t ny, std::int64_t nx,
                                                             std::span<const double> kernel,
                                                             std::vector<double>& scratch, BlurEdge edge) {
  const auto n = static_cast<std::size_t>(ny * nx);
  if (in.size() < n || out.size() < n) throw InvalidArgument("gaussian filter: image buffers are too small");
  const auto radius = static_cast<std::int64_t>(kernel.size() / 2);
  const std::size_t taps = kernel.size();
  scratch.resize(static_cast<std::size_t>(nx + 2 * radius));
  double* padded = scratch.data();
  double* row = padded + radius;
  std::vector<const double*> rows(taps);
  for (std::int64_t y = 0; y < ny; ++y) {
    // Axis 0: a weighted sum of input rows (edge rows per the boundary mode).
    for (std::int64_t i = -radius; i <= radius; ++i)
      rows[static_cast<std::size_t>(i + radius)] = in.data() + edge_index(y + i, ny, edge) * nx;
    weighted_sum(rows.data(), kernel.data(), taps, row, 0, nx);
    for (std::int64_t k = 1; k <= radius; ++k) {
      padded[radius - k] = row[edge_index(-k, nx, edge)];
      padded[radius + nx - 1 + k] = row[edge_index(nx - 1 + k, nx, edge)];
    }
    // Axis 1: output x reads padded[x + t], t = 0..2·radius.
    for (std::size_t t = 0; t < taps; ++t) rows[t] = padded + t;
    weighted_sum(rows.data(), kernel.data(), taps, out.data() + y * nx, 0, nx);
  }
}

void gaussian_filter1d(std::span<const double> in, std::span<double> out, std::span<const double> kernel,
                       BlurEdge edge) {
  const auto n = static_cast<std::int64_t>(in.size());
  if (out.size() != in.size()) throw InvalidArgument("gaussian filter: output and input lengths differ");
  const auto radius = static_cast<std::int64_t>(kernel.size() / 2);
  for (std::int64_t i = 0; i < n; ++i) {
    double sum = 0;
    for (std::int64_t t = -radius; t <= radius; ++t)
      sum += kernel[static_cast<std::size_t>(t + radius)] * in[static_cast<std::size_t>(edge_index(i + t, n, edge))];
    out[static_cast<std::size_t>(i)] = sum;
  }
}

}  // namespace scandiff::analysis
