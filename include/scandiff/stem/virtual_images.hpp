// Many virtual detectors in one sweep over each frame:
//   VI_d[ry, rx] = Σ_{qy, qx} frame[ry, rx, qy, qx] · w_d[qy, qx]        (float64)
// as py4DSTEM's get_virtual_image, for every detector d at once. The detectors' weights are
// merged into row segments sorted by pixel (src/stem/detector_sweep.hpp), so a frame is read
// once whatever the number of detectors, and the cost of N detectors stays close to one.
//
// shift_center (stem/center_shift.hpp), with s = origin − mean origin at each position
// (stem/calibrated_origin.hpp; the calibration's per-position maps):
//   integer   w_d rolled by rint(s): VI = Σ_q w_d[q] · frame[(q + rint(s)) mod shape];
//   subpixel  w_d shifted bilinearly by s, as py4DSTEM's get_shifted_ar(bilinear=True):
//             with F = floor(s), f = s − F, the shifted mask is
//             Σ_{a,b∈{0,1}} roll(w_d, (F_y + a, F_x + b)) · (a ? f_y : 1 − f_y) · (b ? f_x : 1 − f_x),
//             so VI is the same weighted sum of four rolled-detector sums (four sweeps of a
//             frame already in cache).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/center_shift.hpp"
#include "scandiff/stem/detector.hpp"
#include "scandiff/stem/calibrated_origin.hpp"

namespace scandiff::stem {

namespace detail {
class DetectorSweep;
}

struct NamedDetector {
  std::string name;  // the result's name, e.g. "bright_field"
  Detector detector;
};

class VirtualImages : public engine::Analysis {
 public:
  // Throws InvalidArgument for an empty list, duplicate or empty names, or detectors of
  // different frame shapes.
  explicit VirtualImages(std::vector<NamedDetector> detectors, CenterShift shift = CenterShift::none);
  ~VirtualImages() override;

  std::string name() const override { return "virtual_images"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override;
  bool frame_local() const override { return true; }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  std::vector<Result> results() const override;

  std::size_t size() const { return detectors_.size(); }
  const NamedDetector& detector(std::size_t i) const { return detectors_.at(i); }
  // The (ry, rx) float64 image of detector i, after the run.
  const Array& image(std::size_t i) const { return images_.at(i); }

 private:
  std::vector<NamedDetector> detectors_;
  CenterShift shift_;
  std::unique_ptr<detail::DetectorSweep> sweep_;
  std::vector<Array> images_;
  Origin origin_;
  io::DatasetInfo info_;
};

}  // namespace scandiff::stem
