#include "scandiff/stem/probe_size.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

ProbeSize measure_probe_size(const Array& image, const ProbeSizeOptions& o) {
  if (image.rank() != 2 || image.size() == 0)
    throw InvalidArgument(fmt::format("probe size: expected a non-empty 2D image (got shape {})", shape_string(image.shape())));
  if (o.thresholds < 3) throw InvalidArgument(fmt::format("probe size: thresholds must be >= 3 (got {})", o.thresholds));
  if (!(0 <= o.threshold_lower && o.threshold_lower < o.threshold_upper && o.threshold_upper <= 1))
    throw InvalidArgument(fmt::format("probe size: need 0 <= threshold_lower ({}) < threshold_upper ({}) <= 1",
                                      o.threshold_lower, o.threshold_upper));
  const Array img = image.astype(DType::f64);
  const double* v = img.data<double>();
  const std::int64_t nx = img.shape(1), n = img.size();
  const double vmax = *std::max_element(v, v + n);
  if (!(vmax > 0)) throw InvalidArgument(fmt::format("probe size: the image maximum must be > 0 (got {})", vmax));

  const auto count = static_cast<std::size_t>(o.thresholds);
  std::vector<double> t(count), r(count), g(count);
  const double step = (o.threshold_upper - o.threshold_lower) / static_cast<double>(count - 1);
  for (std::size_t i = 0; i < count; ++i) {
    t[i] = i + 1 == count ? o.threshold_upper : o.threshold_lower + static_cast<double>(i) * step;
    const double level = vmax * t[i];
    const auto above = std::count_if(v, v + n, [&](double x) { return x > level; });
    r[i] = std::sqrt(static_cast<double>(above) / std::numbers::pi);
  }
  g[0] = r[1] - r[0];
  g[count - 1] = r[count - 1] - r[count - 2];
  for (std::size_t i = 1; i + 1 < count; ++i) g[i] = 0.5 * (r[i + 1] - r[i - 1]);
  std::vector<double> tmp = g;
  const double med = analysis::median_inplace(tmp);
  double sum_r = 0, sum_t = 0;
  int kept = 0;
  for (std::size_t i = 0; i < count; ++i)
    if (g[i] <= 0 && g[i] >= 2 * med) {
      sum_r += r[i];
      sum_t += t[i];
      ++kept;
    }
  if (kept == 0) throw InvalidArgument("probe size: no stable threshold range (is there a bright central disk?)");

  ProbeSize out;
  out.radius_px = sum_r / kept;
  out.threshold = sum_t / kept;
  const double level = vmax * out.threshold;
  double s = 0, sy = 0, sx = 0;
  for (std::int64_t p = 0; p < n; ++p) {
    if (!(v[p] > level)) continue;
    s += v[p];
    sy += v[p] * static_cast<double>(p / nx);
    sx += v[p] * static_cast<double>(p % nx);
  }
  out.center_qy_px = sy / s;
  out.center_qx_px = sx / s;
  return out;
}

}  // namespace scandiff::stem
