// A beam-stop mask from a mean (or max) diffraction pattern, as py4DSTEM's
// DataCube.get_beamstop_mask defines it (sigma = 0, no radial scaling):
//   1. t = the value at index round(n·threshold) (half to even, np.round) of the pattern's n values sorted ascending;
//      bright = pattern >= t                        (threshold is a quantile, not a level)
//   2. bright = not fill_holes(not bright)           (bright islands inside the shadow join it)
//   3. bright = fill_holes(bright)                   (dark islands inside the pattern, e.g. dead
//                                                     pixels, are not beam stop)
//      fill_holes: scipy's binary_fill_holes, i.e. background regions not 4-connected to the
//      frame border are filled
//   4. include_edges: the first/last row and column are not bright
//   5. blocked = Euclidean distance from the pixel to the nearest non-bright pixel < margin_px
//      (every non-bright pixel, plus a margin of bright pixels around them)
// The result is uint8 (qy, qx): 1 = blocked (under the beam stop or within the margin), 0 = usable.
// The quantile must exceed the blocked fraction of the detector, or the shadow itself is
// "bright": pick threshold a little above the fraction the beam stop covers.
#pragma once

#include "scandiff/core/array.hpp"

namespace scandiff::stem {

struct BeamstopOptions {
  double threshold = 0.25;  // quantile of the pattern's values, 0..1
  double margin_px = 2;     // py4DSTEM's distance_edge
  bool include_edges = true;
};

// Throws InvalidArgument for a non-2D pattern or options out of range (named).
Array beamstop_mask(const Array& pattern, const BeamstopOptions& options = {});

}  // namespace scandiff::stem
