// Virtual imaging with one detector: for every scan position, the detector-weighted sum of
// its frame,
//   VI[ry, rx] = sum_{qy, qx} frame[ry, rx, qy, qx] * weight[qy, qx]   (float64),
// as py4DSTEM's get_virtual_image. VirtualImages (virtual_images.hpp) evaluates many detectors
// in one sweep over each frame; this is its one-detector form, with the same shift_center options.
#pragma once

#include <string>

#include "scandiff/stem/virtual_images.hpp"

namespace scandiff::stem {

class VirtualImage : public VirtualImages {
 public:
  VirtualImage(std::string name, Detector detector, CenterShift shift = CenterShift::none);

  std::string name() const override { return detector(0).name; }
  // The (ry, rx) float64 image.
  const Array& image() const { return VirtualImages::image(0); }
};

}  // namespace scandiff::stem
