#include "scandiff/sxdm/hot_pixel_filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::sxdm {

namespace {

// out[x] = min (or max) of in[x − d .. x + d] clipped to [0, n): the interior loop runs over x with
// the offset outside, so it vectorises.
template <class T, bool Max>
void window_extreme(const T* in, T* out, std::int64_t n, std::int64_t d) {
  auto pick = [](T a, T b) { return Max ? (a < b ? b : a) : (b < a ? b : a); };
  std::copy(in, in + n, out);
  for (std::int64_t t = 1; t <= d; ++t) {
    for (std::int64_t x = 0; x + t < n; ++x) out[x] = pick(out[x], in[x + t]);
    for (std::int64_t x = t; x < n; ++x) out[x] = pick(out[x], in[x - t]);
  }
}

// Per frame: window minimum and maximum by two separable passes (rows, then columns), then the
// median only at pixels that can change.
template <class T>
void filter_frame(const T* in, T* out, std::int64_t H, std::int64_t W, const HotPixelOptions& o,
                  std::vector<T>& hmin, std::vector<T>& hmax, std::vector<T>& vmin, std::vector<T>& vmax,
                  std::vector<double>& window) {
  const std::int64_t d = o.half_window;
  const double h = o.height;
  for (std::int64_t y = 0; y < H; ++y) {
    window_extreme<T, false>(in + y * W, hmin.data() + y * W, W, d);
    window_extreme<T, true>(in + y * W, hmax.data() + y * W, W, d);
  }
  for (std::int64_t y = 0; y < H; ++y) {
    const std::int64_t y0 = std::max<std::int64_t>(0, y - d), y1 = std::min(H - 1, y + d);
    std::copy_n(hmin.data() + y0 * W, W, vmin.data());
    std::copy_n(hmax.data() + y0 * W, W, vmax.data());
    for (std::int64_t yy = y0 + 1; yy <= y1; ++yy) {
      const T* a = hmin.data() + yy * W;
      const T* b = hmax.data() + yy * W;
      for (std::int64_t x = 0; x < W; ++x) {
        vmin[x] = a[x] < vmin[x] ? a[x] : vmin[x];
        vmax[x] = vmax[x] < b[x] ? b[x] : vmax[x];
      }
    }
    const T* row = in + y * W;
    for (std::int64_t x = 0; x < W; ++x) {
      const double v = static_cast<double>(row[x]);
      // min <= median <= max: no change possible unless v is more than `height` from one of them.
      if (!(v > static_cast<double>(vmin[x]) + h) && !(o.with_low && v < static_cast<double>(vmax[x]) - h)) continue;
      const std::int64_t x0 = std::max<std::int64_t>(0, x - d), x1 = std::min(W - 1, x + d);
      std::size_t n = 0;
      for (std::int64_t yy = y0; yy <= y1; ++yy)
        for (std::int64_t xx = x0; xx <= x1; ++xx) window[n++] = static_cast<double>(in[yy * W + xx]);
      const double m = analysis::median_inplace(std::span(window.data(), n));
      if (v > m + h || (o.with_low && v < m - h))
        out[y * W + x] = std::is_integral_v<T> ? static_cast<T>(std::round(m)) : static_cast<T>(m);
    }
  }
}

}  // namespace

SelectiveMedianFrames::SelectiveMedianFrames(HotPixelOptions options) : options_(options) {
  if (options_.half_window < 1 || options_.half_window > 16)
    throw InvalidArgument(
        fmt::format("hot-pixel filter: the half window must be in 1..16 pixels (got {})", options_.half_window));
  if (!(options_.height >= 0) || !std::isfinite(options_.height))
    throw InvalidArgument(fmt::format("hot-pixel filter: the height must be finite and >= 0 (got {})", options_.height));
}

void SelectiveMedianFrames::apply(const engine::FrameBlock& in, std::byte* out) const {
  const std::size_t frame_bytes = static_cast<std::size_t>(in.frame_pixels()) * size_of(in.dtype);
  std::memcpy(out, in.data, frame_bytes * static_cast<std::size_t>(in.count));
  const std::int64_t k = 2 * options_.half_window + 1;
  std::vector<double> window(static_cast<std::size_t>(k * k));
  visit_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* src = reinterpret_cast<const T*>(in.data);
    T* dst = reinterpret_cast<T*>(out);
    const auto n = static_cast<std::size_t>(in.frame_pixels()), w = static_cast<std::size_t>(in.frame_x);
    std::vector<T> hmin(n), hmax(n), vmin(w), vmax(w);
    for (std::int64_t f = 0; f < in.count; ++f)
      filter_frame<T>(src + f * in.frame_pixels(), dst + f * in.frame_pixels(), in.frame_y, in.frame_x, options_,
                      hmin, hmax, vmin, vmax, window);
  });
}

Metadata SelectiveMedianFrames::parameters() const {
  return {{"half_window", options_.half_window},
          {"height", options_.height},
          {"with_low", options_.with_low},
          {"rule", "pixel > median + height (or < median - height with with_low) of its (2d+1)^2 window, clipped at "
                   "the edges, is replaced by that median (sxdm's selective rule in 2-D)"}};
}

Array selective_median_image(const Array& image2d, const HotPixelOptions& options) {
  if (image2d.rank() != 2)
    throw InvalidArgument(
        fmt::format("hot-pixel filter: expected a 2D image (got shape {})", shape_string(image2d.shape())));
  const Array in = image2d.copy();
  SelectiveMedianFrames stage(options);
  Array out(in.dtype(), in.shape());
  stage.apply({.first = 0, .count = 1, .frame_y = in.shape(0), .frame_x = in.shape(1), .scan_x = 1,
               .dtype = in.dtype(), .data = in.bytes()},
              out.bytes());
  return out;
}

}  // namespace scandiff::sxdm
