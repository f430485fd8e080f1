// ScanSubset: a Source showing a cropped and/or thinned part of another Source's scan (crop and
// thin in R, i.e. over scan positions). Its scan row i is the inner row ry_begin + i·step and its
// column j the inner column rx_begin + j·step, for ry_begin + i·step < ry_end and
// rx_begin + j·step < rx_end. Frames are unchanged.
//
// Calibration: scan_pixel_size is multiplied by `step` (one step for both axes, so a single scan
// pixel size stays valid); per-position origin maps are cut the same way. metadata["scan_subset"]
// records the parameters. read() reads runs of frames that are consecutive in the inner source
// with one inner read each (a whole row when step is 1), so it is thread-safe whenever the inner
// source is. No zero-copy view.
#pragma once

#include <cstdint>
#include <memory>

#include "scandiff/io/source.hpp"

namespace scandiff::io {

class ScanSubset final : public Source {
 public:
  // Throws InvalidArgument naming the parameter unless 0 <= begin < end <= the inner extent on
  // each axis and step >= 1.
  ScanSubset(std::shared_ptr<Source> inner, std::int64_t ry_begin, std::int64_t ry_end, std::int64_t rx_begin,
             std::int64_t rx_end, std::int64_t step = 1);

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;

  // The inner frame index of this source's frame `i`.
  std::int64_t inner_frame(std::int64_t i) const;

 private:
  std::shared_ptr<Source> inner_;
  std::int64_t ry0_, rx0_, step_;
};

}  // namespace scandiff::io
