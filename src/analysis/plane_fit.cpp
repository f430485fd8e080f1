#include "scandiff/analysis/plane_fit.hpp"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/least_squares.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

Plane fit_plane(const Array& map) {
  if (map.rank() != 2) throw InvalidArgument(fmt::format("plane fit: shape {} must be 2D", shape_string(map.shape())));
  const Array m = map.astype(DType::f64);
  const auto v = m.view<const double, 2>();
  // Rows [1, y, x] in centred coordinates (better conditioned), solved by the shared QR solver.
  const double cy = 0.5 * static_cast<double>(m.shape(0) - 1), cx = 0.5 * static_cast<double>(m.shape(1) - 1);
  std::vector<double> a, b;
  for (std::int64_t i = 0; i < m.shape(0); ++i)
    for (std::int64_t j = 0; j < m.shape(1); ++j) {
      const double z = v(i, j);
      if (!std::isfinite(z)) continue;
      a.insert(a.end(), {1.0, static_cast<double>(i) - cy, static_cast<double>(j) - cx});
      b.push_back(z);
    }
  const auto rows = static_cast<std::int64_t>(b.size());
  std::vector<double> c;
  try {
    if (rows < 3) throw InvalidArgument("too few values");
    c = least_squares(a, rows, 3, b);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("plane fit: fewer than three finite values not on one line");
  }
  return {c[0] - c[1] * cy - c[2] * cx, c[1], c[2]};
}

Array subtract_plane(const Array& map, const Plane& plane) {
  Array out = map.astype(DType::f64);
  auto v = out.view<double, 2>();
  for (std::int64_t i = 0; i < out.shape(0); ++i)
    for (std::int64_t j = 0; j < out.shape(1); ++j)
      v(i, j) -= plane.at(static_cast<double>(i), static_cast<double>(j));
  return out;
}

}  // namespace scandiff::analysis
