#include "scandiff/engine/resample_q.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::engine {

ResampleQ::ResampleQ(double factor, bool conserve_sums) : factor_(factor), conserve_(conserve_sums) {
  if (!(factor >= 1.0 / 64 && factor <= 64))
    throw InvalidArgument(fmt::format("resample_q: factor must be between 1/64 and 64 (got {})", factor));
}

ResampleQ::AxisMap ResampleQ::make_axis(std::int64_t in_size, std::int64_t out_size) {
  AxisMap m;
  const double s = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double last = static_cast<double>(in_size - 1);
  for (std::int64_t o = 0; o < out_size; ++o) {
    const double c = std::clamp((static_cast<double>(o) + 0.5) * s - 0.5, 0.0, last);
    const double f = std::floor(c);
    const auto lo = static_cast<std::int64_t>(f);
    m.lo.push_back(lo);
    m.step.push_back(lo + 1 < in_size ? 1 : 0);
    m.w.push_back(c - f);
  }
  return m;
}

io::DatasetInfo ResampleQ::prepare(const io::DatasetInfo& in) {
  const auto out_y = static_cast<std::int64_t>(std::llround(factor_ * static_cast<double>(in.frame_y)));
  const auto out_x = static_cast<std::int64_t>(std::llround(factor_ * static_cast<double>(in.frame_x)));
  if (out_y < 1 || out_x < 1)
    throw InvalidArgument(fmt::format("resample_q: factor {} leaves nothing of the {}x{} frame", factor_, in.frame_y,
                                      in.frame_x));
  const double sy = static_cast<double>(in.frame_y) / static_cast<double>(out_y);
  const double sx = static_cast<double>(in.frame_x) / static_cast<double>(out_x);
  if (std::abs(sy - sx) > 1e-9 * sx)
    throw InvalidArgument(fmt::format(
        "resample_q: factor {} resamples the {}x{} frame to {}x{}, a different scale on each axis ({} and {} input "
        "pixels per output pixel); choose a factor giving the same scale on both axes",
        factor_, in.frame_y, in.frame_x, out_y, out_x, sy, sx));
  ymap_ = make_axis(in.frame_y, out_y);
  xmap_ = make_axis(in.frame_x, out_x);
  scale_ = conserve_ ? sy * sx : 1.0;
  io::DatasetInfo out = in;
  out.frame_y = out_y;
  out.frame_x = out_x;
  out.dtype = DType::f32;
  const double shift = 0.5 * (sx - 1);
  out.calibration = map_detector_pixels(in.calibration, shift, shift, sx);
  return out;
}

void ResampleQ::apply(const FrameBlock& in, std::byte* out) const {
  const auto oy = static_cast<std::int64_t>(ymap_.lo.size()), ox = static_cast<std::int64_t>(xmap_.lo.size());
  float* dst = reinterpret_cast<float*>(out);
  visit_dtype(in.dtype, [&](auto tag) {
    using In = decltype(tag);
    const In* src = reinterpret_cast<const In*>(in.data);
    for (std::int64_t f = 0; f < in.count; ++f) {
      const In* frame = src + f * in.frame_y * in.frame_x;
      for (std::int64_t i = 0; i < oy; ++i) {
        const In* r0 = frame + ymap_.lo[i] * in.frame_x;
        const In* r1 = r0 + ymap_.step[i] * in.frame_x;
        const double wy = ymap_.w[i];
        for (std::int64_t j = 0; j < ox; ++j) {
          const std::int64_t x0 = xmap_.lo[j], x1 = x0 + xmap_.step[j];
          const double wx = xmap_.w[j];
          const double top = (1 - wx) * static_cast<double>(r0[x0]) + wx * static_cast<double>(r0[x1]);
          const double bottom = (1 - wx) * static_cast<double>(r1[x0]) + wx * static_cast<double>(r1[x1]);
          *dst++ = static_cast<float>(((1 - wy) * top + wy * bottom) * scale_);
        }
      }
    }
  });
}

Metadata ResampleQ::parameters() const {
  return {{"factor", factor_}, {"method", "bilinear"}, {"conserve_sums", conserve_}};
}

}  // namespace scandiff::engine
