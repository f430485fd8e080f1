// The vacuum probe (the unscattered beam's image on the detector), the template that Bragg disk
// detection correlates with. Three ways to get one (stem-algorithms.md §3):
//   - vacuum_probe(source, frames): the mean of vacuum frames, each optionally aligned to the
//     first by the integer argmax of their cross-correlation (a circular shift, exact for
//     integer shifts); then the soft mask below;
//   - synthetic_probe(radius, width): p(r) = 1/(1 + exp(4(r − R)/w)), centred at
//     (qy, qx) = (ny/2, nx/2) as py4DSTEM's generate_synthetic_probe;
//   - any 2D image through soft_probe_mask().
// Soft mask (py4DSTEM's from_vacuum_data / get_vacuum_probe): M = probe > threshold·max(probe);
// M = binary opening of M (`opening` erosions then `opening` dilations, 4-connected cross,
// outside the image counts as false); one more dilation; the probe is multiplied by
// cos²(π/2·min(EDT(¬M)/expansion, 1)), EDT = Euclidean distance (px) to the nearest pixel of M.
// Arrays are float64 (qy, qx), qx the column.
// Unlike py4DSTEM's get_vacuum_probe, every frame counts equally: its running average drops the
// first frame (weight (n−1)/n with n starting at 1) and aligns to the running mean.
#pragma once

#include <cstdint>
#include <span>

#include "scandiff/core/array.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::stem {

struct ProbeMaskOptions {
  double threshold = 0.2;  // fraction of the maximum; 0 disables nothing but keeps every positive pixel
  int opening = 3;         // erosion/dilation iterations of the opening (0: none)
  double expansion = 12;   // px over which the cos² taper falls to 0 outside the mask
};

// The probe multiplied by the soft mask above. Throws InvalidArgument for a non-2D image,
// threshold outside [0, 1), opening < 0, expansion <= 0, or an image whose maximum is not > 0.
Array soft_probe_mask(const Array& probe, const ProbeMaskOptions& options = {});

// Mean of frames `frames` (linear indices) of `source`; with `align`, each frame is first rolled
// by the integer shift that maximises its cross-correlation with the first frame. The soft mask
// is applied when `mask` is true. Throws InvalidArgument naming the bad index or an empty list.
Array vacuum_probe(io::Source& source, std::span<const std::int64_t> frames, bool align = true,
                   bool mask = true, const ProbeMaskOptions& options = {});

// py4DSTEM's synthetic probe: 1/(1 + exp(4(r − radius)/width)), r from (ny/2, nx/2).
// Throws InvalidArgument unless radius > 0, width > 0 and ny, nx >= 1.
Array synthetic_probe(double radius_px, double width_px, std::int64_t ny, std::int64_t nx);

}  // namespace scandiff::stem
