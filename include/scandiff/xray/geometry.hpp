// Per-pixel scattering geometry of a flat area detector in pyFAI's conventions: 2θ, χ, q, r, d,
// solid angle and polarization, at pixel centres and at pixel corners.
//
// A point at (y, x) metres on the detector (y along axis 1 = rows, x along axis 2 = columns)
// has p1 = y − Poni1, p2 = x − Poni2 and laboratory coordinates t = R3·R2·R1·(p1, p2, L):
//   t1 = p1·c2·c3 + p2·(c3·s1·s2 − c1·s3) − L·(c1·c3·s2 + s1·s3)   (vertical)
//   t2 = p1·c2·s3 + p2·(c1·c3 + s1·s2·s3) − L·(c1·s2·s3 − c3·s1)   (horizontal)
//   t3 = p1·s2 − p2·c2·s1 + L·c1·c2                                  (along the beam)
// with ci = cos(Rot_i), si = sin(Rot_i); then 2θ = atan2(√(t1²+t2²), t3), χ = atan2(t1, t2),
// r = √(t1²+t2²), q = 4π/λ·sin(2θ/2), d = λ / (2 sin(2θ/2)).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scandiff/xray/poni.hpp"

namespace scandiff::xray {

// Radial quantity of an integration. Internally (pyFAI's "internal units") 2θ is in rad, q in
// nm⁻¹, r in m; the output unit multiplies the internal value by unit_scale().
enum class RadialUnit { two_theta_deg, two_theta_rad, q_nm, q_A, r_mm, r_m };
enum class Quantity { two_theta, q, r };

// "2th_deg", "2th_rad", "q_nm^-1", "q_A^-1", "r_mm", "r_m" (pyFAI's names). InvalidArgument otherwise.
RadialUnit parse_radial_unit(std::string_view name);
std::string_view unit_name(RadialUnit unit);
Quantity quantity_of(RadialUnit unit);
double unit_scale(RadialUnit unit);  // output = internal · scale (180/π, 1, 1, 0.1, 1000, 1)

struct LabPoint {
  double t1, t2, t3;  // metres
};

class DetectorGeometry {
 public:
  // `rows` × `cols` pixels of the image as stored; the orientation of `poni` says how image
  // indices map to geometric ones. InvalidArgument for empty or absurd shapes.
  DetectorGeometry(const PoniGeometry& poni, std::int64_t rows, std::int64_t cols);

  const PoniGeometry& poni() const { return poni_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }

  // Laboratory coordinates of the point at fractional geometric pixel coordinates (row, col):
  // a pixel's centre is at (i + 0.5, j + 0.5), its corners at integers. No orientation applied.
  LabPoint lab(double row, double col) const;
  double two_theta(double row, double col) const;  // rad
  double chi(double row, double col) const;        // rad, in [−π, π]
  // Internal value of `q` at a lab point: 2θ rad, q nm⁻¹ (needs a wavelength), r m.
  double value(Quantity q, const LabPoint& t) const;

  // Maps over the image as stored, C order (rows, cols), orientation applied:
  std::vector<double> center_map(Quantity q) const;  // internal units at pixel centres
  std::vector<double> chi_map() const;               // rad, [−π, π]
  std::vector<double> d_spacing_map_A() const;       // d = λ / (2 sin θ), Å
  // cos³ of the incidence angle, L³ / (L² + p1² + p2²)^(3/2): 1 at the PONI (pyFAI's relative
  // solid angle; the absolute one is pixel1·pixel2 / L² times this).
  std::vector<double> solid_angle_map() const;
  // P = ½ [1 + cos²2θ − f·cos(2(χ + offset))·(1 − cos²2θ)], f in [−1, 1] (+1 horizontal).
  std::vector<double> polarization_map(double factor, double offset_rad = 0) const;

  // Corner values, (rows + 1) × (cols + 1) geometric grid points in image order: corner (a, b)
  // of the image grid. Pixel (i, j) has corners (i, j), (i+1, j), (i+1, j+1), (i, j+1).
  std::vector<double> corner_map(Quantity q) const;
  std::vector<double> corner_chi_map() const;

  // Geometric (row, col) of image pixel index (i, j) after the orientation flips, as the centre.
  double geometric_row(std::int64_t i) const;
  double geometric_col(std::int64_t j) const;
  // Geometric coordinate of image corner index a (0..rows) / b (0..cols).
  double geometric_corner_row(std::int64_t a) const;
  double geometric_corner_col(std::int64_t b) const;

 private:
  PoniGeometry poni_;
  std::int64_t rows_, cols_;
  double c1_, s1_, c2_, s2_, c3_, s3_;
  bool flip_rows_, flip_cols_;
};

// Fit2D-style description of a PONI geometry, as pyFAI writes it in pattern headers.
struct Fit2dGeometry {
  double direct_distance_mm;  // 1000·L / cos(tilt)
  double center_x_px, center_y_px;
  double tilt_deg, tilt_plan_rotation_deg;
};
Fit2dGeometry to_fit2d(const PoniGeometry& poni);

}  // namespace scandiff::xray
