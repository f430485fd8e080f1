// Reciprocal lattice from Bragg vectors (stem-algorithms.md §8), in the units of calibrated
// (origin-subtracted) vectors, components (x, y) = (qx, qy):
//   - find_lattice: maxima of the Bragg vector map (bins of `step`, Gaussian-smoothed by one bin,
//     local maxima above min_relative·max, parabola-refined); g0 = the maximum nearest q = 0,
//     g1 = the next nearest to g0, g2 = argmin |d|·(cos²(φ_d − φ_g1) + 0.1) over the others
//     (d = maximum − g0, excluding near-multiples of g1); then (g0, g1, g2) are refined by least
//     squares over all maxima that index within tolerance·min(|g1|, |g2|) of a lattice point
//     (h, k) = round([g1 g2]⁻¹(q − g0)).
//   - fit_lattice: at every scan position, each peak takes the (h, k) of the nearest lattice
//     point when within max_peak_spacing of it; then [1, h, k]·[[x0, y0], [g1x, g1y], [g2x, g2y]]
//     ≈ [qx, qy] by least squares with every row multiplied by the peak intensity (py4DSTEM's
//     weighting, effective weight I²), when at least min_peaks peaks are indexed and (h, k) are not
//     collinear. error = Σ I·|residual| / Σ I.
// Reciprocal pixel size from a known cubic crystal: |g_hkl| = √(h² + k² + l²)/a.
#pragma once

#include <cstdint>

#include "scandiff/core/array.hpp"
#include "scandiff/stem/bragg_vectors.hpp"

namespace scandiff::stem {

struct Lattice {
  double x0 = 0, y0 = 0;     // g0, the lattice origin (the unscattered beam after calibration)
  double g1x = 0, g1y = 0;
  double g2x = 0, g2y = 0;
};

struct LatticeSearchOptions {
  double step = 0.5;           // map bin size, in the vectors' units (pixels for pixel-calibrated vectors)
  double min_relative = 0.02;  // maxima below this fraction of the brightest are ignored
  int max_maxima = 40;         // brightest maxima considered
  double tolerance = 0.15;     // indexing tolerance, fraction of min(|g1|, |g2|)
};

// Throws InvalidArgument for raw vectors, bad options, or when the map has fewer than three
// maxima or no non-collinear pair (message says so).
Lattice find_lattice(const BraggVectors& calibrated, const LatticeSearchOptions& options = {});

struct LatticeFitOptions {
  double max_peak_spacing = 0;  // indexing distance; 0: 0.25·min(|g1|, |g2|)
  int min_peaks = 5;            // positions with fewer indexed peaks get NaN (>= 3)
};

// Per-position lattice maps, float64 (scan_y, scan_x): x0, y0, g1x, g1y, g2x, g2y (vectors'
// units), error, and `valid` (uint8, 1 where fitted), plus the number of indexed peaks.
struct LatticeMaps {
  Array x0, y0, g1x, g1y, g2x, g2y, error, valid, indexed;
  std::int64_t fitted = 0;  // positions with a fit
};

// Throws InvalidArgument for raw vectors, a degenerate guess (|g1 × g2| ~ 0) or bad options.
LatticeMaps fit_lattice(const BraggVectors& calibrated, const Lattice& guess, const LatticeFitOptions& options = {});

// |g| in 1/Å of reflection (h, k, l) of a cubic crystal with lattice parameter a (Å).
double cubic_g_inv_A(double a_A, int h, int k, int l);
// Detector pixel size (1/Å per pixel) making the measured pixel lengths |g1|, |g2| of `px`
// (a lattice from pixel-unit vectors) equal the expected lengths: the mean of the two ratios.
double reciprocal_pixel_size(const Lattice& px, double g1_inv_A, double g2_inv_A);

}  // namespace scandiff::stem
