#include "scandiff/sxdm/profile_filter.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::sxdm {

void selective_median_inplace(std::span<double> p, std::int64_t d, double height, bool with_low) {
  if (d < 0) throw InvalidArgument(fmt::format("selective median: the half window must be >= 0 (got {})", d));
  if (!(height >= 0) || !std::isfinite(height))
    throw InvalidArgument(fmt::format("selective median: the height must be finite and >= 0 (got {})", height));
  const auto n = static_cast<std::int64_t>(p.size());
  std::vector<double> window(static_cast<std::size_t>(2 * d + 1));
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t b = std::max<std::int64_t>(0, j - d), e = std::min(n - 1, j + d);
    const auto count = static_cast<std::size_t>(e - b + 1);
    std::copy(p.begin() + b, p.begin() + e + 1, window.begin());
    const double m = analysis::median_inplace(std::span(window.data(), count));
    const double v = p[static_cast<std::size_t>(j)];
    if (v > m + height || (with_low && v < m - height)) p[static_cast<std::size_t>(j)] = m;
  }
}

void median_filter(std::span<const double> p, std::int64_t k, std::span<double> out) {
  if (k < 1 || k % 2 == 0) throw InvalidArgument(fmt::format("median filter: the kernel size must be odd and >= 1 (got {})", k));
  if (out.size() != p.size()) throw InvalidArgument("median filter: output and input sizes differ");
  const auto n = static_cast<std::int64_t>(p.size());
  const std::int64_t h = k / 2;
  std::vector<double> window(static_cast<std::size_t>(k));
  for (std::int64_t j = 0; j < n; ++j) {
    for (std::int64_t t = 0; t < k; ++t) {
      const std::int64_t i = j - h + t;
      window[static_cast<std::size_t>(t)] = i < 0 || i >= n ? 0.0 : p[static_cast<std::size_t>(i)];  // zero padding
    }
    out[static_cast<std::size_t>(j)] = analysis::median_inplace(window);
  }
}

void ProfileFilter::validate(std::string_view what) const {
  if (kind == ProfileFilterKind::median && (distance < 1 || distance % 2 == 0))
    throw InvalidArgument(fmt::format("{}: the median kernel size must be odd and >= 1 (got {})", what, distance));
  if (kind == ProfileFilterKind::selective && distance < 0)
    throw InvalidArgument(fmt::format("{}: the selective half window must be >= 0 (got {})", what, distance));
  if (kind == ProfileFilterKind::selective && (!(height >= 0) || !std::isfinite(height)))
    throw InvalidArgument(fmt::format("{}: the selective height must be finite and >= 0 (got {})", what, height));
}

void ProfileFilter::apply(std::span<double> profile, std::span<double> scratch) const {
  switch (kind) {
    case ProfileFilterKind::none:
      return;
    case ProfileFilterKind::selective:
      selective_median_inplace(profile, distance, height, with_low);
      return;
    case ProfileFilterKind::median:
      median_filter(profile, distance, scratch.first(profile.size()));
      std::copy_n(scratch.begin(), profile.size(), profile.begin());
      return;
  }
}

Metadata ProfileFilter::parameters() const {
  Metadata m{{"kind", std::string(name_of(kind))}};
  if (kind == ProfileFilterKind::selective) {
    m["half_window"] = distance;
    m["height"] = height;
    m["with_low"] = with_low;
  } else if (kind == ProfileFilterKind::median) {
    m["kernel_size"] = distance;
  }
  return m;
}

ProfileFilterKind parse_profile_filter(std::string_view text, std::string_view what) {
  if (text == "none") return ProfileFilterKind::none;
  if (text == "selective") return ProfileFilterKind::selective;
  if (text == "median") return ProfileFilterKind::median;
  throw InvalidArgument(fmt::format("{} '{}': expected none, selective or median", what, text));
}

std::string_view name_of(ProfileFilterKind kind) {
  switch (kind) {
    case ProfileFilterKind::none: return "none";
    case ProfileFilterKind::selective: return "selective";
    case ProfileFilterKind::median: return "median";
  }
  return "none";
}

}  // namespace scandiff::sxdm
