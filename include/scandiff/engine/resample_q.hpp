// ResampleQ: a preparation stage resampling every detector frame by a factor f with bilinear
// interpolation (py4DSTEM resample_data_diffraction(method="bilinear"), i.e. scipy.ndimage.zoom
// with order=1, mode="nearest", grid_mode=True):
//   output shape N' = round(f · N) per axis; s = N / N' (input pixels per output pixel);
//   output pixel o samples input coordinate  c = (o + 0.5) · s − 0.5,  clamped to [0, N − 1],
//   out = bilinear interpolation of the input at (c_y, c_x), computed in float64.
// The output dtype is float32 (interpolated values are not integers). Pixel areas are aligned
// (the first and last output pixels cover the frame edges), so counts are not conserved: the sum
// scales by about 1/s²; pass `conserve_sums` to multiply the output by s_y·s_x.
// Calibration: detector pixel size ×s; origin and ellipse mapped by q' = (q + 0.5)/s − 0.5
// (map_detector_pixels with scale s, shift (s − 1)/2). Both axes must get the same s (one
// detector pixel size): a factor that rounds the two axes differently is refused.
#pragma once

#include <cstdint>
#include <vector>

#include "scandiff/engine/frame_stage.hpp"

namespace scandiff::engine {

class ResampleQ final : public FrameStage {
 public:
  // Throws InvalidArgument unless 1/64 <= factor <= 64.
  explicit ResampleQ(double factor, bool conserve_sums = false);

  std::string name() const override { return "resample_q"; }
  // Throws InvalidArgument when the output would be empty or the axes get different scales.
  io::DatasetInfo prepare(const io::DatasetInfo& in) override;
  void apply(const FrameBlock& in, std::byte* out) const override;
  Metadata parameters() const override;

 private:
  // For one axis: output pixel o reads input pixels lo[o] and lo[o] + step[o] (0 or 1) with
  // weight w[o] on the second.
  struct AxisMap {
    std::vector<std::int64_t> lo, step;
    std::vector<double> w;
  };
  static AxisMap make_axis(std::int64_t in_size, std::int64_t out_size);

  double factor_;
  bool conserve_;
  double scale_ = 1;  // output value multiplier (s_y·s_x when conserving sums)
  AxisMap ymap_, xmap_;
};

}  // namespace scandiff::engine
