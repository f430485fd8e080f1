// Centre of mass of every diffraction pattern (stem-algorithms.md §9), in detector pixel
// indices — pixel (i, j) has its centre at (qy, qx) = (i, j):
//   com_x[ry, rx] = Σ_q w[q]·I[q]·qx / Σ_q w[q]·I[q]
//   com_y[ry, rx] = Σ_q w[q]·I[q]·qy / Σ_q w[q]·I[q]
// with w an optional detector mask used as weights (w = 1 without one), as py4DSTEM's
// get_CoM and the DPC class's CoM (intensities multiplied by dp_mask).
// Naming: x = qx (detector column), y = qy (row), as everywhere in scandiff. py4DSTEM's com_x is
// along its Qx, the row axis, i.e. our com_y (and its com_y is our com_x).
// relative_to_origin: the origin at each position (stem/calibrated_origin.hpp: per-position maps, or the
// global origin) is subtracted, so a pattern centred on its origin has CoM (0, 0).
// A pattern with Σ w·I = 0 gives NaN. Integer frames with a binary (or no) mask are summed
// exactly: column and row sums in integers, then the moments in float64.
#pragma once

#include <optional>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/detector.hpp"
#include "scandiff/stem/calibrated_origin.hpp"

namespace scandiff::stem {

class CenterOfMass : public engine::Analysis {
 public:
  struct Options {
    std::optional<Detector> mask;     // weights over (qy, qx); none: every pixel, weight 1
    bool relative_to_origin = false;  // subtract the calibrated origin
  };
  CenterOfMass() : CenterOfMass(Options{}) {}
  explicit CenterOfMass(Options options);

  std::string name() const override { return "center_of_mass"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return com_x_.nbytes() + com_y_.nbytes(); }
  bool frame_local() const override { return true; }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  std::vector<Result> results() const override;

  const Array& com_x() const { return com_x_; }  // (ry, rx) float64, detector pixels along qx
  const Array& com_y() const { return com_y_; }  // (ry, rx) float64, detector pixels along qy

 private:
  Options options_;
  std::vector<Detector::Run> runs_;  // the mask's runs, or one run per detector row
  bool uniform_ = true;              // all runs have one weight: integer fast path
  bool whole_frame_ = true;          // ... covering every pixel (no mask)
  io::DatasetInfo info_;
  Origin origin_;
  Array com_x_, com_y_;
};

}  // namespace scandiff::stem
