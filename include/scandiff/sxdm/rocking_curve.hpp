// Rocking curves of an SXDM frameset (sxdm's gaus_checker): for each scan s,
//   I_s = Σ_{p ∈ FOV, p covered by scan s} Σ_{q ∈ ROI} frame_s(p)[q]
// over its background-subtracted frames aligned onto the reference grid (frameset.hpp), where
// the ROI is a detector box (a rectangle virtual detector, stem/virtual_images.hpp; the whole
// frame by default) and the FOV a box of reference positions (all by default). A scan that
// covers no FOV position has I = NaN. Points are sorted by θ; the Gaussian fit skips NaN.
//
// Gaussian fit: I(θ) = A·exp(−(θ − c)² / (2σ²)) + B by Levenberg–Marquardt, each step a linear
// least-squares solve (analysis/least_squares, QR) of the Jacobian system with damping rows;
// started from the moments of I − min(I). FWHM = 2·sqrt(2·ln 2)·σ. With exactly 3 finite points
// B is fixed at 0; with fewer the fit is not made (ok = false, message says why).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scandiff/engine/run.hpp"
#include "scandiff/sxdm/alignment.hpp"
#include "scandiff/sxdm/frameset.hpp"

namespace scandiff::sxdm {

struct GaussianFit {
  bool ok = false;
  double centre = 0, fwhm = 0, amplitude = 0, offset = 0;  // θ units (degrees), intensity units
  double rms_residual = 0;
  std::string message;  // why the fit was not made / did not converge
};

// Fits the finite points (x_i, y_i). Never throws for bad data: ok = false with a message.
GaussianFit fit_gaussian(std::span<const double> x, std::span<const double> y);

struct RockingPoint {
  std::string scan;
  double theta = 0;
  double intensity = 0;         // NaN when the scan covers no FOV position
  std::int64_t positions = 0;   // FOV positions the scan covers
};

struct RockingCurve {
  std::vector<RockingPoint> points;  // sorted by θ
  GaussianFit fit;
  Array roi_map;  // float64 (rows, cols) of the reference grid: Σ over scans of the aligned ROI sums
};

// `roi`: detector box (default: whole frame); `fov`: box of reference scan positions, x = rx,
// y = ry (default: all). Throws InvalidArgument when a box lies outside the frame / grid.
RockingCurve rocking_curve(const Frameset& frameset, const std::optional<DetectorBox>& roi,
                           const std::optional<DetectorBox>& fov, const engine::RunOptions& run = {});

}  // namespace scandiff::sxdm
