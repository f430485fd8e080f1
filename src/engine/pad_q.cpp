#include "scandiff/engine/pad_q.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::engine {

PadQ::PadQ(std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right, double value)
    : top_(top), bottom_(bottom), left_(left), right_(right), value_(value) {}

io::DatasetInfo PadQ::prepare(const io::DatasetInfo& in) {
  if (top_ < 0 || bottom_ < 0 || left_ < 0 || right_ < 0)
    throw InvalidArgument(fmt::format("pad_q: padding (top {}, bottom {}, left {}, right {}) must be >= 0", top_,
                                      bottom_, left_, right_));
  visit_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const bool in_range = value_ >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                          value_ <= static_cast<double>(std::numeric_limits<T>::max());
    if (!in_range || static_cast<double>(static_cast<T>(value_)) != value_)
      throw InvalidArgument(fmt::format("pad_q: value {} is not exactly representable as {}", value_, name_of(in.dtype)));
  });
  io::DatasetInfo out = in;
  out.frame_y = in.frame_y + top_ + bottom_;
  out.frame_x = in.frame_x + left_ + right_;
  out.calibration = map_detector_pixels(in.calibration, -static_cast<double>(top_), -static_cast<double>(left_), 1.0);
  return out;
}

void PadQ::apply(const FrameBlock& in, std::byte* out) const {
  visit_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T fill = static_cast<T>(value_);
    const std::int64_t ny = in.frame_y + top_ + bottom_, nx = in.frame_x + left_ + right_;
    const T* src = reinterpret_cast<const T*>(in.data);
    T* dst = reinterpret_cast<T*>(out);
    for (std::int64_t f = 0; f < in.count; ++f) {
      T* frame = dst + f * ny * nx;
      std::fill(frame, frame + ny * nx, fill);
      for (std::int64_t y = 0; y < in.frame_y; ++y)
        std::memcpy(frame + (y + top_) * nx + left_, src + (f * in.frame_y + y) * in.frame_x,
                    static_cast<std::size_t>(in.frame_x) * sizeof(T));
    }
  });
}

Metadata PadQ::parameters() const {
  return {{"top", top_}, {"bottom", bottom_}, {"left", left_}, {"right", right_}, {"value", value_}};
}

}  // namespace scandiff::engine
