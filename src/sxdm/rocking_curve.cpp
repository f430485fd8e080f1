#include "scandiff/sxdm/rocking_curve.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/analysis/least_squares.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/virtual_images.hpp"

namespace scandiff::sxdm {

namespace {

constexpr double fwhm_per_sigma = 2.3548200450309493;  // 2·sqrt(2·ln 2)

struct Model {
  bool with_offset = true;
  // p = (A, c, σ[, B])
  double value(const std::vector<double>& p, double x) const {
    const double u = (x - p[1]) / p[2];
    return p[0] * std::exp(-0.5 * u * u) + (with_offset ? p[3] : 0.0);
  }
  // d value / d p
  void gradient(const std::vector<double>& p, double x, double* g) const {
    const double u = (x - p[1]) / p[2];
    const double e = std::exp(-0.5 * u * u);
    g[0] = e;
    g[1] = p[0] * e * u / p[2];
    g[2] = p[0] * e * u * u / p[2];
    if (with_offset) g[3] = 1;
  }
};

double sse(const Model& m, const std::vector<double>& p, const std::vector<double>& x, const std::vector<double>& y) {
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - m.value(p, x[i]);
    s += r * r;
  }
  return s;
}

}  // namespace

GaussianFit fit_gaussian(std::span<const double> xs, std::span<const double> ys) {
  GaussianFit fit;
  std::vector<double> x, y;
  for (std::size_t i = 0; i < std::min(xs.size(), ys.size()); ++i)
    if (std::isfinite(xs[i]) && std::isfinite(ys[i])) {
      x.push_back(xs[i]);
      y.push_back(ys[i]);
    }
  if (x.size() < 3) {
    fit.message = fmt::format("{} finite point(s); a Gaussian fit needs at least 3", x.size());
    return fit;
  }
  Model m;
  m.with_offset = x.size() >= 4;
  const std::size_t np = m.with_offset ? 4 : 3;
  // Start: offset min(y), centroid and second moment of y − min(y).
  const double ymin = *std::min_element(y.begin(), y.end());
  const double ymax = *std::max_element(y.begin(), y.end());
  const double b0 = m.with_offset ? ymin : 0.0;
  double w = 0, c = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    w += y[i] - b0;
    c += (y[i] - b0) * x[i];
  }
  const double xmin = *std::min_element(x.begin(), x.end()), xmax = *std::max_element(x.begin(), x.end());
  if (!(w > 0) || !(xmax > xmin)) {
    fit.message = "no peak above the baseline (or all points at one θ)";
    return fit;
  }
  c /= w;
  double v = 0;
  for (std::size_t i = 0; i < x.size(); ++i) v += (y[i] - b0) * (x[i] - c) * (x[i] - c);
  double sigma = std::sqrt(v / w);
  if (!(sigma > 0)) sigma = (xmax - xmin) / 4;
  std::vector<double> p = {ymax - b0, c, sigma};
  if (m.with_offset) p.push_back(b0);
  double cost = sse(m, p, x, y);
  double lambda = 1e-3;
  const std::size_t n = x.size();
  bool converged = false;
  for (int iter = 0; iter < 200 && !converged; ++iter) {
    // Rows: J δ = r (n rows), then sqrt(λ)·diag(scale) δ = 0 (np rows).
    std::vector<double> a((n + np) * np, 0.0), rhs(n + np, 0.0), g(np);
    std::vector<double> col_norm(np, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      m.gradient(p, x[i], g.data());
      for (std::size_t k = 0; k < np; ++k) {
        a[i * np + k] = g[k];
        col_norm[k] += g[k] * g[k];
      }
      rhs[i] = y[i] - m.value(p, x[i]);
    }
    for (std::size_t k = 0; k < np; ++k) a[(n + k) * np + k] = std::sqrt(lambda * std::max(col_norm[k], 1e-300));
    std::vector<double> step;
    try {
      step = analysis::least_squares(a, static_cast<std::int64_t>(n + np), static_cast<std::int64_t>(np), rhs);
    } catch (const InvalidArgument&) {
      lambda *= 10;
      continue;
    }
    std::vector<double> q = p;
    for (std::size_t k = 0; k < np; ++k) q[k] += step[k];
    q[2] = std::abs(q[2]);
    const double new_cost = q[2] > 0 ? sse(m, q, x, y) : std::numeric_limits<double>::infinity();
    if (new_cost <= cost) {
      const double rel = (cost - new_cost) / std::max(cost, 1e-300);
      p = q;
      cost = new_cost;
      lambda = std::max(lambda / 10, 1e-12);
      double max_rel_step = 0;
      for (std::size_t k = 0; k < np; ++k)
        max_rel_step = std::max(max_rel_step, std::abs(step[k]) / std::max(std::abs(p[k]), 1e-12));
      if (rel < 1e-12 || max_rel_step < 1e-10) converged = true;
    } else {
      lambda *= 10;
      if (lambda > 1e12) converged = true;  // no further decrease possible: a minimum
    }
  }
  fit.ok = std::isfinite(cost) && p[2] > 0;
  fit.amplitude = p[0];
  fit.centre = p[1];
  fit.fwhm = fwhm_per_sigma * p[2];
  fit.offset = m.with_offset ? p[3] : 0.0;
  fit.rms_residual = std::sqrt(cost / static_cast<double>(n));
  if (!m.with_offset) fit.message = "3 points: offset fixed at 0";
  if (!fit.ok) fit.message = "the fit did not converge";
  return fit;
}

