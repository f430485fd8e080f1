// Private: a Source over the frames of one or more HDF5 datasets, read by hyperslabs straight
// into the caller's buffer (through HDF5's filter pipeline for chunked, compressed data). Used
// by the EMD, HyperSpy and Dectris (NeXus) readers. Every HDF5 call holds h5::Lock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_handle.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::io::h5 {

// One dataset of frames: 4D (ry, rx, qy, qx) or 3D (frame, qy, qx), C order. Its frames follow
// those of the previous segment in scan order.
struct FrameSegment {
  std::string name;  // HDF5 path, for messages
  Handle data;
  Shape shape;
  std::int64_t frames() const;
};

class FrameSource final : public Source {
 public:
  // Takes over open handles (constructed under the lock; nothing here throws). The segments
  // hold at least info.frame_count() frames of info's frame shape and dtype; frames after
  // those are never read. `block` is preferred_block_frames().
  FrameSource(DatasetInfo info, Handle file, std::vector<FrameSegment> segments, std::int64_t block) noexcept;
  ~FrameSource() override;

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;
  std::int64_t preferred_block_frames() const override { return block_; }

 private:
  Handle file_;
  std::vector<FrameSegment> segments_;
  std::vector<std::int64_t> starts_;  // first scan frame of each segment
  std::int64_t block_;
};

// Frames one chunk of `data` spans in scan order, for block sizing: for 4D chunks of (c0, c1, ..)
// scan positions c1 frames of a scan row, or c0 whole rows when c0 > 1; for 3D chunks c0 frames.
// 1 for contiguous data.
std::int64_t chunk_frames(hid_t data, const Shape& shape);

}  // namespace scandiff::io::h5
