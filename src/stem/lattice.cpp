#include "scandiff/stem/lattice.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/gaussian_filter.hpp"
#include "scandiff/analysis/least_squares.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

struct Point {
  double x, y, w;
};

// (h, k) coordinates of q − g0 in the basis (g1, g2); false when the basis is degenerate.
bool solve_hk(const Lattice& l, double qx, double qy, double& h, double& k) {
  const double det = l.g1x * l.g2y - l.g2x * l.g1y;
  const double scale = std::hypot(l.g1x, l.g1y) * std::hypot(l.g2x, l.g2y);
  if (!(std::abs(det) > 1e-9 * scale)) return false;
  const double dx = qx - l.x0, dy = qy - l.y0;
  h = (l.g2y * dx - l.g2x * dy) / det;
  k = (-l.g1y * dx + l.g1x * dy) / det;
  return true;
}

// Weighted least squares of q = g0 + h·g1 + k·g2 over indexed points; false if degenerate.
bool fit_points(const std::vector<Point>& pts, const std::vector<std::pair<double, double>>& hk, Lattice& out,
                double* error) {
  const auto n = static_cast<std::int64_t>(pts.size());
  if (n < 3) return false;
  std::vector<double> a(static_cast<std::size_t>(3 * n)), bx(static_cast<std::size_t>(n)), by(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    const double w = pts[u].w;
    a[3 * u] = w;
    a[3 * u + 1] = w * hk[u].first;
    a[3 * u + 2] = w * hk[u].second;
    bx[u] = w * pts[u].x;
    by[u] = w * pts[u].y;
  }
  std::vector<double> cx, cy;
  try {
    cx = analysis::least_squares(a, n, 3, bx);
    cy = analysis::least_squares(a, n, 3, by);
  } catch (const InvalidArgument&) {
    return false;  // (h, k) collinear or zero weights
  }
  out = {cx[0], cy[0], cx[1], cy[1], cx[2], cy[2]};
  if (error) {
    double num = 0, den = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const double px = out.x0 + hk[u].first * out.g1x + hk[u].second * out.g2x;
      const double py = out.y0 + hk[u].first * out.g1y + hk[u].second * out.g2y;
      num += pts[u].w * std::hypot(pts[u].x - px, pts[u].y - py);
      den += pts[u].w;
    }
    *error = den > 0 ? num / den : std::numeric_limits<double>::quiet_NaN();
  }
  return true;
}

}  // namespace

