// Differential phase contrast from centre-of-mass maps (stem-algorithms.md §9):
//   1. background: subtract from each CoM component a least-squares plane over the scan
//      (py4DSTEM's default fit_function "plane", which removes descan), its mean, or nothing;
//   2. calibrate: multiply by the detector pixel size (pixels → Å⁻¹, or mrad → Å⁻¹ with the
//      beam wavelength);
//   3. rotation: the scan rotation and flip (scan_rotation.hpp), searched by curl minimisation
//      unless given, applied to bring the field into scan axes;
//   4. iDPC phase: the field is the phase gradient, ∇φ = 2π·k_CoM (k in Å⁻¹, φ in radians),
//      so per scan pixel g = 2π·k_CoM·Δr (Δr the scan step in Å), integrated by
//      phase_integration.hpp.
// With a detector in Å⁻¹ (or mrad and a beam energy) and a scan step in Å or nm, the phase is in
// radians; otherwise the same arithmetic runs on the numbers at hand and the phase is reported
// in arbitrary units ("a.u."). The rotation is found modulo π (scan_rotation.hpp), so the phase
// sign is only defined up to that choice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scandiff/core/calibration.hpp"
#include "scandiff/core/result.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/stem/phase_integration.hpp"
#include "scandiff/stem/scan_rotation.hpp"

namespace scandiff::stem {

enum class ComBackground { none, mean, plane };
std::string_view name_of(ComBackground b);
// "none", "mean" or "plane"; InvalidArgument naming `what` otherwise.
ComBackground parse_com_background(std::string_view text, std::string_view what);

struct DpcOptions {
  ComBackground background = ComBackground::plane;
  std::optional<double> rotation_rad;  // given: no search for the angle
  std::optional<bool> flip;            // given: no search over the flip
  RotationSearch search;               // its `flip` is taken from `flip` above
  PhaseIntegrationOptions integration;
};

struct DpcResult {
  ScanRotation rotation;
  bool rotation_searched = false;
  double curl = 0;                 // mean |curl| of the field at `rotation` (in com_units, per scan step)
  RotationSearchResult search;     // the curves, when searched
  Array com_x, com_y;              // background removed, calibrated, in scan axes: (ry, rx) float64
  std::string com_units;           // "A^-1", or the detector units when they cannot be converted
  Array phase;                     // (ry, rx) float64, zero mean
  std::string phase_units;         // "rad" or "a.u."
  double gradient_scale = 1;       // g = gradient_scale · com (per scan pixel)
  DpcOptions options;              // as used (provenance)

  // dpc_com_x, dpc_com_y, idpc_phase over `info`'s scan axes, with provenance.
  std::vector<Result> results(const io::DatasetInfo& info) const;
};

// com_x, com_y: centre-of-mass maps in detector pixels (center_of_mass.hpp), (ry, rx).
DpcResult dpc(const Array& com_x_px, const Array& com_y_px, const Calibration& calibration,
              const DpcOptions& options = {});

}  // namespace scandiff::stem
