#include "scandiff/io/memory_source.hpp"

#include <cstring>

#include <fmt/format.h>

namespace scandiff::io {

MemorySource::MemorySource(Array data, Calibration calibration) {
  if (data.rank() != 4)
    throw InvalidArgument(fmt::format("in-memory dataset: shape {} has rank {}, expected 4 (ry, rx, qy, qx)",
                                      shape_string(data.shape()), data.rank()));
  // (ry, rx) merge into one frame axis only when rx steps evenly into ry.
  if (data.byte_strides()[0] != data.byte_strides()[1] * data.shape(1)) data = data.copy();
  const Shape sh = data.shape();
  info_.scan_y = sh[0];
  info_.scan_x = sh[1];
  info_.frame_y = sh[2];
  info_.frame_x = sh[3];
  // The view shares ownership of the original array (if it owned its memory).
  const std::vector<std::int64_t> strides{data.byte_strides()[1], data.byte_strides()[2], data.byte_strides()[3]};
  auto keep = std::make_shared<Array>(std::move(data));
  data_ = Array::adopt(keep, keep->bytes(), keep->dtype(), {sh[0] * sh[1], sh[2], sh[3]}, strides);
  info_.path = "<memory>";
  info_.format = "memory";
  info_.dtype = data_.dtype();
  info_.calibration = std::move(calibration);
  info_.validate();
}

MemorySource::MemorySource(Array frames, std::int64_t scan_y, std::int64_t scan_x, Calibration calibration) {
  if (frames.rank() != 3 || frames.shape(0) != scan_y * scan_x)
    throw InvalidArgument(fmt::format("in-memory frame stack: shape {} does not hold a {}x{} scan (expected "
                                      "({}, qy, qx))",
                                      shape_string(frames.shape()), scan_y, scan_x, scan_y * scan_x));
  info_.scan_y = scan_y;
  info_.scan_x = scan_x;
  info_.frame_y = frames.shape(1);
  info_.frame_x = frames.shape(2);
  info_.path = "<memory>";
  info_.format = "memory";
  info_.dtype = frames.dtype();
  info_.calibration = std::move(calibration);
  data_ = std::move(frames);
  info_.validate();
}

const std::byte* MemorySource::view(std::int64_t first, std::int64_t count) {
  check_range(first, count);
  if (!data_.is_contiguous()) return nullptr;
  return data_.bytes() + static_cast<std::size_t>(first) * info_.frame_bytes();
}

void MemorySource::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  if (data_.is_contiguous()) {
    std::memcpy(dst, data_.bytes() + static_cast<std::size_t>(first) * info_.frame_bytes(),
                static_cast<std::size_t>(count) * info_.frame_bytes());
    return;
  }
  auto part = Array::adopt(nullptr, data_.bytes() + first * data_.byte_strides()[0], data_.dtype(),
                           {count, info_.frame_y, info_.frame_x}, data_.byte_strides());
  Array c = part.copy();
  std::memcpy(dst, c.bytes(), c.nbytes());
}

}  // namespace scandiff::io
