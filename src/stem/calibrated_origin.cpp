#include "scandiff/stem/calibrated_origin.hpp"

#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

// The map as float64 values in scan order; checks shape and finiteness.
std::vector<double> map_values(const Array& map, std::int64_t sy, std::int64_t sx, std::string_view what,
                               const char* name) {
  if (map.rank() != 2 || map.shape(0) != sy || map.shape(1) != sx)
    throw InvalidArgument(fmt::format("{}: the origin map {} has shape {}, expected the scan shape ({}, {})", what,
                                      name, shape_string(map.shape()), sy, sx));
  const Array m = map.astype(DType::f64);
  const double* p = m.data<double>();
  std::vector<double> v(p, p + m.size());
  for (double x : v)
    if (!std::isfinite(x)) throw InvalidArgument(fmt::format("{}: the origin map {} holds NaN or inf", what, name));
  return v;
}

// Neumaier-compensated mean: within an ulp or two of the exact mean, for any map size.
double mean_of(const std::vector<double>& v) {
  double sum = 0, c = 0;
  for (double x : v) {
    const double t = sum + x;
    c += std::abs(sum) >= std::abs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  return (sum + c) / static_cast<double>(v.size());
}

}  // namespace

bool Origin::calibrated(const Calibration& cal) {
  return (cal.origin_qy_px && cal.origin_qx_px) || (!cal.origin_qy_map.empty() && !cal.origin_qx_map.empty());
}

Origin Origin::from_calibration(const Calibration& cal, std::int64_t sy, std::int64_t sx, std::string_view what) {
  Origin o;
  if (!cal.origin_qy_map.empty() && !cal.origin_qx_map.empty()) {
    o.qy_ = map_values(cal.origin_qy_map, sy, sx, what, "origin_qy");
    o.qx_ = map_values(cal.origin_qx_map, sy, sx, what, "origin_qx");
    o.mean_qy_ = mean_of(o.qy_);
    o.mean_qx_ = mean_of(o.qx_);
    return o;
  }
  if (cal.origin_qy_px && cal.origin_qx_px) {
    if (!std::isfinite(*cal.origin_qy_px) || !std::isfinite(*cal.origin_qx_px))
      throw InvalidArgument(fmt::format("{}: the calibrated origin is not finite", what));
    o.mean_qy_ = *cal.origin_qy_px;
    o.mean_qx_ = *cal.origin_qx_px;
    return o;
  }
  throw InvalidArgument(fmt::format("{}: the dataset has no calibrated diffraction origin (neither a global origin "
                                    "nor per-position origin maps)",
                                    what));
}

}  // namespace scandiff::stem
