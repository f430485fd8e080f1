// Hot and dead detector pixels, found from the mean (and max) diffraction pattern.
//
// For each pixel p, N(p) is the (2h+1)×(2h+1) window around p without p itself, clipped to the
// frame (h = window_radius_px: 1 gives 3×3, 2 gives 5×5). On the mean pattern M:
//   med(p)    = median of M over N(p)
//   Q_high(p) = the (c+1)-th largest value of M over N(p), Q_low(p) the (c+1)-th smallest,
//               c = cluster (default 2): a bad pixel may have up to c bad neighbours, while a
//               pixel of a real feature (a disk, even at its edge) has more than c neighbours
//               about as bright (or as dark) as itself
//   s_loc(p)  = 1.4826·median |M − med(p)| over N(p)           (local robust sigma: pixel-to-pixel
//               gain variations, steep structure)
//   noise(p)  = counting data (counts per frame, mean of F = frames frames):
//                 sqrt((max(med(p), 0) + 1/F) / F)   (Poisson noise of the mean, with one count of
//                 headroom so that an all-dark neighbourhood still has a scale)
//               other data (counting = false): s_glob = 1.4826·median |r − median(r)| over the
//                 frame, r = M − med (the global robust sigma)
//   hot:  M(p) − Q_high(p) > hot_threshold·max(s_loc(p), noise(p))
//   dead: the pixel never saw signal, M(p) == 0 (and max(p) == 0 when a max pattern is given),
//         while its neighbourhood did: Q_low(p) > dead_threshold·sigma_dead(p), with sigma_dead
//         = noise(p) for counting data (gain variations never make exact zeros, so only
//         counting statistics matter: Q_low/noise ≈ sqrt(F·Q_low), and the default 5 asks for
//         about 25 expected counts, P(no count) = e^−25) and max(s_loc, s_glob) otherwise.
// This is py4DSTEM's filter_hot_pixels rule (M(p) minus the second largest value of a 21-pixel
// neighbourhood, p included, above an absolute threshold: stem-algorithms.md §10) with the
// threshold in robust standard deviations, so it needs no tuning per dataset, and its mirror
// image for dead pixels. Excess over the median alone is not enough: a pixel at the edge of a
// disk exceeds the median of a window lying mostly outside the disk, whose MAD is small (and a
// dark pixel just outside a disk in a zero background is below the median of a window mostly
// inside it). Sharp features of one or two pixels (unblurred Bragg spots) cannot be told from hot
// pixels, nor dead pixels in regions that get no signal from live ones.
#pragma once

#include <cstdint>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/engine/pixel_repair.hpp"

namespace scandiff::stem {

struct BadPixelOptions {
  int window_radius_px = 2;      // h: 1 -> 3×3, 2 -> 5×5 neighbourhood
  int cluster = 2;               // c: hot neighbours a hot pixel may have (0..|N(p)| − 1)
  double hot_threshold = 8;      // in sigma(p)
  double dead_threshold = 5;     // in sigma(p)
  std::int64_t frames = 1;       // F: frames averaged into the mean pattern
  bool counting = true;          // Poisson floor s_cnt (counting detectors, counts per frame)
};

enum class BadPixelKind { hot, dead };

struct BadPixel {
  std::int64_t qy = 0, qx = 0;
  BadPixelKind kind = BadPixelKind::hot;
  double score = 0;  // (M − Q_high)/sigma for hot pixels, Q_low/sigma_dead for dead ones
};

// `mean` and `max` are 2D (qy, qx) arrays of any numeric dtype; `max` may be empty (Array()).
// Returns the bad pixels in C order (qy, then qx). Throws InvalidArgument for shapes or options
// out of range (named).
std::vector<BadPixel> find_bad_pixels(const Array& mean, const Array& max, const BadPixelOptions& options = {});

// The pixel list RepairPixels takes.
std::vector<engine::DetectorPixel> pixels_of(const std::vector<BadPixel>& bad);

}  // namespace scandiff::stem
