// CropQ: a preparation stage keeping the detector rectangle rows [qy_begin, qy_end) and
// columns [qx_begin, qx_end) (end exclusive, detector pixels) of every frame. The dtype is
// unchanged; the origin moves by (-qy_begin, -qx_begin) (map_detector_pixels).
#pragma once

#include <cstdint>

#include "scandiff/engine/frame_stage.hpp"

namespace scandiff::engine {

class CropQ final : public FrameStage {
 public:
  CropQ(std::int64_t qy_begin, std::int64_t qy_end, std::int64_t qx_begin, std::int64_t qx_end);

  std::string name() const override { return "crop_q"; }
  // Throws InvalidArgument unless 0 <= begin < end <= frame extent on both axes.
  io::DatasetInfo prepare(const io::DatasetInfo& in) override;
  void apply(const FrameBlock& in, std::byte* out) const override;
  Metadata parameters() const override;

 private:
  std::int64_t qy0_, qy1_, qx0_, qx1_;
};

}  // namespace scandiff::engine
