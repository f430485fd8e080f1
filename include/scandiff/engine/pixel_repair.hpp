// RepairPixels: a preparation stage that replaces listed bad (hot or dead) detector pixels in
// every frame by the median of their good neighbours.
//
// For a bad pixel p = (qy, qx) the value written is the median of the frame over the pixels of
// the 3×3 window centred on p that are inside the frame and not themselves listed as bad
// (at most 8). If there is none, the 5×5 window is used the same way (at most 24); if that has
// none either, the pixel is set to 0. With an even number of values the median is the mean of
// the two middle ones (numpy's rule), rounded half away from zero for integer dtypes.
// py4DSTEM (filter_hot_pixels) takes the median of the full 3×3 window, the bad pixel and any
// bad neighbours included; excluding them keeps a cluster of bad pixels from leaking into the
// repair. Frame shape and dtype are unchanged; only the listed pixels change.
#pragma once

#include <compare>
#include <cstdint>
#include <vector>

#include "scandiff/engine/frame_stage.hpp"

namespace scandiff::engine {

// One detector pixel, (row, column) = (qy, qx).
struct DetectorPixel {
  std::int64_t qy = 0;
  std::int64_t qx = 0;
  auto operator<=>(const DetectorPixel&) const = default;
};

class RepairPixels final : public FrameStage {
 public:
  // Duplicates are ignored. Pixels are checked against the frame in prepare().
  explicit RepairPixels(std::vector<DetectorPixel> pixels);

  std::string name() const override { return "repair_pixels"; }
  // Throws InvalidArgument naming a pixel outside the frame.
  io::DatasetInfo prepare(const io::DatasetInfo& in) override;
  void apply(const FrameBlock& in, std::byte* out) const override;
  Metadata parameters() const override;

  const std::vector<DetectorPixel>& pixels() const { return pixels_; }

 private:
  std::vector<DetectorPixel> pixels_;  // sorted, unique
  // Per bad pixel i: its offset in the frame, and the offsets of the neighbours whose median
  // replaces it, neighbours_[first_[i] .. first_[i + 1]).
  std::vector<std::int64_t> target_, first_, neighbours_;
};

// The same repair on one 2D (qy, qx) image of any dtype (e.g. a mean or max pattern): a new,
// C-contiguous array of the image's dtype.
Array repair_pixels(const Array& image2d, const std::vector<DetectorPixel>& pixels);

}  // namespace scandiff::engine
