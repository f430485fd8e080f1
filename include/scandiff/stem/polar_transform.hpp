// The polar (elliptical) transform of a diffraction pattern about its origin, as py4DSTEM's
// PolarDatacube defines it (stem-algorithms.md §7), in scandiff's axes (docs/conventions.md).
//
// Grid: radial bins r_j = qmin + j·qstep (pixels), j < ceil((qmax − qmin)/qstep), qmax defaults
// to min(frame_y, frame_x)/√2; annular bins φ_k = k·Δφ, Δφ = 2π/n_annular (π/n_annular with
// two-fold symmetry), φ measured from +qx toward +qy.
// Pixel (qy, qx) relative to the origin: dx = qx − qx0, dy = qy − qy0. With an ellipse
// (a, b, θ; θ = angle of the a-axis from +qx):
//   xc = dx·cosθ + dy·sinθ,  yc = (dy·cosθ − dx·sinθ)·(a/b),
//   r = (b/a)·√(xc² + yc²),  φ = (atan2(yc, xc) + θ) mod range
// so the ellipse maps onto the circle of radius b; without one, r = √(dx² + dy²), φ = atan2(dy, dx).
// Each unmasked pixel's intensity is split bilinearly over the four bins around
// (r − qmin)/qstep, φ/Δφ (φ wraps around). Columns j with σ_j = 0.5/(Δφ·(r_j + qstep/2)) > 0.1669
// are smoothed along φ with a Gaussian of σ_j (in bins; truncate 4, wrapping), as py4DSTEM's
// angular KDE. The same splat of the (unmasked) pixel count gives the normalisation N; the
// polar image is data/N, and NaN where N/(Δφ·(r_j + qstep/2)) < mask_threshold (unsampled).
// py4DSTEM measures its angle from its first detector axis (our qy), so its polar image is ours
// with φ_py = π/2 − φ; with n_annular a multiple of 4 the bins map one to one and azimuthal
// statistics agree. With angle_from_qy the transform uses φ_py itself (bin k of row k is
// py4DSTEM's), so statistics agree for any n_annular.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"

namespace scandiff::stem {

struct PolarOptions {
  double qmin_px = 0;
  std::optional<double> qmax_px;  // default min(frame_y, frame_x)/√2
  double qstep_px = 1;
  std::int64_t n_annular = 180;
  bool two_fold = false;          // φ mod π
  double mask_threshold = 0.1;
  bool angular_smoothing = true;  // py4DSTEM's KDE along φ
  bool angle_from_qy = false;     // φ from +qy toward +qx (py4DSTEM's angle π/2 − φ), see above

  // Throws InvalidArgument naming the option unless qstep > 0, qmin >= 0, qmax > qmin,
  // n_annular >= 2 and mask_threshold >= 0.
  void validate() const;
  // The number of radial bins for (frame_y, frame_x) frames: ceil((qmax − qmin)/qstep) (numpy.arange).
  std::int64_t n_radial(std::int64_t frame_y, std::int64_t frame_x) const;
};

// The splat plan for one frame shape, origin, ellipse and mask: build once, apply to many frames.
class PolarTransform {
 public:
  // `mask`: optional (frame_y, frame_x) uint8 array, non-zero = excluded pixel.
  PolarTransform(std::int64_t frame_y, std::int64_t frame_x, double origin_qy_px, double origin_qx_px,
                 const std::optional<Ellipse>& ellipse, const PolarOptions& options, const Array* mask = nullptr);

  std::int64_t n_radial() const { return n_radial_; }
  std::int64_t n_annular() const { return n_annular_; }
  double qmin_px() const { return qmin_; }
  double qstep_px() const { return qstep_; }
  double annular_step_rad() const { return dphi_; }
  // Whether the bin (k, j) (annular k, radial j) is sampled (not NaN in every output).
  bool valid(std::int64_t k, std::int64_t j) const { return inv_norm_[static_cast<std::size_t>(k * n_radial_ + j)] > 0; }

  // The polar image of `frame` (frame_y·frame_x values, C order) into `out` ((n_annular,
  // n_radial), C order, NaN where unsampled). `scratch` is resized as needed (reuse it).
  template <class T>
  void apply(const T* frame, std::span<double> out, std::vector<double>& scratch) const;

  // Per radial bin j: mean over the sampled φ bins of the polar image and the mean squared
  // deviation from it (variance, not normalised); NaN where no φ bin is sampled.
  template <class T>
  void azimuthal_mean_var(const T* frame, std::span<double> mean, std::span<double> var,
                          std::vector<double>& scratch) const;

 private:
  struct Splat {
    std::int32_t pixel;  // linear detector index
    std::int32_t r0;     // floor of the radial index (−1 .. n_radial − 1)
    std::int32_t t0;     // floor of the annular index, already wrapped
    double dr, dt;       // fractional parts
  };
  template <class Value>
  void splat(Value value, std::span<double> acc) const;
  void smooth(std::span<double> acc, std::vector<double>& column) const;

  std::int64_t n_radial_ = 0, n_annular_ = 0;
  double qmin_ = 0, qstep_ = 1, dphi_ = 0;
  std::vector<Splat> splats_;
  std::vector<std::vector<double>> kernels_;  // per radial bin: KDE weights (empty: none)
  std::vector<double> inv_norm_;              // 1/N per bin, 0 where unsampled
};

}  // namespace scandiff::stem