RockingCurve rocking_curve(const Frameset& frameset, const std::optional<DetectorBox>& roi,
                           const std::optional<DetectorBox>& fov, const engine::RunOptions& run) {
  RockingCurve curve;
  for (std::size_t i = 0; i < frameset.scans.size(); ++i) {
    auto scan = open_frameset_scan(frameset, i);
    const io::DatasetInfo& info = scan->info();
    const DetectorBox b = roi.value_or(DetectorBox{0, 0, info.frame_x, info.frame_y});
    if (b.x1 > info.frame_x || b.y1 > info.frame_y)
      throw InvalidArgument(fmt::format("--box: columns [{}, {}) rows [{}, {}) exceed the {}x{} frames of {}", b.x0,
                                        b.x1, b.y0, b.y1, info.frame_y, info.frame_x, info.path));
    const DetectorBox f = fov.value_or(DetectorBox{0, 0, info.scan_x, info.scan_y});
    if (f.x1 > info.scan_x || f.y1 > info.scan_y)
      throw InvalidArgument(fmt::format("--fov: columns [{}, {}) rows [{}, {}) exceed the {}x{} scan grid of {}", f.x0,
                                        f.x1, f.y0, f.y1, info.scan_y, info.scan_x, frameset.manifest.string()));
    std::vector<stem::NamedDetector> det;
    det.push_back({"roi", stem::Detector::rectangle(info.frame_y, info.frame_x, static_cast<double>(b.y0),
                                                    static_cast<double>(b.y1), static_cast<double>(b.x0),
                                                    static_cast<double>(b.x1))});
    stem::VirtualImages vi(std::move(det));
    std::vector<engine::Analysis*> list{&vi};
    engine::run(*scan, list, run);
    const auto image = vi.image(0).view<const double, 2>();
    if (curve.roi_map.empty()) {
      curve.roi_map = Array(DType::f64, {info.scan_y, info.scan_x});
      std::fill_n(curve.roi_map.data<double>(), curve.roi_map.size(), 0.0);
    }
    const double* im = vi.image(0).data<double>();
    double* acc = curve.roi_map.data<double>();
    for (std::int64_t k = 0; k < curve.roi_map.size(); ++k) acc[k] += im[k];
    const Array cover = frameset_coverage(frameset, i);
    const auto cv = cover.view<const std::uint8_t, 2>();
    RockingPoint pt;
    pt.scan = frameset.scans[i].name;
    pt.theta = frameset.scans[i].theta;
    for (std::int64_t r = f.y0; r < f.y1; ++r)
      for (std::int64_t c = f.x0; c < f.x1; ++c)
        if (cv(r, c)) {
          pt.intensity += image(r, c);
          ++pt.positions;
        }
    if (pt.positions == 0) pt.intensity = std::numeric_limits<double>::quiet_NaN();
    curve.points.push_back(pt);
  }
  std::stable_sort(curve.points.begin(), curve.points.end(),
                   [](const RockingPoint& a, const RockingPoint& b) { return a.theta < b.theta; });
  std::vector<double> th, in;
  for (const auto& p : curve.points) {
    th.push_back(p.theta);
    in.push_back(p.intensity);
  }
  curve.fit = fit_gaussian(th, in);
  return curve;
}

}  // namespace scandiff::sxdm
