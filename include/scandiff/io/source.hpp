// A Source yields the frames of a scan, in scan order (ry major, rx minor), without
// loading the whole dataset. Shape, dtype, calibration and metadata are known as soon
// as it is opened; frames are decoded only on read().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"
#include "scandiff/core/dtype.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"

namespace scandiff::io {

struct DatasetInfo {
  std::string path;    // where the data came from ("<memory>" for in-memory data), for messages
  std::string format;  // "emd", "raw", "memory", ...
  std::int64_t scan_y = 0, scan_x = 0;    // scan shape (ry, rx)
  std::int64_t frame_y = 0, frame_x = 0;  // detector frame shape (qy, qx)
  DType dtype = DType::u16;
  Calibration calibration;
  Metadata metadata = Metadata::object();

  std::int64_t frame_count() const { return scan_y * scan_x; }
  std::int64_t frame_pixels() const { return frame_y * frame_x; }
  std::size_t frame_bytes() const { return static_cast<std::size_t>(frame_pixels()) * size_of(dtype); }
  std::size_t total_bytes() const { return frame_bytes() * static_cast<std::size_t>(frame_count()); }
  Shape shape() const { return {scan_y, scan_x, frame_y, frame_x}; }
  // Calibrated axes for results: (ry, rx) with the scan step, (qy, qx) with the detector step.
  std::vector<Axis> scan_axes() const;
  std::vector<Axis> detector_axes() const;
  // Throws FormatError naming `path` if any extent is not positive.
  void validate() const;
};

class Source {
 public:
  virtual ~Source() = default;
  const DatasetInfo& info() const { return info_; }

  // Decodes frames [first, first + count) into `dst` (count * frame_bytes bytes, C order
  // (count, qy, qx), dtype info().dtype). Safe to call from several threads at once.
  // Throws IoError/FormatError naming the file and frame when the data cannot be read.
  virtual void read(std::int64_t first, std::int64_t count, std::byte* dst) = 0;

  // Zero-copy access: a pointer to frames [first, first + count) laid out as read()
  // would write them, valid until release() of that range, or nullptr when the source
  // must decode (the engine then calls read()).
  virtual const std::byte* view(std::int64_t /*first*/, std::int64_t /*count*/) { return nullptr; }
  // The engine is done with frames [first, first + count) of a view(): a memory-mapped
  // source drops them from the resident set so memory stays within the budget.
  virtual void release(std::int64_t /*first*/, std::int64_t /*count*/) {}

  // Blocks that are a multiple of this many frames read fastest (e.g. an HDF5 chunk).
  virtual std::int64_t preferred_block_frames() const { return 1; }

 protected:
  DatasetInfo info_;
  // Throws InvalidArgument unless [first, first + count) lies inside the scan.
  void check_range(std::int64_t first, std::int64_t count) const;
};

}  // namespace scandiff::io
