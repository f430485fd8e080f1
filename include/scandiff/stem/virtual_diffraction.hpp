// Virtual diffraction: pixel-wise reductions over scan positions, as py4DSTEM's
// get_virtual_diffraction / get_dp_mean / get_dp_max (stem-algorithms.md §2), in float64:
//   mean[qy, qx] = Σ_r w_r · DP_r[qy, qx] / Σ_r w_r
//   max[qy, qx]  = max_r w_r · DP_r[qy, qx]
// over the positions r that `positions` (scan_weights.hpp) lets in: all (w = 1), a selection
// (w = 1 on the selected positions only) or weights (every position, w from the array).
// The median is median_diffraction.hpp (it needs every value of a pixel at once).
//
// shift (center_shift.hpp) moves every pattern so that its origin lands on the mean origin:
// by d = mean origin − origin (the calibration's per-position maps, stem/origin.hpp),
//   integer   DP'[p] = DP[(p − rint(d)) mod shape]  (numpy.roll, wraps around the edges);
//   subpixel  DP' = Re IFFT2( FFT2(DP) · exp(−2πi (fy·d_y + fx·d_x)) )  (fy, fx = fftfreq of
//             the row and column index; py4DSTEM's get_shifted_ar), the mean accumulated in
//             Fourier space and transformed back once.
// As py4DSTEM, a shifted max starts from 0 (so it is max(0, max_r w_r·DP'_r)); an unshifted
// one from the first pattern.
#pragma once

#include <memory>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/center_shift.hpp"
#include "scandiff/stem/calibrated_origin.hpp"
#include "scandiff/stem/scan_weights.hpp"

namespace scandiff::analysis {
class Fft2;
}

namespace scandiff::stem {

class VirtualDiffraction : public engine::Analysis {
 public:
  struct Options {
    bool mean = true;
    bool max = true;
    ScanWeights positions{};  // all positions by default
    CenterShift shift = CenterShift::none;
  };
  VirtualDiffraction() : VirtualDiffraction(Options{}) {}
  explicit VirtualDiffraction(Options options);
  ~VirtualDiffraction() override;

  std::string name() const override { return "virtual_diffraction"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return sum_.nbytes() + max_.nbytes() + spectrum_bytes(); }
  std::unique_ptr<engine::Partial> make_partial() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void merge(const engine::Partial& partial) override;
  void finish() override;
  std::vector<Result> results() const override;

  const Array& mean() const { return mean_; }  // (qy, qx) float64, after the run
  const Array& max() const { return max_; }    // (qy, qx) float64, after the run

 private:
  std::size_t spectrum_bytes() const;
  Options options_;
  io::DatasetInfo info_;
  Origin origin_;
  std::shared_ptr<analysis::Fft2> fft_;  // subpixel shifts
  Array sum_, max_, mean_;
  Array spectrum_;  // subpixel mean: Σ w·FFT2(DP')  as interleaved (re, im) float64, (qy, qx, 2)
};

}  // namespace scandiff::stem
