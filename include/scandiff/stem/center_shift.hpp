// How a per-position diffraction origin (stem/calibrated_origin.hpp) is followed, as py4DSTEM's
// shift_center / subpixel options (stem-algorithms.md §1, §2):
//   none      the detector (or pattern) stays where it is;
//   integer   shift by the origin shift rounded to the nearest integer (half to even, as
//             numpy's round), as a circular roll that wraps around the detector edges;
//   subpixel  virtual images: bilinear shift of the detector mask (py4DSTEM get_shifted_ar
//             with bilinear=True); virtual diffraction: Fourier shift of each pattern.
#pragma once

#include <string_view>

namespace scandiff::stem {

enum class CenterShift { none, integer, subpixel };

std::string_view name_of(CenterShift shift);

}  // namespace scandiff::stem
