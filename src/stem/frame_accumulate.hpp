// Pixel-wise accumulation of frames into float64 patterns (private to stem): sums and maxima,
// optionally weighted and rolled. A roll by (sy, sx) moves pixel (i, j) of the frame to
// ((i + sy) mod H, (j + sx) mod W), as numpy.roll(frame, (sy, sx), axis=(0, 1)).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace scandiff::stem::detail {

// acc[p] += frame[p]; integer sums are exact in float64 up to 2^53, so their order never matters.
template <class T>
void add_frame(double* __restrict acc, const T* __restrict frame, std::int64_t n) {
  for (std::int64_t p = 0; p < n; ++p) acc[p] += static_cast<double>(frame[p]);
}

// acc[p] += sum_f frames[f][p] over `count` frames of n pixels. The detector is walked in
// L1-sized tiles with the frames inside, so the accumulator stays in cache; 8- and 16-bit data
// is summed exactly in uint32 (at most 65536 frames per group, so it cannot overflow) and
// folded into float64 once per tile. Per pixel the frames are added in frame order.
template <class T>
[[gnu::target_clones("avx2", "default")]] void add_frames(double* __restrict acc, const T* __restrict frames,
                                                          std::int64_t count, std::int64_t n) {
  constexpr std::int64_t tile = 4096;
  constexpr bool narrow = std::is_integral_v<T> && sizeof(T) <= 2;
  using Acc = std::conditional_t<narrow, std::uint32_t, double>;
  constexpr std::int64_t group = narrow ? 65536 : (std::int64_t{1} << 62);
  alignas(64) Acc part[tile];
  for (std::int64_t t0 = 0; t0 < n; t0 += tile) {
    const std::int64_t len = std::min(tile, n - t0);
    for (std::int64_t g0 = 0; g0 < count; g0 += group) {
      const std::int64_t g1 = std::min(count, g0 + group);
      for (std::int64_t p = 0; p < len; ++p) part[p] = 0;
      std::int64_t f = g0;
      // Four frames per sweep: a quarter of the accumulator traffic, four read streams.
      for (; f + 4 <= g1; f += 4) {
        const T* __restrict a = frames + f * n + t0;
        const T* __restrict b = a + n;
        const T* __restrict c = b + n;
        const T* __restrict d = c + n;
        for (std::int64_t p = 0; p < len; ++p)
          part[p] += (static_cast<Acc>(a[p]) + static_cast<Acc>(b[p])) + (static_cast<Acc>(c[p]) + static_cast<Acc>(d[p]));
      }
      for (; f < g1; ++f) {
        const T* __restrict src = frames + f * n + t0;
        for (std::int64_t p = 0; p < len; ++p) part[p] += static_cast<Acc>(src[p]);
      }
      double* __restrict dst = acc + t0;
      for (std::int64_t p = 0; p < len; ++p) dst[p] += static_cast<double>(part[p]);
    }
  }
}

template <class T>
void max_frame(double* __restrict acc, const T* __restrict frame, std::int64_t n) {
  for (std::int64_t p = 0; p < n; ++p) acc[p] = std::max(acc[p], static_cast<double>(frame[p]));
}

// Calls op(dst_offset, src_offset, length) for the contiguous pieces of a (sy, sx) roll of an
// H x W frame (sy, sx already reduced to [0, H) x [0, W)): each source row in at most two pieces.
template <class Op>
void for_each_rolled_piece(std::int64_t H, std::int64_t W, std::int64_t sy, std::int64_t sx, Op op) {
  for (std::int64_t i = 0; i < H; ++i) {
    std::int64_t r = i + sy;
    if (r >= H) r -= H;
    // source columns [0, W - sx) land on [sx, W); [W - sx, W) wrap onto [0, sx).
    op(r * W + sx, i * W, W - sx);
    if (sx > 0) op(r * W, i * W + (W - sx), sx);
  }
}

inline std::int64_t wrap(std::int64_t s, std::int64_t n) {
  s %= n;
  return s < 0 ? s + n : s;
}

// acc[roll(p)] += w · frame[p]
template <class T>
void add_rolled(double* acc, const T* frame, double w, std::int64_t H, std::int64_t W, std::int64_t sy,
                std::int64_t sx) {
  for_each_rolled_piece(H, W, wrap(sy, H), wrap(sx, W), [&](std::int64_t d, std::int64_t s, std::int64_t n) {
    double* __restrict a = acc + d;
    const T* __restrict f = frame + s;
    for (std::int64_t k = 0; k < n; ++k) a[k] += w * static_cast<double>(f[k]);
  });
}

// acc[roll(p)] = max(acc[roll(p)], w · frame[p])
template <class T>
void max_rolled(double* acc, const T* frame, double w, std::int64_t H, std::int64_t W, std::int64_t sy,
                std::int64_t sx) {
  for_each_rolled_piece(H, W, wrap(sy, H), wrap(sx, W), [&](std::int64_t d, std::int64_t s, std::int64_t n) {
    double* __restrict a = acc + d;
    const T* __restrict f = frame + s;
    for (std::int64_t k = 0; k < n; ++k) a[k] = std::max(a[k], w * static_cast<double>(f[k]));
  });
}

}  // namespace scandiff::stem::detail
