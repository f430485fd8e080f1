// Calibrant rings, control points and geometry refinement (rules in calibration.hpp).
#include "scandiff/xray/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "scandiff/analysis/least_squares.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::xray {

namespace {

constexpr double pi = std::numbers::pi;

// Geometric coordinate of the centre of fractional image coordinate r along an axis of n pixels.
double geometric(double r, std::int64_t n, bool flip) { return flip ? static_cast<double>(n) - r - 0.5 : r + 0.5; }

}  // namespace

std::vector<double> ring_two_theta(const std::vector<double>& d_spacing_A, double wavelength_m) {
  std::vector<double> tth;
  for (double d : d_spacing_A) {
    const double s = wavelength_m * 1e10 / (2 * d);
    tth.push_back(s <= 1 ? 2 * std::asin(s) : std::nan(""));
  }
  return tth;
}

std::vector<ControlPoint> extract_control_points(const Array& image, const DetectorGeometry& g,
                                                 const std::vector<double>& d_spacing_A, const ExtractOptions& o) {
  const std::int64_t rows = g.rows(), cols = g.cols();
  if (image.rank() != 2 || image.shape(0) != rows || image.shape(1) != cols)
    throw InvalidArgument(fmt::format("image shape {} differs from the geometry's ({}, {})",
                                      shape_string(image.shape()), rows, cols));
  const Array f = image.astype(DType::f64);
  const double* v = f.data<double>();
  const std::vector<double> tth = g.center_map(Quantity::two_theta);
  const std::vector<double> chi = g.chi_map();
  std::vector<double> rings = ring_two_theta(d_spacing_A, g.poni().wavelength_m);
  double tth_max = 0;
  for (double t : tth) tth_max = std::max(tth_max, t);
  int n_rings = 0;
  while (n_rings < static_cast<int>(rings.size()) && n_rings < o.max_rings && std::isfinite(rings[n_rings]) &&
         rings[n_rings] < tth_max)
    ++n_rings;
  const double window = o.window_deg * pi / 180;
  // The background of a ring is the median over a band of at least ±1° (mostly not ring).
  const double wide = std::max(window, pi / 180);
  const int S = std::max(o.sectors, 1);
  // Per ring: wide-band values (for the median) and, per sector, the brightest pixel in the band.
  std::vector<std::vector<double>> band(static_cast<std::size_t>(n_rings));
  std::vector<std::int64_t> best(static_cast<std::size_t>(n_rings * S), -1);
  for (std::int64_t p = 0; p < rows * cols; ++p) {
    const auto pp = static_cast<std::size_t>(p);
    if (!(v[pp] >= 0)) continue;
    // Nearest ring (rings increase in 2θ).
    int k = -1;
    double dist = wide;
    for (int r = 0; r < n_rings; ++r) {
      const double d = std::abs(tth[pp] - rings[static_cast<std::size_t>(r)]);
      if (d < dist) dist = d, k = r;
    }
    if (k < 0) continue;
    band[static_cast<std::size_t>(k)].push_back(v[pp]);
    if (dist > window) continue;
    const int s = std::clamp(static_cast<int>((chi[pp] + pi) / (2 * pi) * S), 0, S - 1);
    std::int64_t& b = best[static_cast<std::size_t>(k * S + s)];
    if (b < 0 || v[pp] > v[static_cast<std::size_t>(b)]) b = p;
  }
  std::vector<ControlPoint> points;
  for (int k = 0; k < n_rings; ++k) {
    auto& values = band[static_cast<std::size_t>(k)];
    if (values.empty()) continue;
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    const double median = *mid;
    for (int s = 0; s < S; ++s) {
      const std::int64_t b = best[static_cast<std::size_t>(k * S + s)];
      if (b < 0) continue;
      const double peak = v[static_cast<std::size_t>(b)];
      if (!(peak > 0) || peak < o.min_contrast * std::max(median, 0.0)) continue;
      // Centroid of the intensity above the band's median in the (2h+1)² box around the peak.
      const std::int64_t h = o.centroid_half_width;
      const std::int64_t i0 = b / cols, j0 = b % cols;
      double w = 0, wi = 0, wj = 0;
      for (std::int64_t i = std::max<std::int64_t>(i0 - h, 0); i <= std::min(i0 + h, rows - 1); ++i)
        for (std::int64_t j = std::max<std::int64_t>(j0 - h, 0); j <= std::min(j0 + h, cols - 1); ++j) {
          const double x = v[static_cast<std::size_t>(i * cols + j)] - median;
          if (x <= 0) continue;
          w += x, wi += x * static_cast<double>(i), wj += x * static_cast<double>(j);
        }
      if (w <= 0) continue;
      points.push_back({wi / w, wj / w, k});
    }
  }
  return points;
}

