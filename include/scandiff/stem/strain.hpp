// Strain from per-position lattice vectors (stem-algorithms.md §8, docs/conventions.md), in
// (x, y) = (qx, qy) components. With reference vectors g1r, g2r and measured g1, g2, the
// reciprocal-space deformation β solves g = β·g_ref for both vectors:
//   β = [g1 g2]·[g1r g2r]⁻¹ (columns), exx = 1 − β00, eyy = 1 − β11, exy = −(β01 + β10)/2,
//   rotation = (β01 − β10)/2 (radians, small angle, from +qx toward +qy),
// the symmetric part of I − β: positive strain is real-space tension (reciprocal vectors shrink).
// This is py4DSTEM's formula with our axis names; py4DSTEM's exx (along its x = the detector
// row) is our eyy for the same data, and its rotation has the opposite sign.
// Frame: strain in axes rotated by φ (new x-axis at angle φ from +qx toward +qy):
//   exx' = c²exx + 2cs·exy + s²eyy, eyy' = s²exx − 2cs·exy + c²eyy,
//   exy' = cs(eyy − exx) + (c² − s²)exy, rotation unchanged (c = cos φ, s = sin φ).
#pragma once

#include <optional>

#include "scandiff/core/array.hpp"
#include "scandiff/stem/lattice.hpp"

namespace scandiff::stem {

struct StrainMaps {
  Array exx, eyy, exy, rotation_rad;  // float64 (scan_y, scan_x); NaN where the lattice was not fitted
  Lattice reference;                  // g1r, g2r used (x0, y0 unused)
  double frame_rad = 0;
};

// The reference lattice: the median of g1 and g2 over the fitted positions where `region`
// ((scan_y, scan_x), non-zero = use; empty: everywhere) is set. Throws InvalidArgument when no
// fitted position is in the region.
Lattice reference_lattice(const LatticeMaps& maps, const Array& region = Array());

// Strain against `reference` in the frame rotated by frame_rad. Throws InvalidArgument when the
// reference vectors are (nearly) collinear.
StrainMaps strain_maps(const LatticeMaps& maps, const Lattice& reference, double frame_rad = 0);

}  // namespace scandiff::stem
