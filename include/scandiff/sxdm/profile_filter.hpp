// Hot-pixel filters for 1-D detector projections (profiles), as sxdm (WilliamJudge94/sxdm, mis.py)
// applies them to the 2θ profile (column sums) and the χ profile (row sums) of a pattern.
//
// selective (sxdm's median_blur_selective): for j = 0, 1, ..., n − 1 in turn, with the window
//   W_j = p[max(0, j − d) .. min(n − 1, j + d)]   (clipped at the ends, not padded)
//   m_j = median(W_j)   (numpy's rule: the mean of the two middle values for an even count)
//   p[j] ← m_j   if p[j] > m_j + height,   or (with_low) if p[j] < m_j − height;
//   otherwise p[j] is kept. As in sxdm the profile is changed in place while walking, so W_j
//   already holds the replaced values at indices < j. (For n < 2d + 1 sxdm's Python indexing wraps
//   negative indices around; here the window is clipped there as well.)
// median (scipy.signal.medfilt, sxdm's 'scipy' filter): every element becomes the median of the
//   kernel_size (odd) elements centred on it, the profile zero-padded at both ends.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "scandiff/core/metadata.hpp"

namespace scandiff::sxdm {

// In place; d >= 0 (d = 0 changes nothing), height >= 0. Throws InvalidArgument otherwise.
void selective_median_inplace(std::span<double> profile, std::int64_t half_window, double height,
                              bool with_low = false);

// scipy.signal.medfilt(profile, kernel_size) into `out` (same size as `profile`, not aliasing it).
// kernel_size must be odd and >= 1; throws InvalidArgument otherwise.
void median_filter(std::span<const double> profile, std::int64_t kernel_size, std::span<double> out);

enum class ProfileFilterKind { none, selective, median };

struct ProfileFilter {
  ProfileFilterKind kind = ProfileFilterKind::none;
  std::int64_t distance = 9;  // selective: half window d; median: kernel size (odd)
  double height = 100;        // selective: counts above (below) the window median that are replaced
  bool with_low = true;       // selective: replace values below median − height too (sxdm's centroid maps do)

  // Throws InvalidArgument naming `what` when the parameters do not suit the kind.
  void validate(std::string_view what = "profile filter") const;
  // Applies the filter in place; `scratch` (profile.size() doubles) is used by the median kind.
  void apply(std::span<double> profile, std::span<double> scratch) const;
  Metadata parameters() const;
};

// "none", "selective" or "median"; throws InvalidArgument naming `what` otherwise.
ProfileFilterKind parse_profile_filter(std::string_view text, std::string_view what = "--filter");
std::string_view name_of(ProfileFilterKind kind);

}  // namespace scandiff::sxdm
