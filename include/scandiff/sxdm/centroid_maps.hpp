// SXDM centroid maps (sxdm's centroid analysis, reference/sxdm.md §3), one pass over any Source.
//
// Axes: x = qx = detector column = the 2θ direction, y = qy = detector row = the χ direction (as
// sxdm: its 2θ profile sums over rows, its χ profile over columns). Frames are used in the order
// the Source gives them; no flip is applied (sxdm flips MDA values to match the 26-ID-C viewer —
// that is an orientation of the raster maps, not of the detector frames).
//
// At each scan position (ry, rx), inside the detector box B = columns x0..x1−1, rows y0..y1−1
// (the whole frame by default):
//   1. optional pixel threshold t: I(q) < t counts as 0;
//   2. profiles  P_x[i] = Σ_{y in B} I(y, x0 + i)  (2θ profile, length x1 − x0)
//                P_y[j] = Σ_{x in B} I(y0 + j, x)  (χ profile, length y1 − y0)
//      (integer frames are summed exactly in int64);
//   3. optional hot-pixel filter of both profiles (profile_filter.hpp: sxdm's selective rule or
//      scipy.signal.medfilt);
//   4. roi_sum = Σ_i P_x[i] (sxdm's full_roi: the sum of the filtered 2θ profile; the box sum when
//      no filter is set);
//   5. segmentation of each profile P (length n, mean μ, population standard deviation σ as
//      numpy's std):
//        sxdm:      if σ < stdev_min every value <= max(P) is zeroed (so the whole profile, and the
//                   centroid is NaN: "no signal"), else every value <= μ is zeroed;
//        threshold: every value <= profile_threshold is zeroed;
//        none:      P is used as is;
//   6. centroid_x = x0 + Σ_i i·P_x[i] / Σ_i P_x[i],  centroid_y = y0 + Σ_j j·P_y[j] / Σ_j P_y[j],
//      in detector pixel indices (pixel (i, j) has its centre at (qy, qx) = (i, j)); NaN where the
//      segmented profile sums to 0.
// With an X-ray geometry (.poni), also two_theta and chi (degrees): pyFAI's 2θ and χ of the
// detector point at (row, column) = (centroid_y, centroid_x), i.e. at geometric coordinates
// (centroid + 0.5) pixels with the .poni orientation flips applied (xray/geometry.hpp). The
// geometry must describe the frames as analysed (same shape).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/sxdm/detector_box.hpp"
#include "scandiff/sxdm/profile_filter.hpp"
#include "scandiff/xray/poni.hpp"

namespace scandiff::sxdm {

enum class Segmentation { none, sxdm, threshold };
// "none", "sxdm" or "threshold"; throws InvalidArgument naming `what` otherwise.
Segmentation parse_segmentation(std::string_view text, std::string_view what = "--segment");
std::string_view name_of(Segmentation s);

struct CentroidOptions {
  std::optional<DetectorBox> roi;         // none: the whole frame
  std::optional<double> pixel_threshold;  // pixels below it count as 0 (counts)
  ProfileFilter filter;                   // hot-pixel filter of the 1-D profiles
  Segmentation segmentation = Segmentation::sxdm;
  double stdev_min = 35;         // sxdm segmentation: profiles with a smaller std are "no signal"
  double profile_threshold = 0;  // threshold segmentation: profile values <= it are zeroed
  std::optional<xray::PoniGeometry> geometry;  // adds two_theta / chi maps (degrees)
};

// The centroid of one profile after segmentation (steps 5 and 6 above, without the box offset),
// in element indices; `profile` is modified (segmented) in place. NaN when it sums to 0.
double segmented_centroid(std::span<double> profile, const CentroidOptions& options);

class CentroidMaps final : public engine::Analysis {
 public:
  // Throws InvalidArgument for bad filter or segmentation parameters.
  explicit CentroidMaps(CentroidOptions options);

  std::string name() const override { return "sxdm_centroid"; }
  // Throws InvalidArgument when the box is outside the frame.
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void finish() override;
  // centroid_x, centroid_y (pixels), roi_sum (counts), and with a geometry two_theta, chi (degrees);
  // all (ry, rx) float64.
  std::vector<Result> results() const override;

  const Array& centroid_x() const { return centroid_x_; }
  const Array& centroid_y() const { return centroid_y_; }
  const Array& roi_sum() const { return roi_sum_; }
  const Array& two_theta_deg() const { return two_theta_; }  // empty without a geometry
  const Array& chi_deg() const { return chi_; }              // empty without a geometry
  const DetectorBox& box() const { return box_; }

 private:
  CentroidOptions options_;
  io::DatasetInfo info_;
  DetectorBox box_;
  Array centroid_x_, centroid_y_, roi_sum_, two_theta_, chi_;
};

}  // namespace scandiff::sxdm
