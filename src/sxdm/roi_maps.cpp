#include "scandiff/sxdm/roi_maps.hpp"

#include <set>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::sxdm {

namespace {

std::vector<RoiBox> named(const std::vector<DetectorBox>& boxes) {
  std::vector<RoiBox> out;
  for (std::size_t i = 0; i < boxes.size(); ++i) out.push_back({fmt::format("roi_{}", i), boxes[i]});
  return out;
}

}  // namespace

RoiMaps::RoiMaps(std::vector<RoiBox> boxes) : boxes_(std::move(boxes)) {
  if (boxes_.empty()) throw InvalidArgument("sxdm roi: no box given");
  std::set<std::string> names;
  for (const RoiBox& b : boxes_) {
    if (b.name.empty()) throw InvalidArgument("sxdm roi: a box has an empty name");
    if (!names.insert(b.name).second) throw InvalidArgument(fmt::format("sxdm roi: two boxes are named '{}'", b.name));
  }
}

RoiMaps::RoiMaps(const std::vector<DetectorBox>& boxes) : RoiMaps(named(boxes)) {}

RoiMaps::~RoiMaps() = default;

void RoiMaps::prepare(const io::DatasetInfo& info) {
  std::vector<stem::NamedDetector> detectors;
  for (const RoiBox& b : boxes_) {
    b.box.check_inside(info.frame_y, info.frame_x, fmt::format("sxdm roi: box '{}'", b.name));
    // Integer edges: numpy rounding leaves them as they are, so rows y0..y1-1, columns x0..x1-1.
    stem::Detector d = stem::Detector::rectangle(info.frame_y, info.frame_x, static_cast<double>(b.box.y0),
                                                 static_cast<double>(b.box.y1), static_cast<double>(b.box.x0),
                                                 static_cast<double>(b.box.x1));
    d.annotate("box_x0_y0_x1_y1", b.box.to_json());
    detectors.push_back({b.name, std::move(d)});
  }
  images_ = std::make_unique<stem::VirtualImages>(std::move(detectors));
  images_->prepare(info);
}

std::size_t RoiMaps::output_bytes() const { return images_ ? images_->output_bytes() : 0; }

void RoiMaps::process(const engine::FrameBlock& block, engine::Partial* partial) { images_->process(block, partial); }

std::vector<Result> RoiMaps::results() const {
  if (!images_) throw InvalidArgument("sxdm roi: results() before the pass");
  std::vector<Result> out = images_->results();
  for (Result& r : out) r.provenance["analysis"] = "sxdm_roi";
  return out;
}

const Array& RoiMaps::map(std::size_t i) const {
  if (!images_) throw InvalidArgument("sxdm roi: map() before the pass");
  return images_->image(i);
}

}  // namespace scandiff::sxdm