RefineResult refine_geometry(const PoniGeometry& start, std::int64_t rows, std::int64_t cols,
                             const std::vector<ControlPoint>& points, const std::vector<double>& d_spacing_A,
                             bool refine_wavelength) {
  if (points.size() < 8)
    throw InvalidArgument(fmt::format("geometry refinement: {} control points found, at least 8 needed "
                                      "(check the calibrant, wavelength and starting geometry)",
                                      points.size()));
  const bool flip_rows = start.orientation == 1 || start.orientation == 2;
  const bool flip_cols = start.orientation == 1 || start.orientation == 4;
  const int n_par = refine_wavelength ? 6 : 5;
  const auto n = static_cast<std::int64_t>(points.size());
  auto apply = [&](const std::vector<double>& x) {
    PoniGeometry p = start;
    p.distance_m = x[0], p.poni1_m = x[1], p.poni2_m = x[2], p.rot1_rad = x[3], p.rot2_rad = x[4];
    if (refine_wavelength) p.wavelength_m = x[5];
    return p;
  };
  auto residuals = [&](const std::vector<double>& x) {
    const PoniGeometry p = apply(x);
    const DetectorGeometry g(p, rows, cols);
    const std::vector<double> rings = ring_two_theta(d_spacing_A, p.wavelength_m);
    std::vector<double> r(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const ControlPoint& c = points[static_cast<std::size_t>(i)];
      const double t = g.two_theta(geometric(c.row, rows, flip_rows), geometric(c.col, cols, flip_cols));
      r[static_cast<std::size_t>(i)] = t - rings.at(static_cast<std::size_t>(c.ring));
    }
    return r;
  };
  auto cost = [](const std::vector<double>& r) {
    double c = 0;
    for (double v : r) c += v * v;
    return c;
  };
  std::vector<double> x{start.distance_m, start.poni1_m, start.poni2_m, start.rot1_rad, start.rot2_rad};
  if (refine_wavelength) x.push_back(start.wavelength_m);
  const double steps[6] = {1e-6, 1e-7, 1e-7, 1e-7, 1e-7, 1e-16};
  std::vector<double> r = residuals(x);
  double c = cost(r), mu = 1e-3;
  int iter = 0;
  bool converged = false;
  // Jacobian by central differences, n × n_par row-major.
  auto jacobian = [&](const std::vector<double>& at) {
    std::vector<double> J(static_cast<std::size_t>(n * n_par));
    for (int j = 0; j < n_par; ++j) {
      std::vector<double> xp = at, xm = at;
      xp[static_cast<std::size_t>(j)] += steps[j];
      xm[static_cast<std::size_t>(j)] -= steps[j];
      const auto rp = residuals(xp), rm = residuals(xm);
      for (std::int64_t i = 0; i < n; ++i)
        J[static_cast<std::size_t>(i * n_par + j)] =
            (rp[static_cast<std::size_t>(i)] - rm[static_cast<std::size_t>(i)]) / (2 * steps[j]);
    }
    return J;
  };
  for (; iter < 200 && !converged; ++iter) {
    const std::vector<double> J = jacobian(x);
    std::vector<double> scale(static_cast<std::size_t>(n_par), 0);
    for (std::int64_t i = 0; i < n; ++i)
      for (int j = 0; j < n_par; ++j)
        scale[static_cast<std::size_t>(j)] += J[static_cast<std::size_t>(i * n_par + j)] * J[static_cast<std::size_t>(i * n_par + j)];
    bool improved = false;
    for (int attempt = 0; attempt < 30 && !improved; ++attempt) {
      // min ‖J δ + r‖² + μ ‖D δ‖², D = √diag(JᵀJ): the augmented linear least-squares problem.
      std::vector<double> A(J);
      std::vector<double> b(static_cast<std::size_t>(n + n_par), 0);
      for (std::int64_t i = 0; i < n; ++i) b[static_cast<std::size_t>(i)] = -r[static_cast<std::size_t>(i)];
      A.resize(static_cast<std::size_t>((n + n_par) * n_par), 0);
      for (int j = 0; j < n_par; ++j)
        A[static_cast<std::size_t>((n + j) * n_par + j)] = std::sqrt(mu * scale[static_cast<std::size_t>(j)]) + 1e-300;
      const std::vector<double> delta = analysis::least_squares(A, n + n_par, n_par, b);
      std::vector<double> xn = x;
      for (int j = 0; j < n_par; ++j) xn[static_cast<std::size_t>(j)] += delta[static_cast<std::size_t>(j)];
      if (!(xn[0] > 0)) {
        mu *= 4;
        continue;
      }
      const std::vector<double> rn = residuals(xn);
      const double cn = cost(rn);
      if (cn < c) {
        const double gain = (c - cn) / c;
        x = xn, r = rn, c = cn, mu = std::max(mu / 3, 1e-12);
        improved = true;
        converged = gain < 1e-12;
      } else {
        mu *= 4;
      }
    }
    if (!improved) break;
  }
  RefineResult res;
  res.geometry = apply(x);
  res.rms_residual_rad = std::sqrt(c / static_cast<double>(n));
  res.iterations = iter;
  // Covariance s²·(JᵀJ)⁻¹ at the solution, s² = Σr² / (n − n_par).
  const std::vector<double> J = jacobian(x);
  Eigen::MatrixXd jtj = Eigen::MatrixXd::Zero(n_par, n_par);
  for (std::int64_t i = 0; i < n; ++i)
    for (int a = 0; a < n_par; ++a)
      for (int b = 0; b < n_par; ++b)
        jtj(a, b) += J[static_cast<std::size_t>(i * n_par + a)] * J[static_cast<std::size_t>(i * n_par + b)];
  const double s2 = c / static_cast<double>(std::max<std::int64_t>(n - n_par, 1));
  const Eigen::MatrixXd cov = s2 * jtj.completeOrthogonalDecomposition().pseudoInverse();
  res.covariance.assign(static_cast<std::size_t>(n_par * n_par), 0.0);
  for (int a = 0; a < n_par; ++a)
    for (int b = 0; b < n_par; ++b) res.covariance[static_cast<std::size_t>(a * n_par + b)] = cov(a, b);
  return res;
}

