// Calibration of a scan: real-space (scan) and reciprocal-space (detector) sampling,
// beam, diffraction origin and elliptical distortion, real/reciprocal rotation.
//
// Conventions (see docs/conventions.md):
// - detector axes (qy, qx): qx is the fast (column) axis, qy the row axis;
// - origin in detector pixels, (qy0, qx0), either one global value or one per scan position;
// - ellipse (a, b, theta): semi-axes in pixels, a >= b, theta = angle of the a-axis
//   from +qx towards +qy, radians. Correction maps the ellipse onto a circle of radius b;
// - QR rotation in radians, applied after an optional qx/qy flip.
#pragma once

#include <optional>
#include <string>

#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"

namespace scandiff {

enum class Radiation { electron, xray };

struct Ellipse {
  double a_px = 1;       // semi-major axis, detector pixels
  double b_px = 1;       // semi-minor axis, detector pixels
  double theta_rad = 0;  // angle of the a-axis from +qx, radians
};

struct Calibration {
  double scan_pixel_size = 1;          // real-space step per scan pixel, in scan_units
  std::string scan_units = "pixels";   // "pixels", "nm", "A", "um"
  double detector_pixel_size = 1;      // reciprocal sampling per detector pixel, in detector_units
  std::string detector_units = "pixels";  // "pixels", "A^-1", "mrad"

  Radiation radiation = Radiation::electron;
  std::optional<double> beam_energy_eV;   // electron accelerating voltage x e, or photon energy
  std::optional<double> camera_length_m;

  // Diffraction origin (beam centre), detector pixels.
  std::optional<double> origin_qy_px, origin_qx_px;
  // Per-position origin maps, float64 (ry, rx); empty when not calibrated.
  Array origin_qy_map, origin_qx_map;

  std::optional<Ellipse> ellipse;
  double qr_rotation_rad = 0;  // rotation from detector to scan axes
  bool qr_flip = false;        // qx/qy transposed relative to the scan

  // Wavelength in Angstrom from the beam energy: relativistic for electrons,
  // lambda = h / sqrt(2 m0 e V (1 + e V / (2 m0 c^2))); lambda = h c / E for X-rays.
  // Throws InvalidArgument when the beam energy is not set.
  double wavelength_A() const;

  // Human-readable and machine-readable summary (used by `scandiff info`).
  Metadata to_metadata() const;
};

}  // namespace scandiff
