#include "scandiff/core/calibration.hpp"

#include <cmath>

namespace scandiff {

namespace {
// CODATA 2018 exact/recommended values.
constexpr double planck_h = 6.62607015e-34;       // J s
constexpr double electron_mass = 9.1093837015e-31;  // kg
constexpr double elementary_charge = 1.602176634e-19;  // C
constexpr double speed_of_light = 299792458.0;     // m/s
}  // namespace

double Calibration::wavelength_A() const {
  if (!beam_energy_eV || *beam_energy_eV <= 0)
    throw InvalidArgument("calibration: the beam energy is not set (needed for the wavelength)");
  const double eV = *beam_energy_eV * elementary_charge;  // J
  double lambda_m;
  if (radiation == Radiation::xray) {
    lambda_m = planck_h * speed_of_light / eV;
  } else {
    const double m0c2 = electron_mass * speed_of_light * speed_of_light;
    lambda_m = planck_h / std::sqrt(2 * electron_mass * eV * (1 + eV / (2 * m0c2)));
  }
  return lambda_m * 1e10;
}

Metadata Calibration::to_metadata() const {
  Metadata m;
  m["scan_pixel_size"] = scan_pixel_size;
  m["scan_units"] = scan_units;
  m["detector_pixel_size"] = detector_pixel_size;
  m["detector_units"] = detector_units;
  m["radiation"] = radiation == Radiation::xray ? "xray" : "electron";
  if (beam_energy_eV) {
    m["beam_energy_eV"] = *beam_energy_eV;
    m["wavelength_A"] = wavelength_A();
  }
  if (camera_length_m) m["camera_length_m"] = *camera_length_m;
  if (origin_qy_px && origin_qx_px) m["origin_px"] = {{"qy", *origin_qy_px}, {"qx", *origin_qx_px}};
  if (!origin_qx_map.empty()) m["origin_per_position"] = shape_string(origin_qx_map.shape());
  if (ellipse)
    m["ellipse"] = {{"a_px", ellipse->a_px}, {"b_px", ellipse->b_px}, {"theta_rad", ellipse->theta_rad}};
  m["qr_rotation_rad"] = qr_rotation_rad;
  m["qr_flip"] = qr_flip;
  return m;
}

}  // namespace scandiff
