#include "scandiff/stem/origin_fit.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scandiff/analysis/least_squares.hpp"
#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

double normalised(std::int64_t i, std::int64_t n) { return n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.0; }

// The model's terms at normalised (v, u) = (ry, rx) coordinates.
void terms(SurfaceModel model, double v, double u, double* t) {
  switch (model) {
    case SurfaceModel::constant: t[0] = 1; return;
    case SurfaceModel::plane: t[0] = 1; t[1] = u; t[2] = v; return;
    case SurfaceModel::parabola:
      t[0] = 1; t[1] = u; t[2] = v; t[3] = u * u; t[4] = v * v; t[5] = u * v;
      return;
    case SurfaceModel::bezier: {
      const double bv[3] = {(1 - v) * (1 - v), 2 * v * (1 - v), v * v};
      const double bu[3] = {(1 - u) * (1 - u), 2 * u * (1 - u), u * u};
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) t[3 * i + j] = bv[i] * bu[j];
      return;
    }
  }
}

std::vector<double> as_f64(const Array& a) {
  Array c = a.astype(DType::f64);
  return {c.data<double>(), c.data<double>() + c.size()};
}

Array map_from(const std::vector<double>& v, std::int64_t sy, std::int64_t sx) {
  Array a(DType::f64, {sy, sx});
  std::copy(v.begin(), v.end(), a.data<double>());
  return a;
}

}  // namespace

std::string_view name_of(SurfaceModel model) {
  switch (model) {
    case SurfaceModel::constant: return "constant";
    case SurfaceModel::plane: return "plane";
    case SurfaceModel::parabola: return "parabola";
    case SurfaceModel::bezier: return "bezier";
  }
  return "?";
}

SurfaceModel parse_surface_model(std::string_view text, std::string_view what) {
  if (text == "constant") return SurfaceModel::constant;
  if (text == "plane") return SurfaceModel::plane;
  if (text == "parabola") return SurfaceModel::parabola;
  if (text == "bezier" || text == "bezier_two") return SurfaceModel::bezier;
  throw InvalidArgument(fmt::format("{} '{}': expected constant, plane, parabola or bezier", what, text));
}

int term_count(SurfaceModel model) {
  switch (model) {
    case SurfaceModel::constant: return 1;
    case SurfaceModel::plane: return 3;
    case SurfaceModel::parabola: return 6;
    case SurfaceModel::bezier: return 9;
  }
  return 0;
}

double evaluate_surface(SurfaceModel model, const std::vector<double>& c, double ry, double rx, std::int64_t scan_y,
                        std::int64_t scan_x) {
  if (c.size() != static_cast<std::size_t>(term_count(model)))
    throw InvalidArgument(fmt::format("origin fit: a {} surface has {} coefficients (got {})", name_of(model),
                                      term_count(model), c.size()));
  const double v = scan_y > 1 ? ry / static_cast<double>(scan_y - 1) : 0.0;
  const double u = scan_x > 1 ? rx / static_cast<double>(scan_x - 1) : 0.0;
  double t[9];
  terms(model, v, u, t);
  double s = 0;
  for (std::size_t k = 0; k < c.size(); ++k) s += c[k] * t[k];
  return s;
}

