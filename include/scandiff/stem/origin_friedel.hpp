// The diffraction origin at every scan position from Friedel symmetry (py4DSTEM's
// get_origin_friedel without a mask and with upsample_factor 1): a pattern symmetric about c,
// I(c + q) = I(c − q), has its autoconvolution (I ∗ I)(s) = Σ_p I(p)·I(s − p) largest at s = 2c.
//   1. zero-pad the frame (float64) to (2·qy, 2·qx), A = IFFT(FFT(padded)²) (real part);
//   2. (sy, sx) = argmax of A; refine each axis by a parabola through the peak and its two
//      neighbours: δ = (A₊ − A₋) / (4A₀ − 2A₊ − 2A₋) (0 when the denominator is 0);
//   3. origin = ((sy + δy)/2 mod qy, (sx + δx)/2 mod qx), detector pixels.
// Uses the whole pattern, not only the central disk, so it is robust to a saturated or
// off-centre brightest feature, but needs a pattern whose intensity is Friedel-symmetric (no
// beam stop, no strong dynamical asymmetry). py4DSTEM's masked (beam stop) form is not
// implemented. Axes: py4DSTEM's qx0 is our origin_qy (rows).
#pragma once

#include <memory>

#include "scandiff/analysis/fft.hpp"
#include "scandiff/engine/analysis.hpp"

namespace scandiff::stem {

class OriginFriedel : public engine::Analysis {
 public:
  std::string name() const override { return "origin_friedel"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return qy_.nbytes() + qx_.nbytes(); }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  // "origin_qy" and "origin_qx": float64 (ry, rx) maps in detector pixels.
  std::vector<Result> results() const override;

  const Array& origin_qy() const { return qy_; }
  const Array& origin_qx() const { return qx_; }

 private:
  io::DatasetInfo info_;
  std::unique_ptr<analysis::RealFft2D> fft_;
  Array qy_, qx_;
};

}  // namespace scandiff::stem