Lattice find_lattice(const BraggVectors& v, const LatticeSearchOptions& o) {
  if (!v.is_calibrated()) throw InvalidArgument("lattice: expected calibrated (origin-subtracted) vectors");
  if (!(o.step > 0) || !std::isfinite(o.step)) throw InvalidArgument(fmt::format("lattice: step must be > 0 (got {})", o.step));
  if (!(o.min_relative >= 0 && o.min_relative < 1))
    throw InvalidArgument(fmt::format("lattice: min_relative must be in [0, 1) (got {})", o.min_relative));
  if (o.max_maxima < 3) throw InvalidArgument(fmt::format("lattice: max_maxima must be >= 3 (got {})", o.max_maxima));
  if (!(o.tolerance > 0 && o.tolerance < 0.5))
    throw InvalidArgument(fmt::format("lattice: tolerance must be in (0, 0.5) (got {})", o.tolerance));
  double extent = 0;
  for (std::int64_t p = 0; p < v.positions(); ++p)
    for (const BraggPeak& b : v.at(p))
      if (std::isfinite(b.qx) && std::isfinite(b.qy)) extent = std::max({extent, std::abs(b.qx), std::abs(b.qy)});
  if (v.total_peaks() == 0) throw InvalidArgument("lattice: there are no Bragg peaks to find a lattice in");
  const double half = std::ceil(extent / o.step) + 3;
  if (half > 2048) throw InvalidArgument(fmt::format("lattice: the vectors span {} {}; step {} would need a map of more "
                                                     "than 4096 bins per side (increase the step)",
                                                     extent, v.units(), o.step));
  const auto r = static_cast<std::int64_t>(half), n = 2 * r + 1;
  const Array raw = bragg_vector_map(v, n, n, o.step, static_cast<double>(r), static_cast<double>(r));
  std::vector<double> map(static_cast<std::size_t>(n * n)), scratch;
  const std::vector<double> kernel = analysis::gaussian_kernel(1.0);
  analysis::gaussian_blur({raw.data<double>(), static_cast<std::size_t>(n * n)}, map, n, n, kernel, scratch);
  const double vmax = *std::max_element(map.begin(), map.end());
  if (!(vmax > 0)) throw InvalidArgument("lattice: the Bragg vector map is empty");
  std::vector<Point> maxima;
  for (std::int64_t y = 1; y + 1 < n; ++y)
    for (std::int64_t x = 1; x + 1 < n; ++x) {
      const double c = map[static_cast<std::size_t>(y * n + x)];
      if (c < o.min_relative * vmax || c <= 0) continue;
      bool is_max = true;
      for (int dy = -1; dy <= 1 && is_max; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          if (!dy && !dx) continue;
          const double nb = map[static_cast<std::size_t>((y + dy) * n + x + dx)];
          if ((dy < 0 || (dy == 0 && dx < 0)) ? nb > c : nb >= c) {
            is_max = false;
            break;
          }
        }
      if (!is_max) continue;
      auto at = [&](std::int64_t a, std::int64_t b) { return map[static_cast<std::size_t>(a * n + b)]; };
      const double ym = at(y - 1, x), yp = at(y + 1, x), xm = at(y, x - 1), xp = at(y, x + 1);
      const double den_y = 2 * c - yp - ym, den_x = 2 * c - xp - xm;
      const double fy = den_y > 0 ? 0.5 * (yp - ym) / den_y : 0, fx = den_x > 0 ? 0.5 * (xp - xm) / den_x : 0;
      maxima.push_back({(static_cast<double>(x - r) + fx) * o.step, (static_cast<double>(y - r) + fy) * o.step, c});
    }
  std::sort(maxima.begin(), maxima.end(), [](const Point& a, const Point& b) { return a.w > b.w; });
  if (maxima.size() > static_cast<std::size_t>(o.max_maxima)) maxima.resize(static_cast<std::size_t>(o.max_maxima));
  if (maxima.size() < 3)
    throw InvalidArgument(fmt::format("lattice: the Bragg vector map has {} maxima, at least 3 are needed", maxima.size()));
  // g0 nearest the origin; g1 nearest g0; g2 by py4DSTEM's score among the non-collinear ones.
  const Point g0 = *std::min_element(maxima.begin(), maxima.end(), [](const Point& a, const Point& b) {
    return std::hypot(a.x, a.y) < std::hypot(b.x, b.y);
  });
  const double min_len = 2 * o.step;
  const Point* g1 = nullptr;
  for (const Point& m : maxima) {
    const double d = std::hypot(m.x - g0.x, m.y - g0.y);
    if (d > min_len && (!g1 || d < std::hypot(g1->x - g0.x, g1->y - g0.y))) g1 = &m;
  }
  if (!g1) throw InvalidArgument("lattice: no Bragg vector map maximum apart from the central one");
  const double g1x = g1->x - g0.x, g1y = g1->y - g0.y, l1 = std::hypot(g1x, g1y), phi1 = std::atan2(g1y, g1x);
  const Point* g2 = nullptr;
  double best = std::numeric_limits<double>::infinity();
  for (const Point& m : maxima) {
    const double dx = m.x - g0.x, dy = m.y - g0.y, d = std::hypot(dx, dy);
    if (d <= min_len || std::abs(g1x * dy - g1y * dx) < 0.2 * l1 * d) continue;
    const double c = std::cos(std::atan2(dy, dx) - phi1);
    const double score = d * (c * c + 0.1);
    if (score < best) {
      best = score;
      g2 = &m;
    }
  }
  if (!g2) throw InvalidArgument("lattice: all Bragg vector map maxima are collinear; no second lattice vector");
  Lattice guess{g0.x, g0.y, g1x, g1y, g2->x - g0.x, g2->y - g0.y};
  // Refine over every maximum that indexes within tolerance.
  const double tol = o.tolerance * std::min(l1, std::hypot(guess.g2x, guess.g2y));
  std::vector<Point> pts;
  std::vector<std::pair<double, double>> hk;
  for (const Point& m : maxima) {
    double h = 0, k = 0;
    if (!solve_hk(guess, m.x, m.y, h, k)) break;
    h = std::round(h);
    k = std::round(k);
    const double px = guess.x0 + h * guess.g1x + k * guess.g2x, py = guess.y0 + h * guess.g1y + k * guess.g2y;
    if (std::hypot(m.x - px, m.y - py) <= tol) {
      pts.push_back(m);
      hk.emplace_back(h, k);
    }
  }
  Lattice refined;
  if (fit_points(pts, hk, refined, nullptr)) return refined;
  return guess;
}

