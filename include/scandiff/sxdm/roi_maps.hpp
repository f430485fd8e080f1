// SXDM ROI maps: the summed intensity inside any number of detector boxes at every scan position,
//   roi_k[ry, rx] = Σ_{y0 <= qy < y1, x0 <= qx < x1} I[ry, rx, qy, qx]     (float64, counts)
// in one pass. A box is a rectangle virtual detector, so this runs on stem::VirtualImages: the
// boxes are merged into row segments and each frame is read once, whatever the number of boxes.
// (sxdm's region_of_interest additionally median-filters the 2θ profile of each box; use the
// 2-D hot-pixel stage, hot_pixel_filter.hpp, before the pass for that.)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/virtual_images.hpp"
#include "scandiff/sxdm/detector_box.hpp"

namespace scandiff::sxdm {

struct RoiBox {
  std::string name;  // the result's name, e.g. "roi_0"
  DetectorBox box;
};

class RoiMaps final : public engine::Analysis {
 public:
  // Throws InvalidArgument for an empty list or duplicate or empty names.
  explicit RoiMaps(std::vector<RoiBox> boxes);
  // Boxes named roi_0, roi_1, ... in the order given.
  explicit RoiMaps(const std::vector<DetectorBox>& boxes);
  ~RoiMaps() override;

  std::string name() const override { return "sxdm_roi"; }
  // Throws InvalidArgument naming the box that is outside the frame.
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  // One (ry, rx) float64 map per box, in counts, named as the boxes.
  std::vector<Result> results() const override;

  const std::vector<RoiBox>& boxes() const { return boxes_; }
  const Array& map(std::size_t i) const;  // after the run

 private:
  std::vector<RoiBox> boxes_;
  std::unique_ptr<stem::VirtualImages> images_;
};

}  // namespace scandiff::sxdm
