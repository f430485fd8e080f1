// BinQ: a preparation stage summing k×k blocks of detector pixels (py4DSTEM bin_Q):
//   out[I, J] = sum_{a, b in [0, k)} in[k·I + a, k·J + b],   I < floor(qy / k), J < floor(qx / k)
// The remainder rows/columns at the high end are dropped (as py4DSTEM does).
//
// The dtype is promoted (core sum_dtype) so no sum can overflow or lose precision (py4DSTEM keeps
// the input dtype, so uint16 wraps: stem-algorithms.md §11.5):
//   uint8, uint16 -> uint32   (k <= 256: 65535·256² < 2^32; summed exactly in uint32)
//   uint32, int32 -> float64  (exact: 2^32·256² < 2^53)
//   float32 -> float32, float64 -> float64 (summed in float64, rounded once)
// Calibration: detector pixel size ×k; origin mapped to binned pixels, whose centres sit at old
// coordinate k·I + (k − 1)/2, i.e. q_new = (q_old − (k − 1)/2)/k (map_detector_pixels).
#pragma once

#include <cstdint>

#include "scandiff/engine/frame_stage.hpp"

namespace scandiff::engine {

class BinQ final : public FrameStage {
 public:
  // Throws InvalidArgument unless 1 <= factor <= 256.
  explicit BinQ(std::int64_t factor);

  std::string name() const override { return "bin_q"; }
  // Throws InvalidArgument when the frame is smaller than factor on an axis.
  io::DatasetInfo prepare(const io::DatasetInfo& in) override;
  void apply(const FrameBlock& in, std::byte* out) const override;
  Metadata parameters() const override;

  std::int64_t factor() const { return k_; }

 private:
  std::int64_t k_;
};

}  // namespace scandiff::engine
