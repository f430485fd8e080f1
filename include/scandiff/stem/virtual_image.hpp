// Virtual imaging: for every scan position, the detector-weighted sum of its frame,
//   VI[ry, rx] = sum_{qy, qx} frame[ry, rx, qy, qx] * weight[qy, qx]   (float64),
// as py4DSTEM's get_virtual_image. Any number of detectors share one pass.
#pragma once

#include <string>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/detector.hpp"

namespace scandiff::stem {

class VirtualImage : public engine::Analysis {
 public:
  VirtualImage(std::string name, Detector detector);

  std::string name() const override { return name_; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return image_.nbytes(); }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  std::vector<Result> results() const override;

  // The (ry, rx) float64 image.
  const Array& image() const { return image_; }

 private:
  std::string name_;
  Detector detector_;
  Array image_;
  io::DatasetInfo info_;
};

}  // namespace scandiff::stem
