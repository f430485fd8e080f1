#include "scandiff/stem/bad_pixels.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

std::vector<BadPixel> find_bad_pixels(const Array& mean, const Array& max, const BadPixelOptions& o) {
  if (mean.rank() != 2 || mean.size() == 0)
    throw InvalidArgument(fmt::format("bad pixels: the mean pattern must be a 2D image (got shape {})", shape_string(mean.shape())));
  if (!max.empty() && max.shape() != mean.shape())
    throw InvalidArgument(fmt::format("bad pixels: the max pattern has shape {}, the mean {}", shape_string(max.shape()),
                                      shape_string(mean.shape())));
  if (o.window_radius_px < 1 || o.window_radius_px > 10)
    throw InvalidArgument(fmt::format("bad pixels: window_radius_px must be 1..10 (got {})", o.window_radius_px));
  if (!(o.hot_threshold > 0) || !(o.dead_threshold > 0))
    throw InvalidArgument(fmt::format("bad pixels: hot_threshold ({}) and dead_threshold ({}) must be > 0",
                                      o.hot_threshold, o.dead_threshold));
  if (o.cluster < 0 || o.cluster >= (2 * o.window_radius_px + 1) * (2 * o.window_radius_px + 1) - 1)
    throw InvalidArgument(fmt::format("bad pixels: cluster must be 0..{} for a {}x{} window (got {})",
                                      (2 * o.window_radius_px + 1) * (2 * o.window_radius_px + 1) - 2,
                                      2 * o.window_radius_px + 1, 2 * o.window_radius_px + 1, o.cluster));
  if (o.frames < 1) throw InvalidArgument(fmt::format("bad pixels: frames must be >= 1 (got {})", o.frames));

  const Array m64 = mean.astype(DType::f64);
  const double* m = m64.data<double>();
  Array x64;
  const double* mx = nullptr;
  if (!max.empty()) {
    x64 = max.astype(DType::f64);
    mx = x64.data<double>();
  }
  const std::int64_t ny = mean.shape(0), nx = mean.shape(1), n = mean.size(), h = o.window_radius_px;
  std::vector<double> med(static_cast<std::size_t>(n)), loc(med.size()), resid(med.size()), high(med.size()),
      low(med.size());
  std::vector<double> window;
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      window.clear();
      for (std::int64_t wy = std::max<std::int64_t>(0, y - h); wy <= std::min(ny - 1, y + h); ++wy)
        for (std::int64_t wx = std::max<std::int64_t>(0, x - h); wx <= std::min(nx - 1, x + h); ++wx)
          if (wy != y || wx != x) window.push_back(m[wy * nx + wx]);
      const auto p = static_cast<std::size_t>(y * nx + x);
      if (window.empty()) {  // a 1×1 image
        med[p] = high[p] = low[p] = m[p];
        loc[p] = 0;
      } else {
        // Q_high, Q_low: the (c+1)-th largest and smallest (the extreme ones when the clipped
        // window has c values or fewer).
        const std::size_t rank = std::min<std::size_t>(static_cast<std::size_t>(o.cluster), window.size() - 1);
        const auto nth = window.begin() + static_cast<std::ptrdiff_t>(rank);
        std::nth_element(window.begin(), nth, window.end(), std::greater<>());
        high[p] = *nth;
        std::nth_element(window.begin(), nth, window.end());
        low[p] = *nth;
        med[p] = analysis::median_inplace(window);
        loc[p] = analysis::robust_sigma_inplace(window);
      }
      resid[p] = m[p] - med[p];
    }
  double global = 0;
  if (!o.counting) {
    std::vector<double> tmp = resid;
    global = analysis::robust_sigma_inplace(tmp);
  }
  const double frames = static_cast<double>(o.frames);

  std::vector<BadPixel> out;
  for (std::int64_t p = 0; p < n; ++p) {
    const auto i = static_cast<std::size_t>(p);
    const double noise = o.counting ? std::sqrt((std::max(med[i], 0.0) + 1 / frames) / frames) : global;
    constexpr double tiny = std::numeric_limits<double>::min();  // noise-free, non-counting data
    const double sigma_hot = std::max({loc[i], noise, tiny});
    const double sigma_dead = std::max({o.counting ? 0.0 : loc[i], noise, tiny});
    const double excess = m[p] - high[i];
    if (excess > o.hot_threshold * sigma_hot) {
      out.push_back({p / nx, p % nx, BadPixelKind::hot, excess / sigma_hot});
    } else if (m[p] == 0 && (!mx || mx[p] == 0) && low[i] > o.dead_threshold * sigma_dead) {
      out.push_back({p / nx, p % nx, BadPixelKind::dead, low[i] / sigma_dead});
    }
  }
  return out;
}

std::vector<engine::DetectorPixel> pixels_of(const std::vector<BadPixel>& bad) {
  std::vector<engine::DetectorPixel> out;
  out.reserve(bad.size());
  for (const BadPixel& b : bad) out.push_back({b.qy, b.qx});
  return out;
}

}  // namespace scandiff::stem
