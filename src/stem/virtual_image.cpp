#include "scandiff/stem/virtual_image.hpp"

namespace scandiff::stem {

namespace {
std::vector<NamedDetector> one(std::string name, Detector detector) {
  std::vector<NamedDetector> v;
  v.push_back({std::move(name), std::move(detector)});
  return v;
}
}  // namespace

VirtualImage::VirtualImage(std::string name, Detector detector, CenterShift shift)
    : VirtualImages(one(std::move(name), std::move(detector)), shift) {}

}  // namespace scandiff::stem
