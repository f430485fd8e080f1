#include "scandiff/stem/ellipse_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/least_squares.hpp"

namespace scandiff::stem {

void ellipse_to_implicit(const Ellipse& e, double& A, double& B, double& C) {
  const double c = std::cos(e.theta_rad), s = std::sin(e.theta_rad);
  const double ia = 1 / (e.a_px * e.a_px), ib = 1 / (e.b_px * e.b_px);
  A = c * c * ia + s * s * ib;
  C = s * s * ia + c * c * ib;
  B = 2 * c * s * (ia - ib);
}

Ellipse implicit_to_ellipse(double A, double B, double C) {
  // Eigenvalues of [[A, B/2], [B/2, C]]: the smaller belongs to the a-axis.
  const double mean = (A + C) / 2, half = std::hypot((A - C) / 2, B / 2);
  const double lo = mean - half, hi = mean + half;
  if (!(lo > 0)) throw Error(fmt::format("ellipse fit: A = {}, B = {}, C = {} is not an ellipse", A, B, C));
  Ellipse e;
  e.a_px = 1 / std::sqrt(lo);
  e.b_px = 1 / std::sqrt(hi);
  // 0.5·atan2(B, A − C) is the direction of the largest value of the form (the b-axis).
  double theta = 0.5 * std::atan2(B, A - C) + std::numbers::pi / 2;
  while (theta > std::numbers::pi / 2) theta -= std::numbers::pi;
  while (theta <= -std::numbers::pi / 2) theta += std::numbers::pi;
  e.theta_rad = theta;
  return e;
}

EllipseFitResult fit_ellipse_ring(const Array& pattern, const EllipseFitOptions& o, const Array* mask) {
  if (pattern.rank() != 2)
    throw InvalidArgument(fmt::format("ellipse fit: pattern of shape {} is not 2D", shape_string(pattern.shape())));
  if (!(o.r_inner_px >= 0 && o.r_outer_px > o.r_inner_px + 1))
    throw InvalidArgument(fmt::format("ellipse fit: annulus {}..{} px: need 0 <= inner < outer - 1", o.r_inner_px,
                                      o.r_outer_px));
  const std::int64_t ny = pattern.shape(0), nx = pattern.shape(1);
  if (mask && (mask->shape() != pattern.shape() || mask->dtype() != DType::u8))
    throw InvalidArgument("ellipse fit: the mask must be uint8 of the pattern's shape");
  const Array img = pattern.astype(DType::f64);
  const Array m = mask ? mask->astype(DType::u8) : Array();

  // Pixels of the annulus (about the initial centre) and their intensities.
  std::vector<double> xs, ys, vals;
  for (std::int64_t qy = 0; qy < ny; ++qy)
    for (std::int64_t qx = 0; qx < nx; ++qx) {
      if (mask && m.data<std::uint8_t>()[qy * nx + qx]) continue;
      const double dx = static_cast<double>(qx) - o.center_qx_px, dy = static_cast<double>(qy) - o.center_qy_px;
      const double r = std::hypot(dx, dy);
      if (r > o.r_inner_px && r <= o.r_outer_px) {
        const double v = img.data<double>()[qy * nx + qx];
        if (!std::isfinite(v)) continue;
        xs.push_back(static_cast<double>(qx));
        ys.push_back(static_cast<double>(qy));
        vals.push_back(v);
      }
    }
  if (xs.size() < 16) throw InvalidArgument("ellipse fit: fewer than 16 pixels in the annulus (check the radii and centre)");
  std::vector<double> sorted(vals);
  const auto p10 = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 10);
  std::nth_element(sorted.begin(), p10, sorted.end());
  const double floor = *p10;
  std::vector<double> sw;  // √w
  std::vector<double> px, py;
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (vals[i] > floor) {
      sw.push_back(std::sqrt(vals[i] - floor));
      px.push_back(xs[i]);
      py.push_back(ys[i]);
    }
  if (sw.size() < 16) throw InvalidArgument("ellipse fit: the annulus holds no ring (flat intensity)");

  const double r0 = (o.r_inner_px + o.r_outer_px) / 2;
  double p[5] = {o.center_qx_px, o.center_qy_px, 1 / (r0 * r0), 0, 1 / (r0 * r0)};  // x0, y0, A, B, C
  const auto n = static_cast<std::int64_t>(sw.size());
  const auto cost_of = [&](const double* q) {
    double c = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double dx = px[static_cast<std::size_t>(i)] - q[0], dy = py[static_cast<std::size_t>(i)] - q[1];
      const double Q = q[2] * dx * dx + q[3] * dx * dy + q[4] * dy * dy;
      if (!(Q > 0)) return std::numeric_limits<double>::infinity();
      const double r = sw[static_cast<std::size_t>(i)] * (1 - 1 / std::sqrt(Q));
      c += r * r;
    }
    return c;
  };
  double cost = cost_of(p);
  std::vector<double> J(static_cast<std::size_t>(n * 5)), rhs(static_cast<std::size_t>(n));
  EllipseFitResult out;
  int it = 0;
  for (; it < o.max_iterations; ++it) {
    for (std::int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      const double dx = px[k] - p[0], dy = py[k] - p[1];
      const double Q = p[2] * dx * dx + p[3] * dx * dy + p[4] * dy * dy;
      const double g = sw[k] * 0.5 * std::pow(Q, -1.5);  // d residual / dQ
      double* row = &J[k * 5];
      row[0] = -g * (2 * p[2] * dx + p[3] * dy);
      row[1] = -g * (p[3] * dx + 2 * p[4] * dy);
      row[2] = g * dx * dx;
      row[3] = g * dx * dy;
      row[4] = g * dy * dy;
      rhs[k] = -sw[k] * (1 - 1 / std::sqrt(Q));
    }
    const std::vector<double> step = analysis::least_squares(J, n, 5, rhs);
    double trial[5];
    double t = 1, new_cost = std::numeric_limits<double>::infinity();
    for (int half = 0; half < 30; ++half, t /= 2) {
      for (int j = 0; j < 5; ++j) trial[j] = p[j] + t * step[static_cast<std::size_t>(j)];
      new_cost = cost_of(trial);
      if (new_cost <= cost) break;
    }
    if (!(new_cost <= cost)) break;
    std::copy(trial, trial + 5, p);
    const double rel = (cost - new_cost) / std::max(cost, 1e-300);
    cost = new_cost;
    if (rel < 1e-14 || t * std::hypot(step[0], step[1]) < 1e-9) {
      ++it;
      break;
    }
  }
  out.center_qx_px = p[0];
  out.center_qy_px = p[1];
  out.A = p[2];
  out.B = p[3];
  out.C = p[4];
  out.ellipse = implicit_to_ellipse(p[2], p[3], p[4]);
  out.pixels = n;
  out.iterations = it;
  double wsum = 0;
  for (double s : sw) wsum += s * s;
  out.rms_radial_px = std::sqrt(cost / wsum) * std::sqrt(out.ellipse.a_px * out.ellipse.b_px);
  return out;
}

}  // namespace scandiff::stem
