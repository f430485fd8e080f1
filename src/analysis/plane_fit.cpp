#include "scandiff/analysis/plane_fit.hpp"

#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

Plane fit_plane(const Array& map) {
  if (map.rank() != 2) throw InvalidArgument(fmt::format("plane fit: shape {} must be 2D", shape_string(map.shape())));
  const Array m = map.astype(DType::f64);
  const auto v = m.view<const double, 2>();
  // Normal equations in centred coordinates (better conditioned): unknowns (c0', c_ry, c_rx).
  const double cy = 0.5 * static_cast<double>(m.shape(0) - 1), cx = 0.5 * static_cast<double>(m.shape(1) - 1);
  double n = 0, sy = 0, sx = 0, syy = 0, sxx = 0, sxy = 0, sv = 0, syv = 0, sxv = 0;
  for (std::int64_t i = 0; i < m.shape(0); ++i)
    for (std::int64_t j = 0; j < m.shape(1); ++j) {
      const double z = v(i, j);
      if (!std::isfinite(z)) continue;
      const double y = static_cast<double>(i) - cy, x = static_cast<double>(j) - cx;
      n += 1;
      sy += y;
      sx += x;
      syy += y * y;
      sxx += x * x;
      sxy += x * y;
      sv += z;
      syv += y * z;
      sxv += x * z;
    }
  // Solve [[n, sy, sx], [sy, syy, sxy], [sx, sxy, sxx]] · (a, b, c) = (sv, syv, sxv) by Cramer's rule.
  const double A[3][3] = {{n, sy, sx}, {sy, syy, sxy}, {sx, sxy, sxx}};
  const double rhs[3] = {sv, syv, sxv};
  auto det3 = [](const double M[3][3]) {
    return M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
           M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  };
  const double d = det3(A);
  const double scale = n * syy * sxx;
  if (n < 3 || !(std::abs(d) > 1e-12 * std::abs(scale)))
    throw InvalidArgument("plane fit: fewer than three finite values not on one line");
  double c[3];
  for (int k = 0; k < 3; ++k) {
    double B[3][3];
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < 3; ++q) B[r][q] = q == k ? rhs[r] : A[r][q];
    c[k] = det3(B) / d;
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
