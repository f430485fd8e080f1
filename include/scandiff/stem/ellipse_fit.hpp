// Elliptical distortion from one diffraction ring: least squares over the pixels of an annulus
// of a (mean) pattern, in the implicit form of stem-algorithms.md §6 with x = qx, y = qy:
//   Q(p) = A·dx² + B·dx·dy + C·dy²,  dx = qx − x0, dy = qy − y0,  ρ = √Q  (ρ = 1 on the ellipse)
// over the parameters (x0, y0, A, B, C), started from the given centre and the circle of radius
// (r_inner + r_outer)/2, on pixels with r_inner < |p − centre| <= r_outer (py4DSTEM's
// fit_ellipse_1D selection). The residual is √w·(1 − 1/ρ), w = intensity above the annulus's
// 10th percentile (0 below): its stationary point is the intensity-weighted mean elliptical
// radius, so a ring profile symmetric about its radius is fitted without bias. py4DSTEM weights
// (ρ² − 1) by the intensity squared, which shifts the radius outwards by about 2.5σ²/R for a
// Gaussian ring of width σ. Gauss–Newton with step halving (QR per step).
// Converted to (a, b, θ): a ≥ b, θ = angle of the a-axis from +qx toward +qy in (−π/2, π/2].
#pragma once

#include <cstdint>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"

namespace scandiff::stem {

struct EllipseFitOptions {
  double center_qy_px = 0, center_qx_px = 0;  // initial centre (the origin)
  double r_inner_px = 0, r_outer_px = 0;      // annulus holding one ring
  int max_iterations = 50;
};

struct EllipseFitResult {
  double center_qy_px = 0, center_qx_px = 0;  // fitted centre (y0, x0)
  Ellipse ellipse;                             // a, b in pixels, θ in radians
  double A = 0, B = 0, C = 0;                  // implicit form, x = qx, y = qy
  std::int64_t pixels = 0;                     // pixels in the annulus with weight > 0
  int iterations = 0;
  double rms_radial_px = 0;                    // weighted rms of (ρ − 1)·√(ab)
};

// `pattern`: 2D (qy, qx), any dtype; `mask`: optional uint8 (qy, qx), non-zero = excluded.
// Throws InvalidArgument for bad radii or an annulus without signal, and Error when the fit
// does not converge to an ellipse (A·C − B²/4 <= 0).
EllipseFitResult fit_ellipse_ring(const Array& pattern, const EllipseFitOptions& options, const Array* mask = nullptr);

// (A, B, C) of an ellipse (a, b, θ) in x = qx, y = qy, and back (the inverse sorts a >= b).
void ellipse_to_implicit(const Ellipse& e, double& A, double& B, double& C);
Ellipse implicit_to_ellipse(double A, double B, double C);

}  // namespace scandiff::stem
