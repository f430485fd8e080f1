// Pixel splitting rules (pyFAI's splitBBox / splitPixel semantics):
// - bbox: bin numbers f = (v − min)/Δ are truncated toward zero (as C casts do), clipped to the
//   grid; a pixel within one bin gives it 1; otherwise the end bins get (k_min + 1 − f_min)/(f_max − f_min)
//   and (f_max − k_max)/(f_max − f_min) and the bins between 1/(f_max − f_min); in 2D the product of
//   the two axes' fractions.
// - full: the area of the corner quadrilateral in each bin, computed exactly with Green's theorem
//   (∮ (clamp(y, y0, y1) − y0) dx over the boundary is the area inside a cell [x0,x1]×[y0,y1]),
//   normalised by the total over the bins visited.
#include "pixel_split.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

namespace scandiff::xray::detail {

void split_bbox_1d(double f_min, double f_max, std::int64_t bins, std::vector<BinFraction>& out) {
  std::int64_t k_min = static_cast<std::int64_t>(f_min);
  std::int64_t k_max = static_cast<std::int64_t>(f_max);
  if (k_max < 0 || k_min >= bins) return;
  k_max = std::min(k_max, bins - 1);
  k_min = std::max(k_min, std::int64_t{0});
  if (k_min == k_max) {
    out.push_back({k_min, 1.0});
    return;
  }
  const double inv = 1.0 / (f_max - f_min);
  out.push_back({k_min, inv * (static_cast<double>(k_min + 1) - f_min)});
  for (std::int64_t k = k_min + 1; k < k_max; ++k) out.push_back({k, inv});
  out.push_back({k_max, inv * (f_max - static_cast<double>(k_max))});
}

void split_bbox_2d(double x_min, double x_max, double y_min, double y_max, std::int64_t bins0, std::int64_t bins1,
                   std::vector<BinFraction>& out) {
  std::int64_t i_min = static_cast<std::int64_t>(x_min), i_max = static_cast<std::int64_t>(x_max);
  std::int64_t j_min = static_cast<std::int64_t>(y_min), j_max = static_cast<std::int64_t>(y_max);
  if (i_max < 0 || i_min >= bins0 || j_max < 0 || j_min >= bins1) return;
  i_max = std::min(i_max, bins0 - 1);
  i_min = std::max(i_min, std::int64_t{0});
  j_max = std::min(j_max, bins1 - 1);
  j_min = std::max(j_min, std::int64_t{0});
  // Fraction along each axis for bin k in [k_min, k_max] (1 when the pixel is inside one bin).
  auto axis = [](std::int64_t k, std::int64_t k_min, std::int64_t k_max, double f_min, double f_max) {
    if (k_min == k_max) return 1.0;
    const double inv = 1.0 / (f_max - f_min);
    if (k == k_min) return inv * (static_cast<double>(k_min + 1) - f_min);
    if (k == k_max) return inv * (f_max - static_cast<double>(k_max));
    return inv;
  };
  for (std::int64_t i = i_min; i <= i_max; ++i) {
    const double fi = axis(i, i_min, i_max, x_min, x_max);
    for (std::int64_t j = j_min; j <= j_max; ++j)
      out.push_back({i * bins1 + j, fi * axis(j, j_min, j_max, y_min, y_max)});
  }
}

namespace {

// ∫ (clamp(y(x), y0, y1) − y0) dx over x in [lo, hi], y linear through (xa, ya), (xb, yb), xa < xb.
double clamped_integral(double xa, double ya, double xb, double yb, double lo, double hi, double y0, double y1) {
  if (hi <= lo) return 0;
  const double slope = (yb - ya) / (xb - xa);
  auto y_at = [&](double x) { return ya + slope * (x - xa); };
  // Break [lo, hi] where y crosses y0 or y1; on each piece the clamp is linear.
  double cuts[4] = {lo, hi, hi, hi};
  int n = 1;
  if (slope != 0) {
    double a = xa + (y0 - ya) / slope, b = xa + (y1 - ya) / slope;
    if (a > b) std::swap(a, b);
    if (a > lo && a < hi) cuts[n++] = a;
    if (b > lo && b < hi) cuts[n++] = b;
  }
  cuts[n++] = hi;
  double area = 0;
  for (int k = 0; k + 1 < n; ++k) {
    const double a = cuts[k], b = cuts[k + 1];
    const double ym = y_at(0.5 * (a + b));
    if (ym <= y0) continue;
    if (ym >= y1) {
      area += (b - a) * (y1 - y0);
    } else {
      area += (b - a) * (0.5 * (y_at(a) + y_at(b)) - y0);
    }
  }
  return area;
}

// Signed area of the quad inside [x0, x1] × [y0, y1] (sign of the quad's orientation).
double cell_area(const Quad& q, double x0, double x1, double y0, double y1) {
  double area = 0;
  for (int e = 0; e < 4; ++e) {
    const auto& a = q[e];
    const auto& b = q[(e + 1) % 4];
    if (a[0] == b[0]) continue;
    const bool forward = a[0] < b[0];
    const auto& l = forward ? a : b;
    const auto& r = forward ? b : a;
    const double v = clamped_integral(l[0], l[1], r[0], r[1], std::max(x0, l[0]), std::min(x1, r[0]), y0, y1);
    area += forward ? v : -v;
  }
  return area;
}

}  // namespace

void split_full_1d(const Quad& quad, std::int64_t bins, std::vector<BinFraction>& out) {
  double x_min = quad[0][0], x_max = x_min, y_min = quad[0][1], y_max = y_min;
  for (const auto& c : quad) {
    x_min = std::min(x_min, c[0]), x_max = std::max(x_max, c[0]);
    y_min = std::min(y_min, c[1]), y_max = std::max(y_max, c[1]);
  }
  if (x_max < 0 || x_min >= static_cast<double>(bins)) return;
  std::int64_t k_min = static_cast<std::int64_t>(std::floor(x_min));
  std::int64_t k_max = static_cast<std::int64_t>(std::floor(x_max));
  if (k_min == k_max) {
    out.push_back({k_min, 1.0});
    return;
  }
  k_min = std::max(k_min, std::int64_t{0});
  k_max = std::min(k_max, bins - 1);
  const std::size_t first = out.size();
  double total = 0;
  for (std::int64_t k = k_min; k <= k_max; ++k) {
    const double a = cell_area(quad, static_cast<double>(k), static_cast<double>(k + 1), y_min, y_max);
    out.push_back({k, a});
    total += a;
  }
  if (total == 0) {
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    return;
  }
  for (std::size_t n = first; n < out.size(); ++n) out[n].fraction /= total;
}

void split_full_2d(const Quad& quad, std::int64_t bins0, std::int64_t bins1, std::vector<BinFraction>& out) {
  double x_min = quad[0][0], x_max = x_min, y_min = quad[0][1], y_max = y_min;
  for (const auto& c : quad) {
    x_min = std::min(x_min, c[0]), x_max = std::max(x_max, c[0]);
    y_min = std::min(y_min, c[1]), y_max = std::max(y_max, c[1]);
  }
  const std::int64_t i_min = std::clamp(static_cast<std::int64_t>(std::floor(x_min)), std::int64_t{0}, bins0 - 1);
  const std::int64_t i_max = std::clamp(static_cast<std::int64_t>(std::floor(x_max)), std::int64_t{0}, bins0 - 1);
  const std::int64_t j_min = std::clamp(static_cast<std::int64_t>(std::floor(y_min)), std::int64_t{0}, bins1 - 1);
  const std::int64_t j_max = std::clamp(static_cast<std::int64_t>(std::floor(y_max)), std::int64_t{0}, bins1 - 1);
  if (i_min == i_max && j_min == j_max) {
    out.push_back({i_min * bins1 + j_min, 1.0});
    return;
  }
  const std::size_t first = out.size();
  double total = 0;
  for (std::int64_t i = i_min; i <= i_max; ++i) {
    for (std::int64_t j = j_min; j <= j_max; ++j) {
      const double a = cell_area(quad, static_cast<double>(i), static_cast<double>(i + 1), static_cast<double>(j),
                                 static_cast<double>(j + 1));
      if (a == 0) continue;
      out.push_back({i * bins1 + j, a});
      total += a;
    }
  }
  if (total == 0) {
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    return;
  }
  for (std::size_t n = first; n < out.size(); ++n) out[n].fraction /= total;
}

}  // namespace scandiff::xray::detail
