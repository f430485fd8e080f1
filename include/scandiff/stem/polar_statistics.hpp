// Azimuthal statistics of every pattern and fluctuation electron microscopy (FEM), in one pass:
// each pattern is polar-transformed about its origin (polar_transform.hpp), then per scan
// position and radial bin q:
//   azimuthal_mean[ry, rx, q] = <I(q, φ)>_φ             (over the sampled φ bins)
//   azimuthal_var[ry, rx, q]  = <(I(q, φ) − <I>_φ)²>_φ   (not normalised; epsic's _azimuthal_var)
// and over the positions P (py4DSTEM's calculate_radial_statistics / calculate_FEM_local):
//   radial_mean(q)     = <azimuthal_mean>_P
//   radial_var(q)      = <(azimuthal_mean − radial_mean)²>_P
//   radial_var_norm(q) = radial_var/radial_mean²   (the FEM normalised variance V(k) across
//                        positions; left undivided where radial_mean <= 0, as py4DSTEM does)
//   local_var_norm(q)  = <azimuthal_var/azimuthal_mean²>_P  (the mean local normalised variance)
// Positions where a bin is unsampled (NaN) are left out of that bin's averages.
//
// Origin: the calibration's per-position maps (the transform is rebuilt per pattern) or its
// global origin; without either, the frame centre ((n − 1)/2) with a warning. Ellipse: the
// calibration's, unless Options says otherwise.
#pragma once

#include <optional>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/calibrated_origin.hpp"
#include "scandiff/stem/polar_transform.hpp"

namespace scandiff::stem {

class PolarStatistics : public engine::Analysis {
 public:
  struct Options {
    PolarOptions polar{};
    bool use_ellipse = true;          // apply the calibration's ellipse (if any)
    std::optional<Ellipse> ellipse;   // overrides the calibration's
    Array mask;                       // optional (qy, qx) uint8, non-zero = excluded
  };
  PolarStatistics() : PolarStatistics(Options{}) {}
  explicit PolarStatistics(Options options);

  std::string name() const override { return "polar_statistics"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void finish() override;
  std::vector<Result> results() const override;

  // After the run: (ry, rx, n_q) float64 profiles and the (n_q) statistics.
  const Array& azimuthal_mean() const { return mean_; }
  const Array& azimuthal_var() const { return var_; }
  const std::vector<double>& radial_mean() const { return radial_mean_; }
  const std::vector<double>& radial_var() const { return radial_var_; }
  const std::vector<double>& radial_var_norm() const { return radial_var_norm_; }
  const std::vector<double>& local_var_norm() const { return local_var_norm_; }
  std::int64_t n_q() const { return n_q_; }
  double qmin_px() const { return options_.polar.qmin_px; }
  double qstep_px() const { return options_.polar.qstep_px; }

 private:
  Options options_;
  io::DatasetInfo info_;
  Origin origin_;
  bool per_position_ = false;
  std::optional<Ellipse> ellipse_;
  std::optional<PolarTransform> global_;  // the transform when the origin is global
  std::int64_t n_q_ = 0;
  Array mean_, var_;
  std::vector<double> radial_mean_, radial_var_, radial_var_norm_, local_var_norm_;
  Metadata provenance_;
};

}  // namespace scandiff::stem
