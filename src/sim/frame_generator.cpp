#include "scandiff/sim/frame_generator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim_common.hpp"

namespace scandiff::sim {

std::string_view name_of(Noise noise) {
  switch (noise) {
    case Noise::none: return "none";
    case Noise::poisson: return "poisson";
  }
  return "unknown";
}

Noise parse_noise(std::string_view text, std::string_view what) {
  if (text == "none") return Noise::none;
  if (text == "poisson") return Noise::poisson;
  throw InvalidArgument(fmt::format("{}: unknown noise model '{}', expected 'none' or 'poisson'", what, text));
}

Vec2 distort(const EllipseDistortion& e, Vec2 q) { return detail::distortion_matrix(e)(q); }
Vec2 correct(const EllipseDistortion& e, Vec2 v) { return detail::correction_matrix(e)(v); }

namespace detail {

namespace {

// log Γ(x) for x >= 1 (Stirling series with upward recursion below 7), as in numpy's
// random_loggam; avoids std::lgamma, which writes the global `signgam` (not thread-safe).
double log_gamma(double x) {
  static constexpr double a[10] = {8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
                                   -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
                                   6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
                                   -1.39243221690590e+00};
  if (x == 1.0 || x == 2.0) return 0.0;
  const std::int64_t n = x < 7.0 ? static_cast<std::int64_t>(7 - x) : 0;
  double x0 = x + static_cast<double>(n);
  const double x2 = (1.0 / x0) * (1.0 / x0);
  double gl0 = a[9];
  for (int k = 8; k >= 0; --k) gl0 = gl0 * x2 + a[k];
  constexpr double log_2pi = 1.8378770664093453e+00;
  double gl = gl0 / x0 + 0.5 * log_2pi + (x0 - 0.5) * std::log(x0) - x0;
  for (std::int64_t k = 1; k <= n; ++k) {
    gl -= std::log(x0 - 1.0);
    x0 -= 1.0;
  }
  return gl;
}

constexpr double ptrs_threshold = 10.0;
// Above this mean a Poisson draw is indistinguishable from the mean in float64 output
// (relative spread < 1.5e-8); returned as the rounded mean.
constexpr double huge_mean = 0x1.0p52;

}  // namespace

void PoissonSampler::setup(double mean) {
  mean_ = mean;
  if (mean < ptrs_threshold) {
    exp_neg_mean_ = std::exp(-mean);
    return;
  }
  const double slam = std::sqrt(mean);
  log_mean_ = std::log(mean);
  b_ = 0.931 + 2.53 * slam;
  a_ = -0.059 + 0.02483 * b_;
  inv_alpha_ = 1.1239 + 1.1328 / (b_ - 3.4);
  log_inv_alpha_ = std::log(inv_alpha_);
  vr_ = 0.9277 - 3.6224 / (b_ - 2);
}

std::int64_t PoissonSampler::operator()(FrameRng& rng, double mean) {
  if (!(mean > 0)) return 0;
  if (mean >= huge_mean) return static_cast<std::int64_t>(std::nearbyint(std::min(mean, 0x1.0p62)));
  if (mean != mean_) setup(mean);
  if (mean < ptrs_threshold) {
    std::int64_t x = 0;
    double prod = rng.uniform();
    while (prod > exp_neg_mean_) {
      ++x;
      prod *= rng.uniform();
    }
    return x;
  }
  for (;;) {
    const double u = rng.uniform() - 0.5;
    const double v = rng.uniform();
    const double us = 0.5 - std::fabs(u);
    if (us <= 0) continue;  // u == -0.5 exactly: the formula below divides by zero
    const double kd = std::floor((2 * a_ / us + b_) * u + mean + 0.43);
    if (kd < 0) continue;
    const auto k = static_cast<std::int64_t>(kd);
    if (us >= 0.07 && v <= vr_) return k;
    if (us < 0.013 && v > us) continue;
    if (std::log(v) + log_inv_alpha_ - std::log(a_ / (us * us) + b_) <= -mean + kd * log_mean_ - log_gamma(kd + 1))
      return k;
  }
}

Mat2 axis_scale(double theta, double s) {
  // I + (s − 1)·u·u^T with u the unit vector along theta: scales the u component by s.
  const double c = std::cos(theta), sn = std::sin(theta), f = s - 1;
  return {1 + f * c * c, f * c * sn, f * c * sn, 1 + f * sn * sn};
}

void require(bool ok, std::string_view name, std::string_view expectation, double got) {
  if (!ok) throw InvalidArgument(fmt::format("sim: {} must be {} (got {})", name, expectation, got));
}
void require_finite(double v, std::string_view name) { require(std::isfinite(v), name, "finite", v); }
void require_positive(double v, std::string_view name) { require(std::isfinite(v) && v > 0, name, "> 0", v); }
void require_non_negative(double v, std::string_view name) {
  require(std::isfinite(v) && v >= 0, name, ">= 0", v);
}

namespace {
constexpr std::int64_t max_extent = std::int64_t{1} << 24;
}

void require_shape(std::int64_t v, std::string_view name) {
  if (v < 1 || v > max_extent)
    throw InvalidArgument(fmt::format("sim: {} must be between 1 and {} (got {})", name, max_extent, v));
}

void require_frame_size(std::int64_t fy, std::int64_t fx, std::int64_t sy, std::int64_t sx) {
  require_shape(sy, "scan_y");
  require_shape(sx, "scan_x");
  require_shape(fy, "frame_y");
  require_shape(fx, "frame_x");
}

void require_ellipse(const EllipseDistortion& e) {
  require(std::isfinite(e.ratio) && e.ratio >= 1, "ellipse.ratio", ">= 1 (a/b, semi-major over semi-minor)",
          e.ratio);
  require_finite(e.theta_rad, "ellipse.theta_rad");
}

void check_range(std::string_view what, std::int64_t first, std::int64_t count, std::int64_t frames) {
  if (first < 0 || count < 0 || first > frames || count > frames - first)
    throw InvalidArgument(
        fmt::format("{}: frames [{}, {}) requested, but the scan has {} frames", what, first, first + count, frames));
}

void write_frame(std::span<const double> expected, DType dtype, Noise noise, FrameRng& rng, PoissonSampler& poisson,
                 std::byte* dst) {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* out = reinterpret_cast<T*>(dst);
    const std::size_t n = expected.size();
    if constexpr (std::is_integral_v<T>) {
      constexpr double lo = static_cast<double>(std::numeric_limits<T>::lowest());
      constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
      if (noise == Noise::poisson) {
        constexpr auto top = static_cast<std::int64_t>(std::numeric_limits<T>::max());
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(std::min(poisson(rng, expected[i]), top));
      } else {
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(std::clamp(std::round(expected[i]), lo, hi));
      }
    } else {
      if (noise == Noise::poisson) {
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(poisson(rng, expected[i]));
      } else {
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(expected[i]);
      }
    }
  });
}

Metadata to_json(Vec2 v) { return Metadata{{"x", v.x}, {"y", v.y}}; }
Metadata to_json(const EllipseDistortion& e) { return Metadata{{"ratio", e.ratio}, {"theta_rad", e.theta_rad}}; }

}  // namespace detail
}  // namespace scandiff::sim
