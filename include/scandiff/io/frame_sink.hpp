// Where streamed frames go: a dataset writer that accepts frames in scan order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scandiff::io {

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Frames [first, first + count), C order (count, qy, qx), in the dataset's dtype.
  // Called with consecutive ranges, in order.
  virtual void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) = 0;
};

}  // namespace scandiff::io
