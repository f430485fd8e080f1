#include "emd_calibration.hpp"

#include <numbers>

#include "emd_metadata.hpp"
#include "hdf5_util.hpp"

namespace scandiff::io::emd {

namespace {
constexpr double half_pi = std::numbers::pi / 2;
constexpr double degrees_per_radian = 180.0 / std::numbers::pi;
}  // namespace

void write_calibration(hid_t bundle, const Calibration& cal, const std::vector<std::string>& target_paths) {
  h5::Handle group = create_metadata_group(bundle, "calibration", "Calibration");
  const hid_t g = group.get();
  // py4DSTEM's five defaults first, in its order.
  write_item(g, "Q_pixel_size", cal.detector_pixel_size);
  write_item(g, "R_pixel_size", cal.scan_pixel_size);
  write_item(g, "Q_pixel_units", cal.detector_units);
  write_item(g, "R_pixel_units", cal.scan_units);
  write_item(g, "QR_flip", cal.qr_flip);
  // py4DSTEM's axes are ours with x and y exchanged: rotation sense reverses (radians).
  const double qr_rotation = -cal.qr_rotation_rad;
  write_item(g, "QR_rotation", qr_rotation);
  write_item(g, "QR_rotation_degrees", qr_rotation * degrees_per_radian);
  // Origin, detector pixels: py4DSTEM qx is our qy (the row index).
  if (cal.origin_qy_px && cal.origin_qx_px) {
    write_item(g, "qx0_mean", *cal.origin_qy_px);
    write_item(g, "qy0_mean", *cal.origin_qx_px);
  }
  // Per-position origin maps, (ry, rx) = py4DSTEM's (Rx, Ry) layout, float64.
  if (!cal.origin_qy_map.empty()) write_array_item(g, "qx0", cal.origin_qy_map.astype(DType::f64));
  if (!cal.origin_qx_map.empty()) write_array_item(g, "qy0", cal.origin_qx_map.astype(DType::f64));
  // Ellipse: semi-axes in pixels; theta from Qx towards Qy = pi/2 - ours (from qx towards qy).
  if (cal.ellipse) {
    write_item(g, "a", cal.ellipse->a_px);
    write_item(g, "b", cal.ellipse->b_px);
    write_item(g, "theta", half_pi - cal.ellipse->theta_rad);
  }
  // scandiff extras that py4DSTEM keeps as plain keys.
  if (cal.beam_energy_eV) write_item(g, "beam_energy_eV", *cal.beam_energy_eV);
  if (cal.camera_length_m) write_item(g, "camera_length_m", *cal.camera_length_m);
  if (cal.radiation == Radiation::xray) write_item(g, "radiation", "xray");
  write_item(g, "_root_treepath", "");
  Metadata targets = Metadata::array();
  for (const auto& p : target_paths) targets.push_back(p);
  write_item(g, "_target_paths", targets);
}

Calibration read_calibration(hid_t group) {
  Calibration cal;
  if (auto v = read_number_item(group, "Q_pixel_size")) cal.detector_pixel_size = *v;
  if (auto v = read_number_item(group, "R_pixel_size")) cal.scan_pixel_size = *v;
  if (auto v = read_string_item(group, "Q_pixel_units")) cal.detector_units = *v;
  if (auto v = read_string_item(group, "R_pixel_units")) cal.scan_units = *v;
  if (auto v = read_bool_item(group, "QR_flip")) cal.qr_flip = *v;
  if (auto v = read_number_item(group, "QR_rotation"))
    cal.qr_rotation_rad = -*v;
  else if (auto deg = read_number_item(group, "QR_rotation_degrees"))
    cal.qr_rotation_rad = -*deg / degrees_per_radian;
  // Global origin: qx0_mean/qy0_mean, or scalar qx0/qy0 (py4DSTEM accepts both).
  auto qx0 = read_number_item(group, "qx0_mean");
  auto qy0 = read_number_item(group, "qy0_mean");
  if (!qx0 || !qy0) {
    qx0 = read_number_item(group, "qx0");
    qy0 = read_number_item(group, "qy0");
  }
  if (qx0 && qy0) {
    cal.origin_qy_px = *qx0;
    cal.origin_qx_px = *qy0;
  }
  Array qx0_map = read_array_item(group, "qx0");
  Array qy0_map = read_array_item(group, "qy0");
  if (qx0_map.rank() == 2) cal.origin_qy_map = qx0_map;
  if (qy0_map.rank() == 2) cal.origin_qx_map = qy0_map;
  auto a = read_number_item(group, "a");
  auto b = read_number_item(group, "b");
  auto theta = read_number_item(group, "theta");
  if (a && b && theta) cal.ellipse = Ellipse{*a, *b, half_pi - *theta};
  if (auto v = read_number_item(group, "beam_energy_eV")) cal.beam_energy_eV = *v;
  if (auto v = read_number_item(group, "camera_length_m")) cal.camera_length_m = *v;
  if (read_string_item(group, "radiation") == "xray") cal.radiation = Radiation::xray;
  return cal;
}

}  // namespace scandiff::io::emd
