#include "scandiff/engine/crop_q.hpp"

#include <cstring>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::engine {

CropQ::CropQ(std::int64_t qy_begin, std::int64_t qy_end, std::int64_t qx_begin, std::int64_t qx_end)
    : qy0_(qy_begin), qy1_(qy_end), qx0_(qx_begin), qx1_(qx_end) {}

io::DatasetInfo CropQ::prepare(const io::DatasetInfo& in) {
  if (qy0_ < 0 || qy0_ >= qy1_ || qy1_ > in.frame_y)
    throw InvalidArgument(fmt::format("crop_q: rows [{}, {}) must satisfy 0 <= begin < end <= {} (frame rows)", qy0_,
                                      qy1_, in.frame_y));
  if (qx0_ < 0 || qx0_ >= qx1_ || qx1_ > in.frame_x)
    throw InvalidArgument(fmt::format("crop_q: columns [{}, {}) must satisfy 0 <= begin < end <= {} (frame columns)",
                                      qx0_, qx1_, in.frame_x));
  io::DatasetInfo out = in;
  out.frame_y = qy1_ - qy0_;
  out.frame_x = qx1_ - qx0_;
  out.calibration = map_detector_pixels(in.calibration, static_cast<double>(qy0_), static_cast<double>(qx0_), 1.0);
  return out;
}

void CropQ::apply(const FrameBlock& in, std::byte* out) const {
  const std::size_t elem = size_of(in.dtype);
  const std::size_t row_bytes = static_cast<std::size_t>(qx1_ - qx0_) * elem;
  const std::int64_t rows = qy1_ - qy0_;
  for (std::int64_t f = 0; f < in.count; ++f) {
    const std::byte* frame = in.data + static_cast<std::size_t>(f * in.frame_pixels()) * elem;
    for (std::int64_t y = 0; y < rows; ++y) {
      std::memcpy(out, frame + static_cast<std::size_t>((qy0_ + y) * in.frame_x + qx0_) * elem, row_bytes);
      out += row_bytes;
    }
  }
}

Metadata CropQ::parameters() const {
  return {{"qy_begin", qy0_}, {"qy_end", qy1_}, {"qx_begin", qx0_}, {"qx_end", qx1_}};
}

}  // namespace scandiff::engine
