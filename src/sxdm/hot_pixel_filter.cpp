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

template <class T>
void filter_frame(const T* in, T* out, std::int64_t H, std::int64_t W, const HotPixelOptions& o,
                  std::vector<double>& window) {
  const std::int64_t d = o.half_window;
  const double h = o.height;
  for (std::int64_t y = 0; y < H; ++y) {
    const std::int64_t y0 = std::max<std::int64_t>(0, y - d), y1 = std::min(H - 1, y + d);
    for (std::int64_t x = 0; x < W; ++x) {
      const std::int64_t x0 = std::max<std::int64_t>(0, x - d), x1 = std::min(W - 1, x + d);
      const double v = static_cast<double>(in[y * W + x]);
      double lo = v, hi = v;
      for (std::int64_t yy = y0; yy <= y1; ++yy)
        for (std::int64_t xx = x0; xx <= x1; ++xx) {
          const double w = static_cast<double>(in[yy * W + xx]);
          lo = std::min(lo, w);
          hi = std::max(hi, w);
        }
      // min <= median <= max: no change possible unless v is more than `height` from one of them.
      if (!(v > lo + h) && !(o.with_low && v < hi - h)) continue;
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
    for (std::int64_t f = 0; f < in.count; ++f)
      filter_frame<T>(src + f * in.frame_pixels(), dst + f * in.frame_pixels(), in.frame_y, in.frame_x, options_,
                      window);
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
