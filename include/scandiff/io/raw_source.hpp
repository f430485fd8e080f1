// A Source over a headerless binary file: frames of (qy, qx) elements stored back to back
// in scan order after an optional header, little- or big-endian. Native-endian files are
// memory-mapped and served without copying; the engine releases mapped pages after each
// block so the resident set stays within the memory budget.
#pragma once

#include <filesystem>

#include "scandiff/io/source.hpp"

namespace scandiff::io {

struct RawLayout {
  std::int64_t scan_y = 0, scan_x = 0, frame_y = 0, frame_x = 0;
  DType dtype = DType::u16;
  std::size_t header_bytes = 0;  // bytes before the first frame
  bool big_endian = false;
};

class RawSource : public Source {
 public:
  // Throws IoError if the file cannot be opened, FormatError if it is shorter than the
  // layout requires (naming both sizes). A longer file is accepted with a warning.
  RawSource(const std::filesystem::path& path, const RawLayout& layout, Calibration calibration = {});
  ~RawSource() override;
  RawSource(const RawSource&) = delete;
  RawSource& operator=(const RawSource&) = delete;

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;
  const std::byte* view(std::int64_t first, std::int64_t count) override;
  void release(std::int64_t first, std::int64_t count) override;

 private:
  RawLayout layout_;
  int fd_ = -1;
  std::byte* map_ = nullptr;  // whole file, read-only; null when byte swapping is needed
  std::size_t map_bytes_ = 0;
  bool swap_ = false;  // file byte order differs from this machine's
};

}  // namespace scandiff::io
