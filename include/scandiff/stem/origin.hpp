// The diffraction origin (the unscattered beam's position) at every scan position, measured as
// py4DSTEM's get_origin does (stem-algorithms.md §5), with our axis names (qy = row, qx = column;
// py4DSTEM's qx0 is our origin_qy, its qy0 our origin_qx):
//   1. blur the frame, as float64, with a Gaussian of sigma = radius_px (scipy's
//      gaussian_filter: truncate 4, mode 'nearest'; analysis/gaussian_filter.hpp);
//   2. (qy_a, qx_a) = the argmax of the blurred frame (the first maximum in C order, as np.argmax);
//   3. the origin is the centre of mass of the UNBLURRED frame over the pixels with
//      hypot(qy − qy_a, qx − qx_a) < rscale·radius_px:
//        origin_qy = Σ I·qy / Σ I,  origin_qx = Σ I·qx / Σ I   (pixel centres at integer coordinates).
// With refine_com = false the origin is (qy_a, qx_a) (py4DSTEM's fast_center). A frame whose sum
// inside the circle is 0 gets NaN (py4DSTEM also divides by zero there).
// Unlike py4DSTEM, integer frames are blurred in float64: scipy blurs uint16 input into uint16,
// truncating after each axis, which makes ties in the argmax.
#pragma once

#include "scandiff/engine/analysis.hpp"

namespace scandiff::stem {

class OriginMeasurement : public engine::Analysis {
 public:
  struct Options {
    double radius_px = 0;    // approximate radius of the central disk (e.g. measure_probe_size on the max pattern)
    double rscale = 1.2;     // the centre-of-mass circle has radius rscale·radius_px
    bool refine_com = true;  // false: the blurred argmax only
  };
  // Throws InvalidArgument naming radius_px / rscale when not > 0.
  explicit OriginMeasurement(Options options);

  std::string name() const override { return "origin"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return qy_.nbytes() + qx_.nbytes(); }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  // "origin_qy" and "origin_qx": float64 (ry, rx) maps in detector pixels.
  std::vector<Result> results() const override;

  const Array& origin_qy() const { return qy_; }
  const Array& origin_qx() const { return qx_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  io::DatasetInfo info_;
  std::vector<double> kernel_;
  Array qy_, qx_;
};

}  // namespace scandiff::stem
