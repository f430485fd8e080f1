#include "scandiff/stem/detector.hpp"

#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

void check_frame(std::int64_t fy, std::int64_t fx) {
  if (fy <= 0 || fx <= 0) throw InvalidArgument(fmt::format("detector: frame shape {}x{} must be positive", fy, fx));
}

void check_finite(double v, const char* what) {
  if (!std::isfinite(v)) throw InvalidArgument(fmt::format("detector: {} must be a finite number", what));
}

// Pixels whose squared distance d2 from (qy0, qx0) satisfies keep(d2) get weight 1.
template <class Keep>
std::vector<double> radial_mask(std::int64_t fy, std::int64_t fx, double qy0, double qx0, Keep keep) {
  std::vector<double> w(static_cast<std::size_t>(fy * fx), 0.0);
  for (std::int64_t i = 0; i < fy; ++i)
    for (std::int64_t j = 0; j < fx; ++j) {
      const double dy = static_cast<double>(i) - qy0, dx = static_cast<double>(j) - qx0;
      if (keep(dy * dy + dx * dx)) w[static_cast<std::size_t>(i * fx + j)] = 1.0;
    }
  return w;
}

}  // namespace

Detector Detector::from_weights(std::int64_t fy, std::int64_t fx, const std::vector<double>& w, Metadata parameters) {
  Detector d;
  d.frame_y_ = fy;
  d.frame_x_ = fx;
  d.parameters_ = std::move(parameters);
  for (std::int64_t i = 0; i < fy; ++i) {
    std::int64_t j = 0;
    while (j < fx) {
      const double v = w[static_cast<std::size_t>(i * fx + j)];
      if (v == 0.0) {
        ++j;
        continue;
      }
      std::int64_t k = j + 1;
      while (k < fx && w[static_cast<std::size_t>(i * fx + k)] == v) ++k;
      d.runs_.push_back({i * fx + j, k - j, v});
      j = k;
    }
  }
  return d;
}

Detector Detector::point(std::int64_t fy, std::int64_t fx, double qy, double qx) {
  check_frame(fy, fx);
  check_finite(qy, "point qy");
  check_finite(qx, "point qx");
  const double i = std::trunc(qy), j = std::trunc(qx);
  if (i < 0 || j < 0 || i >= static_cast<double>(fy) || j >= static_cast<double>(fx))
    throw InvalidArgument(
        fmt::format("point detector: pixel ({}, {}) lies outside the {}x{} frame", qy, qx, fy, fx));
  std::vector<double> w(static_cast<std::size_t>(fy * fx), 0.0);
  w[static_cast<std::size_t>(static_cast<std::int64_t>(i) * fx + static_cast<std::int64_t>(j))] = 1.0;
  return from_weights(fy, fx, w, {{"shape", "point"}, {"qy_px", qy}, {"qx_px", qx}});
}

Detector Detector::circle(std::int64_t fy, std::int64_t fx, double qy0, double qx0, double radius) {
  check_frame(fy, fx);
  check_finite(qy0, "centre qy");
  check_finite(qx0, "centre qx");
  if (!(radius > 0)) throw InvalidArgument(fmt::format("circle detector: radius {} px must be > 0", radius));
  const double r2 = radius * radius;
  return from_weights(fy, fx, radial_mask(fy, fx, qy0, qx0, [&](double d2) { return d2 < r2; }),
                      {{"shape", "circle"}, {"center_qy_px", qy0}, {"center_qx_px", qx0}, {"radius_px", radius}});
}

Detector Detector::annulus(std::int64_t fy, std::int64_t fx, double qy0, double qx0, double r_in, double r_out) {
  check_frame(fy, fx);
  check_finite(qy0, "centre qy");
  check_finite(qx0, "centre qx");
  if (!(r_in >= 0) || !(r_out > r_in))
    throw InvalidArgument(
        fmt::format("annular detector: radii inner {} px, outer {} px; expected 0 <= inner < outer", r_in, r_out));
  const double a = r_in * r_in, b = r_out * r_out;
  return from_weights(fy, fx, radial_mask(fy, fx, qy0, qx0, [&](double d2) { return a < d2 && d2 < b; }),
                      {{"shape", "annulus"},
                       {"center_qy_px", qy0},
                       {"center_qx_px", qx0},
                       {"inner_radius_px", r_in},
                       {"outer_radius_px", r_out}});
}

Detector Detector::rectangle(std::int64_t fy, std::int64_t fx, double qy_min, double qy_max, double qx_min,
                             double qx_max) {
  check_frame(fy, fx);
  check_finite(qy_min, "qy_min");
  check_finite(qy_max, "qy_max");
  check_finite(qx_min, "qx_min");
  check_finite(qx_max, "qx_max");
  // numpy.round: halves to even (4.5 -> 4), as py4DSTEM's int(np.round(g)).
  const auto y0 = static_cast<std::int64_t>(std::nearbyint(qy_min)), y1 = static_cast<std::int64_t>(std::nearbyint(qy_max));
  const auto x0 = static_cast<std::int64_t>(std::nearbyint(qx_min)), x1 = static_cast<std::int64_t>(std::nearbyint(qx_max));
  if (y0 < 0 || x0 < 0 || y1 > fy || x1 > fx || y1 <= y0 || x1 <= x0)
    throw InvalidArgument(fmt::format("rectangle detector: rows [{}, {}) and columns [{}, {}) must be non-empty and "
                                      "inside the {}x{} frame",
                                      y0, y1, x0, x1, fy, fx));
  std::vector<double> w(static_cast<std::size_t>(fy * fx), 0.0);
  for (auto i = y0; i < y1; ++i)
    for (auto j = x0; j < x1; ++j) w[static_cast<std::size_t>(i * fx + j)] = 1.0;
  return from_weights(fy, fx, w,
                      {{"shape", "rectangle"}, {"qy_min", y0}, {"qy_max", y1}, {"qx_min", x0}, {"qx_max", x1}});
}

Detector Detector::from_mask(const Array& mask) {
  if (mask.rank() != 2)
    throw InvalidArgument(fmt::format("detector mask: shape {} must be 2D (qy, qx)", shape_string(mask.shape())));
  const Array m = mask.astype(DType::f64);
  const double* p = m.data<double>();
  std::vector<double> w(p, p + m.size());
  for (double v : w)
    if (!std::isfinite(v)) throw InvalidArgument("detector mask: contains NaN or infinite weights");
  return from_weights(mask.shape(0), mask.shape(1), w, {{"shape", "mask"}});
}

Array Detector::weights() const {
  Array w(DType::f64, {frame_y_, frame_x_});
  double* p = w.data<double>();
  for (const Run& r : runs_)
    for (std::int64_t k = 0; k < r.length; ++k) p[r.offset + k] = r.weight;
  return w;
}

}  // namespace scandiff::stem
