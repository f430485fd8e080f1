#include "scandiff/stem/pixel_size.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem {

std::vector<RingPeak> find_ring_peaks(std::span<const double> profile, double qmin_px, double qstep_px,
                                      const RingPeakOptions& o) {
  const auto n = static_cast<std::int64_t>(profile.size());
  std::vector<double> v(profile.begin(), profile.end());
  for (double& x : v)
    if (!std::isfinite(x)) x = 0;
  std::vector<double> lo(v.size()), bg(v.size());
  const std::int64_t w = std::max<std::int64_t>(o.background_window, 1);
  for (std::int64_t j = 0; j < n; ++j) {
    double m = v[static_cast<std::size_t>(j)];
    for (std::int64_t k = std::max<std::int64_t>(0, j - w); k <= std::min(n - 1, j + w); ++k)
      m = std::min(m, v[static_cast<std::size_t>(k)]);
    lo[static_cast<std::size_t>(j)] = m;
  }
  for (std::int64_t j = 0; j < n; ++j) {
    double s = 0;
    int c = 0;
    for (std::int64_t k = std::max<std::int64_t>(0, j - 1); k <= std::min(n - 1, j + 1); ++k, ++c)
      s += lo[static_cast<std::size_t>(k)];
    bg[static_cast<std::size_t>(j)] = s / c;
  }
  std::vector<double> d(v.size());
  for (std::size_t j = 0; j < v.size(); ++j) d[j] = v[j] - bg[j];
  std::vector<RingPeak> peaks;
  double highest = 0;
  for (std::int64_t j = 2; j + 2 < n; ++j) {
    const double r = qmin_px + static_cast<double>(j) * qstep_px;
    const double x = d[static_cast<std::size_t>(j)];
    if (r < o.r_min_px || !(x > 0)) continue;
    bool is_max = true;
    for (std::int64_t k = j - 2; k <= j + 2 && is_max; ++k)
      if (k != j && (d[static_cast<std::size_t>(k)] > x || (k < j && d[static_cast<std::size_t>(k)] == x))) is_max = false;
    if (!is_max) continue;
    const double ym = d[static_cast<std::size_t>(j - 1)], yp = d[static_cast<std::size_t>(j + 1)];
    double a = ym, b = x, c = yp;
    if (ym > 0 && yp > 0) {
      a = std::log(ym);
      b = std::log(x);
      c = std::log(yp);
    }
    const double denom = a - 2 * b + c;
    const double offset = denom < 0 ? std::clamp(0.5 * (a - c) / denom, -0.5, 0.5) : 0.0;
    peaks.push_back({r + offset * qstep_px, x});
    highest = std::max(highest, x);
  }
  std::erase_if(peaks, [&](const RingPeak& p) { return p.height < o.min_relative_height * highest; });
  return peaks;
}

