// ScanBin: a Source summing k×k blocks of neighbouring scan positions (binning in R, py4DSTEM's
// bin_R). Output position (I, J) is
//   out[I, J](qy, qx) = sum_{a, b in [0, k)} in[k·I + a, k·J + b](qy, qx),
// for I < floor(scan_y / k), J < floor(scan_x / k): the remainder rows and columns of the scan are
// dropped. Frames keep their shape; the dtype is promoted with core sum_dtype (uint16 -> uint32,
// ...) so no sum overflows (py4DSTEM keeps the input dtype, so uint16 wraps).
//
// Calibration: scan_pixel_size is multiplied by k; per-position origin maps become the mean of
// the k×k origins of each block. metadata["scan_bin"] records the factor and the inner scan
// shape. read() is thread-safe whenever the inner source is; it reads at most ~8 MiB of inner
// frames at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "scandiff/io/source.hpp"

namespace scandiff::io {

class ScanBin final : public Source {
 public:
  // Throws InvalidArgument unless 1 <= factor <= 256 and factor <= both scan extents.
  ScanBin(std::shared_ptr<Source> inner, std::int64_t factor);

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;

  std::int64_t factor() const { return k_; }

 private:
  std::shared_ptr<Source> inner_;
  std::int64_t k_;
};

}  // namespace scandiff::io
