// The rotation (and flip) between detector and scan axes, found from a centre-of-mass field by
// curl minimisation (stem-algorithms.md §9; py4DSTEM's _solve_for_center_of_mass_relative_rotation).
//
// Field components (x, y) = (qx, qy) of a CoM map over the scan (ry, rx). The field in scan axes:
//   flip: swap x and y first; then rotate by θ (radians, from +x toward +y):
//     x' = cos θ·x − sin θ·y,   y' = sin θ·x + cos θ·y.
// Curl, by central differences over scan indices on the interior (py4DSTEM's, not halved):
//   curl[i, j] = (y'[i, j+1] − y'[i, j−1]) − (x'[i+1, j] − x'[i−1, j])      (∂_rx y' − ∂_ry x')
// The best (θ, flip) minimises mean |curl|. Since curl(R(θ)·F) = cos θ·curl F + sin θ·div F, the
// search evaluates mean|cos θ·C + sin θ·D| from precomputed curl C and divergence D.
// mean|curl| is the same at θ and θ + π (the field changes sign), so θ is found modulo π and
// reported in [−π/2, π/2); a CoM field rotated by π gives the same θ and a negated phase.
//
// Against py4DSTEM: its (x, y) is our (y, x) (first axis first), so its rotation angle is −θ and
// its `transpose` is our flip: rotation_py4dstem = −rotation_rad, transpose = flip.
#pragma once

#include <optional>
#include <vector>

#include "scandiff/core/array.hpp"

namespace scandiff::stem {

struct ScanRotation {
  double rotation_rad = 0;
  bool flip = false;
};

// The field in scan axes, (x', y') above. Inputs: float (ry, rx) maps of one shape.
void apply_scan_rotation(const Array& com_x, const Array& com_y, const ScanRotation& rotation, Array& out_x,
                         Array& out_y);

// mean |curl| of a field given in scan axes (the formula above); NaN values are left out.
double mean_abs_curl(const Array& fx, const Array& fy);

struct RotationSearch {
  double step_deg = 1;           // coarse grid over [−90°, 90°), then refined
  int refinements = 3;           // each refines ±1 grid step 20 times finer (1° → 0.05° → 0.0025° → ...)
  std::optional<bool> flip;      // unset: try both and keep the lower curl
};

struct RotationSearchResult {
  ScanRotation best;
  double curl = 0;                      // mean |curl| at the best (θ, flip)
  std::vector<double> angles_deg;       // the coarse grid
  std::vector<double> curl_unflipped;   // mean |curl| on the grid without flip (empty if not tried)
  std::vector<double> curl_flipped;     // and with flip (empty if not tried)
};

// Throws InvalidArgument unless the maps are 2D, of one shape, at least 3x3.
RotationSearchResult find_scan_rotation(const Array& com_x, const Array& com_y, const RotationSearch& search = {});

}  // namespace scandiff::stem