PixelSizeResult fit_pixel_size(const std::vector<RingPeak>& peaks, std::span<const double> d_spacings_A,
                               const PixelSizeOptions& o) {
  if (peaks.empty()) throw InvalidArgument("pixel size: no ring peaks found in the profile");
  if (d_spacings_A.empty()) throw InvalidArgument("pixel size: the calibrant lists no d-spacings");
  std::vector<double> g;  // 1/d, ascending
  for (double d : d_spacings_A)
    if (d > 0) g.push_back(1 / d);
  std::sort(g.begin(), g.end());
  std::vector<std::size_t> by_height(peaks.size());
  std::iota(by_height.begin(), by_height.end(), 0);
  std::sort(by_height.begin(), by_height.end(), [&](auto a, auto b) { return peaks[a].height > peaks[b].height; });
  const double r_first = std::min_element(peaks.begin(), peaks.end(), [](auto& a, auto& b) { return a.radius_px < b.radius_px; })->radius_px;
  const double r_last = std::max_element(peaks.begin(), peaks.end(), [](auto& a, auto& b) { return a.radius_px < b.radius_px; })->radius_px;

  // Matches of every peak for the pixel size s: the nearest ring within tolerance.
  const auto match = [&](double s, std::vector<RingMatch>& out) {
    out.clear();
    for (const RingPeak& p : peaks) {
      std::int64_t best = -1;
      double best_err = o.tolerance;
      for (std::size_t j = 0; j < g.size(); ++j) {
        const double pred = g[j] / s;
        const double err = std::abs(p.radius_px - pred) / pred;
        if (err <= best_err) {
          best_err = err;
          best = static_cast<std::int64_t>(j);
        }
      }
      if (best >= 0) out.push_back({best, 1 / g[static_cast<std::size_t>(best)], p.radius_px, g[static_cast<std::size_t>(best)] / s});
    }
  };
  const auto score_of = [&](double s, const std::vector<RingMatch>& m) {
    std::int64_t missed = 0;
    for (std::size_t j = 0; j < g.size(); ++j) {
      const double pred = g[j] / s;
      if (pred < r_first * (1 - o.tolerance) || pred > r_last * (1 + o.tolerance)) continue;
      if (std::none_of(m.begin(), m.end(), [&](const RingMatch& x) { return x.ring == static_cast<std::int64_t>(j); })) ++missed;
    }
    return static_cast<double>(m.size()) - 0.5 * static_cast<double>(missed);
  };
  const auto rms_of = [](const std::vector<RingMatch>& m) {
    double s = 0;
    for (const auto& x : m) s += std::pow((x.radius_px - x.predicted_px) / x.predicted_px, 2);
    return m.empty() ? INFINITY : std::sqrt(s / static_cast<double>(m.size()));
  };

  double best_s = 0, best_score = -INFINITY, best_rms = INFINITY;
  std::vector<RingMatch> m;
  const auto anchors = std::min<std::size_t>(by_height.size(), static_cast<std::size_t>(std::max<std::int64_t>(o.strongest_peaks, 1)));
  const auto rings = std::min<std::size_t>(g.size(), static_cast<std::size_t>(std::max<std::int64_t>(o.first_rings, 1)));
  for (std::size_t a = 0; a < anchors; ++a)
    for (std::size_t i = 0; i < rings; ++i) {
      double s = g[i] / peaks[by_height[a]].radius_px;
      if (o.guess_inv_A_per_px && std::abs(s / *o.guess_inv_A_per_px - 1) > 0.2) continue;
      // Refine the proposal on its own matches before scoring it.
      for (int pass = 0; pass < 2; ++pass) {
        match(s, m);
        double num = 0, den = 0;
        for (const auto& x : m) {
          num += (1 / x.d_A) * x.radius_px;
          den += x.radius_px * x.radius_px;
        }
        if (den > 0) s = num / den;
      }
      match(s, m);
      const double score = score_of(s, m), rms = rms_of(m);
      if (score > best_score || (score == best_score && rms < best_rms)) {
        best_score = score;
        best_rms = rms;
        best_s = s;
      }
    }
  match(best_s, m);
  if (best_s <= 0 || m.size() < 2)
    throw Error(fmt::format("pixel size: no scale matches two or more of the {} ring peaks to the calibrant (try a "
                            "guess, another annulus or a larger tolerance)",
                            peaks.size()));
  // Least squares over the matches, dropping (up to 3 times) those whose relative residual is
  // above max(4 × the median, 0.1%) (residuals against the median scale): overlapping or partly sampled rings at the frame edge.
  PixelSizeResult r;
  double s = best_s;
  for (int round = 0; round < 4; ++round) {
    double num = 0, den = 0;
    for (const auto& x : m) {
      num += (1 / x.d_A) * x.radius_px;
      den += x.radius_px * x.radius_px;
    }
    s = num / den;
    if (round == 3 || m.size() <= 2) break;
    // Residuals against the median of the per-pair scales g/R (robust to the outliers).
    std::vector<double> scales;
    for (const auto& x : m) scales.push_back(1 / (x.d_A * x.radius_px));
    std::nth_element(scales.begin(), scales.begin() + static_cast<std::ptrdiff_t>(scales.size() / 2), scales.end());
    const double s_med = scales[scales.size() / 2];
    std::vector<double> err;
    for (const auto& x : m) err.push_back(std::abs(x.radius_px * s_med * x.d_A - 1));
    std::vector<double> sorted(err);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    const double limit = std::max(4 * sorted[sorted.size() / 2], 1e-3);
    std::vector<RingMatch> kept;
    for (std::size_t i = 0; i < m.size(); ++i)
      if (err[i] <= limit) kept.push_back(m[i]);
    if (kept.size() == m.size() || kept.size() < 2) break;
    m = kept;
  }
  r.inv_A_per_px = s;
  for (auto& x : m) x.predicted_px = (1 / x.d_A) / s;
  r.matches = m;
  r.rms_relative = rms_of(m);
  return r;
}

}  // namespace scandiff::stem
