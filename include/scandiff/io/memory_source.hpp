// A Source over an array already in memory: (ry, rx, qy, qx), or a frame stack
// (n, qy, qx) with an explicit scan shape. The array's memory must outlive the source.
#pragma once

#include "scandiff/io/source.hpp"

namespace scandiff::io {

class MemorySource : public Source {
 public:
  // 4D array (ry, rx, qy, qx), any strides.
  explicit MemorySource(Array data, Calibration calibration = {});
  // 3D frame stack (n, qy, qx) with n == scan_y * scan_x.
  MemorySource(Array frames, std::int64_t scan_y, std::int64_t scan_x, Calibration calibration = {});

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;
  const std::byte* view(std::int64_t first, std::int64_t count) override;

 private:
  Array data_;  // reshaped view (frames, qy, qx)
};

}  // namespace scandiff::io
