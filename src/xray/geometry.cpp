// Per-pixel 2θ, χ, q, r, d, solid angle and polarization (pyFAI's geometry, formulas in the header).
#include "scandiff/xray/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include "scandiff/core/error.hpp"

namespace scandiff::xray {

namespace {

constexpr double pi = std::numbers::pi;

// Fills out[i·cols + j] = f(i, j) for i < rows, j < cols, in parallel over rows.
template <class F>
std::vector<double> fill_map(std::int64_t rows, std::int64_t cols, F f) {
  std::vector<double> out(static_cast<std::size_t>(rows * cols));
  tbb::parallel_for(std::int64_t{0}, rows, [&](std::int64_t i) {
    for (std::int64_t j = 0; j < cols; ++j) out[static_cast<std::size_t>(i * cols + j)] = f(i, j);
  });
  return out;
}

}  // namespace

RadialUnit parse_radial_unit(std::string_view name) {
  if (name == "2th_deg") return RadialUnit::two_theta_deg;
  if (name == "2th_rad") return RadialUnit::two_theta_rad;
  if (name == "q_nm^-1") return RadialUnit::q_nm;
  if (name == "q_A^-1") return RadialUnit::q_A;
  if (name == "r_mm") return RadialUnit::r_mm;
  if (name == "r_m") return RadialUnit::r_m;
  throw InvalidArgument(fmt::format("unit '{}': expected 2th_deg, 2th_rad, q_nm^-1, q_A^-1, r_mm or r_m", name));
}

std::string_view unit_name(RadialUnit unit) {
  switch (unit) {
    case RadialUnit::two_theta_deg: return "2th_deg";
    case RadialUnit::two_theta_rad: return "2th_rad";
    case RadialUnit::q_nm: return "q_nm^-1";
    case RadialUnit::q_A: return "q_A^-1";
    case RadialUnit::r_mm: return "r_mm";
    case RadialUnit::r_m: return "r_m";
  }
  return "?";
}

Quantity quantity_of(RadialUnit unit) {
  switch (unit) {
    case RadialUnit::two_theta_deg:
    case RadialUnit::two_theta_rad: return Quantity::two_theta;
    case RadialUnit::q_nm:
    case RadialUnit::q_A: return Quantity::q;
    case RadialUnit::r_mm:
    case RadialUnit::r_m: return Quantity::r;
  }
  return Quantity::two_theta;
}

double unit_scale(RadialUnit unit) {
  switch (unit) {
    case RadialUnit::two_theta_deg: return 180.0 / pi;
    case RadialUnit::q_A: return 0.1;
    case RadialUnit::r_mm: return 1000.0;
    default: return 1.0;
  }
}

DetectorGeometry::DetectorGeometry(const PoniGeometry& poni, std::int64_t rows, std::int64_t cols)
    : poni_(poni), rows_(rows), cols_(cols) {
  if (rows <= 0 || cols <= 0 || rows > (1 << 16) || cols > (1 << 16))
    throw InvalidArgument(fmt::format("detector shape {} x {}: expected 1..65536 pixels per axis", rows, cols));
  if (!(poni.pixel1_m > 0) || !(poni.pixel2_m > 0) || !(poni.distance_m > 0))
    throw InvalidArgument("detector geometry: pixel sizes and distance must be positive");
  if (poni.orientation < 1 || poni.orientation > 4)
    throw InvalidArgument(fmt::format("detector orientation {}: expected 1..4", poni.orientation));
  c1_ = std::cos(poni.rot1_rad), s1_ = std::sin(poni.rot1_rad);
  c2_ = std::cos(poni.rot2_rad), s2_ = std::sin(poni.rot2_rad);
  c3_ = std::cos(poni.rot3_rad), s3_ = std::sin(poni.rot3_rad);
  flip_rows_ = poni.orientation == 1 || poni.orientation == 2;
  flip_cols_ = poni.orientation == 1 || poni.orientation == 4;
}

LabPoint DetectorGeometry::lab(double row, double col) const {
  const double p1 = row * poni_.pixel1_m - poni_.poni1_m;
  const double p2 = col * poni_.pixel2_m - poni_.poni2_m;
  const double L = poni_.distance_m;
  return {p1 * c2_ * c3_ + p2 * (c3_ * s1_ * s2_ - c1_ * s3_) - L * (c1_ * c3_ * s2_ + s1_ * s3_),
          p1 * c2_ * s3_ + p2 * (c1_ * c3_ + s1_ * s2_ * s3_) - L * (c1_ * s2_ * s3_ - c3_ * s1_),
          p1 * s2_ - p2 * c2_ * s1_ + L * c1_ * c2_};
}

double DetectorGeometry::two_theta(double row, double col) const { return value(Quantity::two_theta, lab(row, col)); }

double DetectorGeometry::chi(double row, double col) const {
  const LabPoint t = lab(row, col);
  return std::atan2(t.t1, t.t2);
}

double DetectorGeometry::value(Quantity q, const LabPoint& t) const {
  const double r = std::sqrt(t.t1 * t.t1 + t.t2 * t.t2);
  switch (q) {
    case Quantity::two_theta: return std::atan2(r, t.t3);
    case Quantity::r: return r;
    case Quantity::q: return 4.0e-9 * pi * std::sin(0.5 * std::atan2(r, t.t3)) / poni_.wavelength_m;
  }
  return 0;
}

double DetectorGeometry::geometric_row(std::int64_t i) const {
  return static_cast<double>(flip_rows_ ? rows_ - 1 - i : i) + 0.5;
}
double DetectorGeometry::geometric_col(std::int64_t j) const {
  return static_cast<double>(flip_cols_ ? cols_ - 1 - j : j) + 0.5;
}
double DetectorGeometry::geometric_corner_row(std::int64_t a) const {
  return static_cast<double>(flip_rows_ ? rows_ - a : a);
}
double DetectorGeometry::geometric_corner_col(std::int64_t b) const {
  return static_cast<double>(flip_cols_ ? cols_ - b : b);
}

std::vector<double> DetectorGeometry::center_map(Quantity q) const {
  if (q == Quantity::q && !(poni_.wavelength_m > 0))
    throw InvalidArgument("q needs a wavelength: the geometry has none (Wavelength in the .poni)");
  return fill_map(rows_, cols_, [&](std::int64_t i, std::int64_t j) {
    return value(q, lab(geometric_row(i), geometric_col(j)));
  });
}

std::vector<double> DetectorGeometry::chi_map() const {
  return fill_map(rows_, cols_, [&](std::int64_t i, std::int64_t j) { return chi(geometric_row(i), geometric_col(j)); });
}

std::vector<double> DetectorGeometry::d_spacing_map_A() const {
  if (!(poni_.wavelength_m > 0)) throw InvalidArgument("d-spacing needs a wavelength: the geometry has none");
  return fill_map(rows_, cols_, [&](std::int64_t i, std::int64_t j) {
    return 0.5e10 * poni_.wavelength_m / std::sin(0.5 * two_theta(geometric_row(i), geometric_col(j)));
  });
}

std::vector<double> DetectorGeometry::solid_angle_map() const {
  const double L = poni_.distance_m;
  return fill_map(rows_, cols_, [&](std::int64_t i, std::int64_t j) {
    const double p1 = geometric_row(i) * poni_.pixel1_m - poni_.poni1_m;
    const double p2 = geometric_col(j) * poni_.pixel2_m - poni_.poni2_m;
    const double cos_a = L / std::sqrt(L * L + p1 * p1 + p2 * p2);
    return cos_a * cos_a * cos_a;
  });
}

std::vector<double> DetectorGeometry::polarization_map(double factor, double offset_rad) const {
  if (!(factor >= -1 && factor <= 1))
    throw InvalidArgument(fmt::format("polarization factor {}: expected -1..1", factor));
  return fill_map(rows_, cols_, [&](std::int64_t i, std::int64_t j) {
    const LabPoint t = lab(geometric_row(i), geometric_col(j));
    const double tth = value(Quantity::two_theta, t);
    const double chi = std::atan2(t.t1, t.t2);
    const double cos2 = std::cos(tth) * std::cos(tth);
    return 0.5 * (1.0 + cos2 - factor * std::cos(2.0 * (chi + offset_rad)) * (1.0 - cos2));
  });
}

std::vector<double> DetectorGeometry::corner_map(Quantity q) const {
  if (q == Quantity::q && !(poni_.wavelength_m > 0))
    throw InvalidArgument("q needs a wavelength: the geometry has none (Wavelength in the .poni)");
  return fill_map(rows_ + 1, cols_ + 1, [&](std::int64_t a, std::int64_t b) {
    return value(q, lab(geometric_corner_row(a), geometric_corner_col(b)));
  });
}

std::vector<double> DetectorGeometry::corner_chi_map() const {
  return fill_map(rows_ + 1, cols_ + 1, [&](std::int64_t a, std::int64_t b) {
    return chi(geometric_corner_row(a), geometric_corner_col(b));
  });
}

Fit2dGeometry to_fit2d(const PoniGeometry& p) {
  const double cos_tilt = std::cos(p.rot1_rad) * std::cos(p.rot2_rad);
  const double sin_tilt = std::sqrt(std::max(0.0, 1.0 - cos_tilt * cos_tilt));
  double cos_tpr = 1, sin_tpr = 0;
  if (sin_tilt > 0) {
    cos_tpr = std::clamp(-std::cos(p.rot2_rad) * std::sin(p.rot1_rad) / sin_tilt, -1.0, 1.0);
    sin_tpr = std::sin(p.rot2_rad) / sin_tilt;
  }
  const double tan_tilt = sin_tilt / cos_tilt;
  Fit2dGeometry f;
  f.direct_distance_mm = 1000.0 * p.distance_m / cos_tilt;
  f.tilt_deg = std::acos(std::clamp(cos_tilt, -1.0, 1.0)) * 180.0 / pi;
  f.tilt_plan_rotation_deg = (sin_tpr < 0 ? -1.0 : 1.0) * std::acos(cos_tpr) * 180.0 / pi;
  f.center_x_px = (p.poni2_m + p.distance_m * tan_tilt * cos_tpr) / p.pixel2_m;
  f.center_y_px = (p.poni1_m + p.distance_m * tan_tilt * sin_tpr) / p.pixel1_m;
  return f;
}

}  // namespace scandiff::xray
