// Fitting smooth surfaces to measured origin maps (the descan drift), by linear least squares in
// normalised scan coordinates, with iterative outlier rejection (stem-algorithms.md §5).
//
// Coordinates: u = rx / (scan_x − 1), v = ry / (scan_y − 1), both in [0, 1] (0 on an axis of
// length 1), as py4DSTEM's fit_2D (whose x is our ry, y our rx). Models, terms in this order:
//   constant: c0
//   plane:    c0 + c1·u + c2·v
//   parabola: c0 + c1·u + c2·v + c3·u² + c4·v² + c5·u·v
//   bezier:   Σ_{i,j=0..2} c[3i + j]·B_i(v)·B_j(u), B_0(t) = (1 − t)², B_1(t) = 2t(1 − t), B_2(t) = t²
//             (py4DSTEM's bezier_two, its c_ij with i along its x = our ry)
// origin_qy and origin_qx are fitted separately with the same set of positions.
//
// Robust rejection (robust = true), repeated until the set of positions stops changing or
// max_iterations fits were made: after each fit, with r the residual (measured − fitted) of each
// component over the positions currently used,
//   sigma = max(1.4826·median(|r − median(r)|), min_sigma_px),
// a position is kept when, for both components, |r − median(r)| <= outlier_threshold·sigma.
// Every finite measurement is re-tested each round, so a position dropped early can come back.
// (py4DSTEM instead drops, robust_steps times, points whose squared error exceeds
// robust_thresh²·mean(squared error): a mean that the outliers themselves inflate.)
// Non-finite measurements are never used.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"

namespace scandiff::stem {

enum class SurfaceModel { constant, plane, parabola, bezier };

std::string_view name_of(SurfaceModel model);
// "constant", "plane", "parabola", "bezier" (also "bezier_two"); throws InvalidArgument naming `what`.
SurfaceModel parse_surface_model(std::string_view text, std::string_view what = "fit");
// Number of coefficients: 1, 3, 6, 9.
int term_count(SurfaceModel model);

struct OriginFitOptions {
  SurfaceModel model = SurfaceModel::plane;
  bool robust = true;
  double outlier_threshold = 4;  // k, in robust standard deviations
  int max_iterations = 10;       // fits at most (>= 1)
  double min_sigma_px = 1e-3;    // residuals within k·this are never outliers
};

struct OriginFit {
  SurfaceModel model = SurfaceModel::plane;
  Array qy, qx;                    // fitted maps, float64 (ry, rx), detector pixels
  Array residual_qy, residual_qx;  // measured − fitted, float64 (ry, rx) (NaN where unmeasured)
  Array inliers;                   // uint8 (ry, rx): 1 where the final fit used the position
  std::vector<double> coefficients_qy, coefficients_qx;  // in the term order above
  std::int64_t used = 0;           // positions in the final fit
  int iterations = 0;              // fits made
  double rms_qy_px = 0, rms_qx_px = 0;  // RMS residual over the positions used
};

// Fits `model` to the measured (ry, rx) maps (any numeric dtype, same shape). Throws
// InvalidArgument when the shapes differ, the options are out of range, or too few positions
// remain for the model (the message names the model and the count).
OriginFit fit_origin(const Array& measured_qy, const Array& measured_qx, const OriginFitOptions& options = {});

// Evaluates a fitted surface at (ry, rx) (normalised as above for a scan of the given shape).
double evaluate_surface(SurfaceModel model, const std::vector<double>& coefficients, double ry, double rx,
                        std::int64_t scan_y, std::int64_t scan_x);

// Stores the fit in `cal`: per-position maps origin_qy_map/origin_qx_map = the fitted maps, and
// the global origin_qy_px/origin_qx_px = their means (py4DSTEM's qx0_mean/qy0_mean).
void set_origin(Calibration& cal, const OriginFit& fit);

}  // namespace scandiff::stem
