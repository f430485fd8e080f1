// The radial background of one diffraction pattern, as py4DSTEM 0.14 defines it
// (DataCube.get_radial_bkgrnd, sigma = 2, used by find_Bragg_disks(radial_bksb=True)), in
// scandiff's axes (docs/conventions.md). For a frame with origin (qy0, qx0) and an optional
// ellipse (a, b, θ):
//   1. P(k, j) = the polar transform of the frame (polar_transform.hpp; radial bins
//      r_j = qmin + j·qstep px, annular bins k, NaN where unsampled);
//   2. m_j = median over the sampled annular bins of P(·, j) (numpy's rule: mean of the two
//      middle values for an even count); m_j = 0 where no annular bin of column j is sampled;
//   3. m ← gaussian_filter1d(m, σ) along j, σ in radial bins (scipy: mode 'reflect', truncate 4;
//      σ = 0: none);
//   4. at pixel (qy, qx), with dx = qx − qx0, dy = qy − qy0 and (1, 1, 0) without an ellipse:
//        xc = dx·cosθ + dy·sinθ,  yc = (dy·cosθ − dx·sinθ)·(a/b),  ρ = √(xc² + yc²)
//      and background(qy, qx) = the piecewise-linear interpolation of (r_j, m_j) at ρ, extended
//      linearly beyond r_0 and r_{n−1} by the two end segments (scipy's
//      interp1d(fill_value="extrapolate")).
//      Note ρ = (a/b)·r, r the polar transform's radius: py4DSTEM maps the ellipse onto radius b in
//      the polar image but onto radius a here, and we follow it. Without an ellipse ρ = r.
//   5. subtract(): frame ← max(frame − background, 0) (get_radial_bksb_dp).
// py4DSTEM's angle is measured from its first detector axis (our qy) and its θ_py = π/2 − θ; the
// polar transform here uses py4DSTEM's angle bins (PolarOptions::angle_from_qy, set whatever
// `polar` says), since with n_annular not a multiple of 4 they are not a permutation of ours and
// the medians would differ; ρ is the same number in both conventions.
//
// Cost: the polar plan (PolarTransform: one atan2 and square root per pixel) and each pixel's
// interpolation segment depend on the origin. A Workspace keeps them for the last origin it saw
// and rebuilds them only when the origin changes, so a constant origin builds them once per
// workspace (thread), and a per-position origin map pays them at every pattern
// (docs/bragg-and-strain.md gives the numbers). Memory: about 45 bytes per pixel per workspace
// (32 for the plan, 12 for the segments).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scandiff/core/calibration.hpp"
#include "scandiff/stem/polar_transform.hpp"

namespace scandiff::stem {

class RadialBackground {
 public:
  // Per-thread buffers and, for the last origin, the polar plan and each pixel's interpolation
  // segment and weight (contents are scratch).
  struct Workspace {
    std::optional<PolarTransform> plan;
    double plan_qy = 0, plan_qx = 0;  // the origin `plan` was built for
    std::vector<std::int32_t> segment;  // per pixel: the first bin of its interpolation segment
    std::vector<double> weight;         // per pixel: (ρ − r_segment)/qstep
    std::vector<double> polar, column, profile, smoothed, scratch;
  };

  // Frames of (frame_y, frame_x) pixels; `polar` the binning (PolarOptions defaults are
  // py4DSTEM's PolarDatacube defaults); `sigma_bins` the radial smoothing of the profile.
  // Throws InvalidArgument for a bad frame shape, ellipse or polar options (PolarOptions::validate),
  // fewer than 2 radial bins (the interpolation needs two), more than 2^24 polar bins, or
  // sigma_bins < 0.
  RadialBackground(std::int64_t frame_y, std::int64_t frame_x, const std::optional<Ellipse>& ellipse,
                   const PolarOptions& polar, double sigma_bins = 2);

  std::int64_t frame_y() const { return frame_y_; }
  std::int64_t frame_x() const { return frame_x_; }
  std::int64_t n_radial() const { return n_radial_; }
  // r_j = qmin + j·qstep, pixels.
  double radius_px(std::int64_t j) const { return polar_.qmin_px + static_cast<double>(j) * polar_.qstep_px; }

  // The smoothed profile m_j (steps 1–3) of `frame` (frame_y·frame_x values, C order) about the
  // origin (qy0, qx0) in pixels, into ws.smoothed (n_radial values). Throws InvalidArgument for a
  // non-finite origin.
  void profile(const double* frame, double origin_qy_px, double origin_qx_px, Workspace& ws) const;
  // The background image (steps 1–4) into `out` (frame_y·frame_x values, C order).
  void background(const double* frame, double origin_qy_px, double origin_qx_px, std::span<double> out,
                  Workspace& ws) const;
  // frame ← max(frame − background, 0), in place (steps 1–5).
  void subtract(double* frame, double origin_qy_px, double origin_qx_px, Workspace& ws) const;

 private:
  // Builds ws's plan, segments and weights for this origin unless they are for it already.
  void prepare(double origin_qy_px, double origin_qx_px, Workspace& ws) const;
  // Calls fn(pixel index, background value) for every pixel, after profile().
  template <class Fn>
  void for_each_pixel(const Workspace& ws, Fn fn) const;

  std::int64_t frame_y_, frame_x_, n_radial_ = 0;
  std::optional<Ellipse> ellipse_;
  PolarOptions polar_;
  std::vector<double> kernel_;  // radial smoothing weights (empty: none)
};

}  // namespace scandiff::stem
