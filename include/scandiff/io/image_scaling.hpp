// Turning a 2D numeric array (any dtype, possibly strided) into display levels for
// image writers (PNG) and viewers: clip limits from percentiles of the finite values,
// an optional stretch (log, sqrt) and a mapping to [0, 1].
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "scandiff/core/array.hpp"

namespace scandiff::io {

// How values become display intensities. The clip limits [vmin, vmax] are vmin/vmax where
// given, otherwise the low/high percentiles (0..100) of the image's finite values (NaN and
// +-inf are ignored). Values outside the limits are clipped.
struct DisplayRange {
  enum class Stretch { linear, log, sqrt };
  Stretch stretch = Stretch::linear;
  double low_percentile = 0.1, high_percentile = 99.9;
  std::optional<double> vmin, vmax;
};

// The resolved clip limits; vmin <= vmax always holds.
struct DisplayLimits {
  double vmin = 0;
  double vmax = 0;
};

// The p-th percentile (0 <= p <= 100) of the finite values of `image` (any rank, any
// strides), interpolated linearly between order statistics like numpy.percentile's default:
// with the n finite values sorted as x[0..n-1], position h = p/100 * (n-1) and
// result x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)]).
// Returns NaN when the image has no finite value. Throws InvalidArgument for p outside [0, 100].
double finite_percentile(const Array& image, double p);

// Resolves `range` against a 2D image. Throws InvalidArgument when the image is not 2D,
// a percentile is outside [0, 100] or low > high, or vmin/vmax are not finite or vmin > vmax.
// An image without finite values gets [0, 0]. When only one limit is given and the
// percentile-derived other one falls on the wrong side, the limits collapse to the given one.
DisplayLimits display_limits(const Array& image2d, const DisplayRange& range);

// Maps a value to [0, 1] for resolved limits (the formulas are in image_scaling.cpp).
// NaN maps to 0. When vmax == vmin (e.g. a constant image) every value <= vmin maps to 0 and
// every value above it to 1, so nothing is divided by zero.
double display_value(double v, const DisplayLimits& limits, DisplayRange::Stretch stretch);

// The whole image mapped to [0, 1]: a C-contiguous f32 array of the image's shape.
Array scale_to_unit(const Array& image2d, const DisplayRange& range = {});

// Integer display levels in C order: level = round(display_value(v) * max_level) (halves round
// up; computed as round(f(x) * max_level / f(d)), see image_scaling.cpp), so with
// max_level 255 the result fills 8-bit pixels and with 65535 16-bit pixels.
std::vector<std::uint16_t> display_levels(const Array& image2d, const DisplayRange& range,
                                          std::uint16_t max_level);

}  // namespace scandiff::io