OriginFit fit_origin(const Array& measured_qy, const Array& measured_qx, const OriginFitOptions& o) {
  if (measured_qy.rank() != 2 || measured_qy.shape() != measured_qx.shape())
    throw InvalidArgument(fmt::format("origin fit: the measured maps must be two (ry, rx) arrays of one shape (got {} and {})",
                                      shape_string(measured_qy.shape()), shape_string(measured_qx.shape())));
  if (o.max_iterations < 1) throw InvalidArgument(fmt::format("origin fit: max_iterations must be >= 1 (got {})", o.max_iterations));
  if (!(o.outlier_threshold > 0))
    throw InvalidArgument(fmt::format("origin fit: outlier_threshold must be > 0 (got {})", o.outlier_threshold));
  if (!(o.min_sigma_px >= 0)) throw InvalidArgument(fmt::format("origin fit: min_sigma_px must be >= 0 (got {})", o.min_sigma_px));

  const std::int64_t sy = measured_qy.shape(0), sx = measured_qy.shape(1);
  const auto n = static_cast<std::size_t>(sy * sx);
  const int nt = term_count(o.model);
  const std::vector<double> my = as_f64(measured_qy), mx = as_f64(measured_qx);
  std::vector<double> design(n * static_cast<std::size_t>(nt));
  for (std::int64_t ry = 0; ry < sy; ++ry)
    for (std::int64_t rx = 0; rx < sx; ++rx)
      terms(o.model, normalised(ry, sy), normalised(rx, sx), &design[static_cast<std::size_t>(ry * sx + rx) * static_cast<std::size_t>(nt)]);

  std::vector<char> finite(n), use(n);
  for (std::size_t i = 0; i < n; ++i) finite[i] = use[i] = std::isfinite(my[i]) && std::isfinite(mx[i]);

  OriginFit fit;
  fit.model = o.model;
  std::vector<double> fy(n), fx(n), ry(n), rx(n);
  std::vector<char> fitted_with;  // the positions the last fit used
  for (int it = 0; it < o.max_iterations; ++it) {
    fitted_with = use;
    std::vector<double> a, by, bx;
    for (std::size_t i = 0; i < n; ++i) {
      if (!use[i]) continue;
      a.insert(a.end(), design.begin() + static_cast<std::ptrdiff_t>(i * nt), design.begin() + static_cast<std::ptrdiff_t>((i + 1) * nt));
      by.push_back(my[i]);
      bx.push_back(mx[i]);
    }
    const auto rows = static_cast<std::int64_t>(by.size());
    if (rows < nt)
      throw InvalidArgument(fmt::format("origin fit: a {} surface needs at least {} measured positions, {} remain",
                                        name_of(o.model), nt, rows));
    fit.coefficients_qy = analysis::least_squares(a, rows, nt, by);
    fit.coefficients_qx = analysis::least_squares(a, rows, nt, bx);
    fit.iterations = it + 1;
    for (std::size_t i = 0; i < n; ++i) {
      double sy_ = 0, sx_ = 0;
      for (int k = 0; k < nt; ++k) {
        const double t = design[i * static_cast<std::size_t>(nt) + static_cast<std::size_t>(k)];
        sy_ += fit.coefficients_qy[static_cast<std::size_t>(k)] * t;
        sx_ += fit.coefficients_qx[static_cast<std::size_t>(k)] * t;
      }
      fy[i] = sy_;
      fx[i] = sx_;
      ry[i] = my[i] - sy_;
      rx[i] = mx[i] - sx_;
    }
    if (!o.robust) break;
    // Robust centre and spread of each component's residuals over the positions used.
    auto centre_spread = [&](const std::vector<double>& r) {
      std::vector<double> v;
      for (std::size_t i = 0; i < n; ++i)
        if (use[i]) v.push_back(r[i]);
      std::vector<double> w = v;
      const double med = analysis::median_inplace(v);
      return std::pair{med, std::max(analysis::robust_sigma_inplace(w), o.min_sigma_px)};
    };
    const auto [cy, sigy] = centre_spread(ry);
    const auto [cx, sigx] = centre_spread(rx);
    bool changed = false;
    for (std::size_t i = 0; i < n; ++i) {
      const char keep = finite[i] && std::abs(ry[i] - cy) <= o.outlier_threshold * sigy &&
                        std::abs(rx[i] - cx) <= o.outlier_threshold * sigx;
      changed |= keep != use[i];
      use[i] = keep;
    }
    if (!changed) break;
  }
  fit.inliers = Array(DType::u8, {sy, sx});
  std::uint8_t* in = fit.inliers.data<std::uint8_t>();
  double ss_y = 0, ss_x = 0;
  for (std::size_t i = 0; i < n; ++i) {
    in[i] = fitted_with[i] ? 1 : 0;
    if (!fitted_with[i]) continue;
    ++fit.used;
    ss_y += ry[i] * ry[i];
    ss_x += rx[i] * rx[i];
  }
  fit.rms_qy_px = std::sqrt(ss_y / static_cast<double>(fit.used));
  fit.rms_qx_px = std::sqrt(ss_x / static_cast<double>(fit.used));
  fit.qy = map_from(fy, sy, sx);
  fit.qx = map_from(fx, sy, sx);
  fit.residual_qy = map_from(ry, sy, sx);
  fit.residual_qx = map_from(rx, sy, sx);
  return fit;
}

void set_origin(Calibration& cal, const OriginFit& fit) {
  cal.origin_qy_map = fit.qy;
  cal.origin_qx_map = fit.qx;
  auto mean = [](const Array& a) {
    double s = 0;
    const double* p = a.data<double>();
    for (std::int64_t i = 0; i < a.size(); ++i) s += p[i];
    return s / static_cast<double>(a.size());
  };
  cal.origin_qy_px = mean(fit.qy);
  cal.origin_qx_px = mean(fit.qx);
}

}  // namespace scandiff::stem
