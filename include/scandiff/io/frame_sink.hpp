// Where streamed frames go: a dataset writer that accepts frames in scan order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scandiff::io {

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Frames [first, first + count), C order (count, qy, qx), in the dataset's dtype.
  // Called with consecutive ranges, in order, unless concurrent() is true.
  virtual void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) = 0;
  // True when write_frames may be called from several threads at once, for disjoint ranges in
  // any order (each frame has a fixed place, e.g. a contiguous file region): the engine then
  // writes each block where it is processed, without copying or ordering it.
  virtual bool concurrent() const { return false; }
};

}  // namespace scandiff::io
