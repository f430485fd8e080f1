// PadQ: a preparation stage adding `top`/`bottom` rows and `left`/`right` columns of a constant
// `value` around every frame. The dtype is unchanged; the origin moves by (+top, +left).
#pragma once

#include <cstdint>

#include "scandiff/engine/frame_stage.hpp"

namespace scandiff::engine {

class PadQ final : public FrameStage {
 public:
  PadQ(std::int64_t top, std::int64_t bottom, std::int64_t left, std::int64_t right, double value = 0);

  std::string name() const override { return "pad_q"; }
  // Throws InvalidArgument for a negative padding or a value the dtype cannot hold exactly.
  io::DatasetInfo prepare(const io::DatasetInfo& in) override;
  void apply(const FrameBlock& in, std::byte* out) const override;
  Metadata parameters() const override;

 private:
  std::int64_t top_, bottom_, left_, right_;
  double value_;
};

}  // namespace scandiff::engine