LatticeMaps fit_lattice(const BraggVectors& v, const Lattice& guess, const LatticeFitOptions& o) {
  if (!v.is_calibrated()) throw InvalidArgument("lattice fit: expected calibrated (origin-subtracted) vectors");
  if (o.min_peaks < 3) throw InvalidArgument(fmt::format("lattice fit: min_peaks must be >= 3 (got {})", o.min_peaks));
  double dummy_h = 0, dummy_k = 0;
  if (!solve_hk(guess, 0, 0, dummy_h, dummy_k))
    throw InvalidArgument("lattice fit: g1 and g2 are collinear or zero; no lattice to index with");
  const double l_min = std::min(std::hypot(guess.g1x, guess.g1y), std::hypot(guess.g2x, guess.g2y));
  const double spacing = o.max_peak_spacing > 0 ? o.max_peak_spacing : 0.25 * l_min;
  if (!std::isfinite(spacing)) throw InvalidArgument("lattice fit: max_peak_spacing must be finite");
  const Shape shape{v.scan_y(), v.scan_x()};
  LatticeMaps m{Array(DType::f64, shape), Array(DType::f64, shape), Array(DType::f64, shape), Array(DType::f64, shape),
                Array(DType::f64, shape), Array(DType::f64, shape), Array(DType::f64, shape), Array(DType::u8, shape),
                Array(DType::f64, shape), 0};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Point> pts;
  std::vector<std::pair<double, double>> hk;
  for (std::int64_t p = 0; p < v.positions(); ++p) {
    pts.clear();
    hk.clear();
    for (const BraggPeak& b : v.at(p)) {
      double h = 0, k = 0;
      if (!std::isfinite(b.qx) || !std::isfinite(b.qy) || !solve_hk(guess, b.qx, b.qy, h, k)) continue;
      h = std::round(h);
      k = std::round(k);
      const double px = guess.x0 + h * guess.g1x + k * guess.g2x, py = guess.y0 + h * guess.g1y + k * guess.g2y;
      if (std::hypot(b.qx - px, b.qy - py) > spacing) continue;
      pts.push_back({b.qx, b.qy, b.intensity});
      hk.emplace_back(h, k);
    }
    Lattice l;
    double err = nan;
    const bool ok = static_cast<int>(pts.size()) >= o.min_peaks && fit_points(pts, hk, l, &err);
    m.x0.data<double>()[p] = ok ? l.x0 : nan;
    m.y0.data<double>()[p] = ok ? l.y0 : nan;
    m.g1x.data<double>()[p] = ok ? l.g1x : nan;
    m.g1y.data<double>()[p] = ok ? l.g1y : nan;
    m.g2x.data<double>()[p] = ok ? l.g2x : nan;
    m.g2y.data<double>()[p] = ok ? l.g2y : nan;
    m.error.data<double>()[p] = ok ? err : nan;
    m.valid.data<std::uint8_t>()[p] = ok ? 1 : 0;
    m.indexed.data<double>()[p] = static_cast<double>(pts.size());
    if (ok) ++m.fitted;
  }
  return m;
}

double cubic_g_inv_A(double a_A, int h, int k, int l) {
  if (!(a_A > 0) || !std::isfinite(a_A)) throw InvalidArgument(fmt::format("lattice parameter must be > 0 A (got {})", a_A));
  if (h == 0 && k == 0 && l == 0) throw InvalidArgument("reflection (0, 0, 0) has no length");
  return std::sqrt(static_cast<double>(h * h + k * k + l * l)) / a_A;
}

double reciprocal_pixel_size(const Lattice& px, double g1_inv_A, double g2_inv_A) {
  const double l1 = std::hypot(px.g1x, px.g1y), l2 = std::hypot(px.g2x, px.g2y);
  if (!(l1 > 0 && l2 > 0)) throw InvalidArgument("reciprocal pixel size: the lattice vectors have zero length");
  if (!(g1_inv_A > 0 && g2_inv_A > 0)) throw InvalidArgument("reciprocal pixel size: expected lengths must be > 0");
  return 0.5 * (g1_inv_A / l1 + g2_inv_A / l2);
}

}  // namespace scandiff::stem
