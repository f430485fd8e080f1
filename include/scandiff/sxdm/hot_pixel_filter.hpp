// SelectiveMedianFrames: sxdm's selective median rule (profile_filter.hpp) on 2-D frames, as an
// engine preparation stage, so hot (and optionally dead) pixels are repaired while streaming,
// before any analysis sees the frames.
//
// For every pixel (qy, qx) of a frame I, with the window clipped at the frame edges
//   W = I[max(0, qy − d) .. min(H − 1, qy + d), max(0, qx − d) .. min(W − 1, qx + d)]   (k = 2d + 1)
//   m = median(W)   (the pixel itself included; numpy's rule for an even count)
//   out = m   if I > m + height, or (with_low) if I < m − height;   out = I otherwise.
// Unlike the 1-D rule, every window reads the original frame (not the values already replaced),
// so the result does not depend on the order pixels are visited. Integer dtypes get the median
// rounded half away from zero. Frame shape and dtype are unchanged.
// Cost: a pixel can only change when I > min(W) + height or I < max(W) − height (min and max by
// separable passes); only those pixels compute a median. Scratch: two frames per block in flight.
#pragma once

#include <cstdint>

#include "scandiff/core/array.hpp"
#include "scandiff/engine/frame_stage.hpp"

namespace scandiff::sxdm {

struct HotPixelOptions {
  std::int64_t half_window = 1;  // d: the window is (2d + 1) × (2d + 1) pixels
  double height = 100;           // counts above (below) the window median that mark a hot (dead) pixel
  bool with_low = false;         // also replace pixels below median − height
};

class SelectiveMedianFrames final : public engine::FrameStage {
 public:
  // Throws InvalidArgument for half_window < 1 or > 16, or a negative or non-finite height.
  explicit SelectiveMedianFrames(HotPixelOptions options);

  std::string name() const override { return "selective_median"; }
  io::DatasetInfo prepare(const io::DatasetInfo& in) override { return in; }
  void apply(const engine::FrameBlock& in, std::byte* out) const override;
  Metadata parameters() const override;
  const HotPixelOptions& options() const { return options_; }

 private:
  HotPixelOptions options_;
};

// The same filter on one 2-D (qy, qx) image of any dtype: a new C-contiguous array of its dtype.
Array selective_median_image(const Array& image2d, const HotPixelOptions& options);

}  // namespace scandiff::sxdm