RefineResult calibrate(const Array& image, const PoniGeometry& start, const std::vector<double>& d_spacing_A,
                       bool refine_wavelength, int passes) {
  if (image.rank() != 2) throw InvalidArgument("calibration: expected one 2D image");
  const std::int64_t rows = image.shape(0), cols = image.shape(1);
  RefineResult res;
  res.geometry = start;
  ExtractOptions o;
  const int max_rings = o.max_rings;
  for (int pass = 0; pass < std::max(passes, 1); ++pass) {
    // First the innermost rings in a wide band (they move least when the distance is off), then
    // all rings in narrower bands around the refined positions.
    o.window_deg = pass == 0 ? 0.5 : pass == 1 ? 0.25 : 0.15;
    o.max_rings = pass == 0 ? std::min(4, max_rings) : max_rings;
    const DetectorGeometry g(res.geometry, rows, cols);
    std::vector<ControlPoint> points = extract_control_points(image, g, d_spacing_A, o);
    res = refine_geometry(res.geometry, rows, cols, points, d_spacing_A, refine_wavelength);
    // Drop points further than 3 rms from their ring (neighbouring features, gaps) and refine again.
    const DetectorGeometry refined(res.geometry, rows, cols);
    const std::vector<double> rings = ring_two_theta(d_spacing_A, res.geometry.wavelength_m);
    const bool fr = res.geometry.orientation == 1 || res.geometry.orientation == 2;
    const bool fc = res.geometry.orientation == 1 || res.geometry.orientation == 4;
    std::vector<ControlPoint> kept;
    for (const ControlPoint& c : points) {
      const double t = refined.two_theta(geometric(c.row, rows, fr), geometric(c.col, cols, fc));
      if (std::abs(t - rings[static_cast<std::size_t>(c.ring)]) <= 3 * res.rms_residual_rad) kept.push_back(c);
    }
    if (kept.size() >= 8 && kept.size() < points.size())
      res = refine_geometry(res.geometry, rows, cols, kept, d_spacing_A, refine_wavelength);
  }
  return res;
}

}  // namespace scandiff::xray
