#include "scandiff/analysis/robust_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace scandiff::analysis {

double median_inplace(std::span<double> v) {
  const std::size_t n = v.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(v.begin(), mid, v.end());
  const double upper = *mid;
  if (n % 2) return upper;
  const double lower = *std::max_element(v.begin(), mid);
  return 0.5 * (lower + upper);
}

double robust_sigma_inplace(std::span<double> v) {
  if (v.empty()) return 0;
  const double m = median_inplace(v);
  for (double& x : v) x = std::abs(x - m);
  return 1.4826 * median_inplace(v);
}

}  // namespace scandiff::analysis
