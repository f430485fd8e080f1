#include "scandiff/stem/scan_rotation.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

constexpr double deg = std::numbers::pi / 180;

void check_pair(const Array& a, const Array& b, std::int64_t min_side) {
  if (a.rank() != 2 || b.rank() != 2 || a.shape() != b.shape())
    throw InvalidArgument(fmt::format("scan rotation: the CoM maps have shapes {} and {}; expected two 2D maps of one "
                                      "shape",
                                      shape_string(a.shape()), shape_string(b.shape())));
  if (a.shape(0) < min_side || a.shape(1) < min_side)
    throw InvalidArgument(fmt::format("scan rotation: the scan {} is too small; at least {}x{} positions are needed",
                                      shape_string(a.shape()), min_side, min_side));
}

// Interior curl C = ∂_rx y − ∂_ry x and divergence D = ∂_rx x + ∂_ry y (central differences,
// not halved), of (x, y) or, flipped, of (y, x). Points with a NaN neighbour are dropped.
struct CurlDiv {
  std::vector<double> curl, div;
};

CurlDiv curl_div(const Array& fx, const Array& fy, bool flip) {
  const Array ax = fx.astype(DType::f64), ay = fy.astype(DType::f64);
  auto x = (flip ? ay : ax).view<const double, 2>();
  auto y = (flip ? ax : ay).view<const double, 2>();
  CurlDiv out;
  for (std::int64_t i = 1; i + 1 < ax.shape(0); ++i)
    for (std::int64_t j = 1; j + 1 < ax.shape(1); ++j) {
      const double dyx = y(i, j + 1) - y(i, j - 1), dxy = x(i + 1, j) - x(i - 1, j);
      const double dxx = x(i, j + 1) - x(i, j - 1), dyy = y(i + 1, j) - y(i - 1, j);
      const double c = dyx - dxy, d = dxx + dyy;
      if (!std::isfinite(c) || !std::isfinite(d)) continue;
      out.curl.push_back(c);
      out.div.push_back(d);
    }
  return out;
}

double mean_abs(const CurlDiv& cd, double theta) {
  const double c = std::cos(theta), s = std::sin(theta);
  double sum = 0;
  for (std::size_t k = 0; k < cd.curl.size(); ++k) sum += std::abs(c * cd.curl[k] + s * cd.div[k]);
  return cd.curl.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(cd.curl.size());
}

// θ in [−π/2, π/2).
double fold(double theta) {
  double t = std::fmod(theta + std::numbers::pi / 2, std::numbers::pi);
  if (t < 0) t += std::numbers::pi;
  return t - std::numbers::pi / 2;
}

}  // namespace

void apply_scan_rotation(const Array& com_x, const Array& com_y, const ScanRotation& r, Array& out_x, Array& out_y) {
  check_pair(com_x, com_y, 1);
  const Array ax = com_x.astype(DType::f64), ay = com_y.astype(DType::f64);
  const double* x = (r.flip ? ay : ax).data<double>();
  const double* y = (r.flip ? ax : ay).data<double>();
  out_x = Array(DType::f64, ax.shape());
  out_y = Array(DType::f64, ax.shape());
  double* ox = out_x.data<double>();
  double* oy = out_y.data<double>();
  const double c = std::cos(r.rotation_rad), s = std::sin(r.rotation_rad);
  for (std::int64_t k = 0; k < ax.size(); ++k) {
    ox[k] = c * x[k] - s * y[k];
    oy[k] = s * x[k] + c * y[k];
  }
}

double mean_abs_curl(const Array& fx, const Array& fy) {
  check_pair(fx, fy, 3);
  return mean_abs(curl_div(fx, fy, false), 0.0);
}

RotationSearchResult find_scan_rotation(const Array& com_x, const Array& com_y, const RotationSearch& search) {
  check_pair(com_x, com_y, 3);
  if (!(search.step_deg > 0) || search.step_deg > 45)
    throw InvalidArgument(fmt::format("scan rotation: step {} deg must be in (0, 45]", search.step_deg));
  RotationSearchResult result;
  const auto n = static_cast<std::int64_t>(std::ceil(180 / search.step_deg - 1e-9));
  for (std::int64_t k = 0; k < n; ++k) result.angles_deg.push_back(-90 + static_cast<double>(k) * search.step_deg);

  result.curl = std::numeric_limits<double>::infinity();
  for (const bool flip : {false, true}) {
    if (search.flip && *search.flip != flip) continue;
    const CurlDiv cd = curl_div(com_x, com_y, flip);
    if (cd.curl.empty()) throw InvalidArgument("scan rotation: the CoM maps have no finite interior values");
    auto& curve = flip ? result.curl_flipped : result.curl_unflipped;
    std::size_t best = 0;
    for (std::size_t k = 0; k < result.angles_deg.size(); ++k) {
      curve.push_back(mean_abs(cd, result.angles_deg[k] * deg));
      if (curve[k] < curve[best]) best = k;
    }
    // Refine: ±1 step around the best, 20 times finer, `refinements` times.
    double theta = result.angles_deg[best] * deg, value = curve[best], step = search.step_deg * deg;
    for (int r = 0; r < search.refinements; ++r) {
      const double centre = theta;
      step /= 20;
      for (int k = -20; k <= 20; ++k) {
        const double t = centre + k * step;
        const double v = mean_abs(cd, t);
        if (v < value) {
          value = v;
          theta = t;
        }
      }
    }
    if (value < result.curl) {
      result.curl = value;
      result.best = {fold(theta), flip};
    }
  }
  return result;
}

}  // namespace scandiff::stem
