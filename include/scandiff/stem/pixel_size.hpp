// Reciprocal pixel size from the rings of a calibrant (Au, Si, any .D d-spacing list), with the
// small-angle electron convention q = 1/d (no 2π): a ring of spacing d lies at the
// ellipse-corrected radius R = (1/d)/s pixels, s = reciprocal pixel size in Å⁻¹ per pixel.
//
// 1. Ring peaks of an azimuthal mean profile I(r_j), r_j = qmin + j·qstep (e.g. radial_mean of
//    polar_statistics.hpp over the mean pattern): background = running minimum over ±window
//    bins, then a 3-bin box smooth of it; peaks are local maxima of I − background over ±2 bins,
//    above r_min, higher than min_relative_height × the highest; the subpixel radius is the
//    vertex of the parabola through log(I − bg) at the three bins around the maximum (exact for a
//    Gaussian ring), or through I − bg when a value is not positive.
// 2. Indexing: every pairing of one of the strongest peaks with one of the first rings proposes
//    s = g_i/R_k (g = 1/d); a peak matches ring j when |R − g_j/s| <= tolerance·R. The proposal
//    that matches most peaks, less half a point per calibrant ring predicted between the first and
//    last peak without a peak, wins (ties: the smaller rms); then s = Σ g·R / Σ R² over the
//    matched pairs (least squares through the origin), refitted up to 3 times without the pairs
//    whose relative residual from the median g/R exceeds max(4 × its median, 0.1%) (merged or edge-clipped rings).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace scandiff::stem {

struct RingPeak {
  double radius_px = 0;  // subpixel, in the profile's radius units (pixels)
  double height = 0;     // above the background
};

struct RingPeakOptions {
  double r_min_px = 5;               // ignore the central beam
  double min_relative_height = 0.05;
  std::int64_t background_window = 10;  // bins
};

// Peaks of `profile` (radii qmin + j·qstep px), sorted by radius. NaN values count as 0.
std::vector<RingPeak> find_ring_peaks(std::span<const double> profile, double qmin_px, double qstep_px,
                                      const RingPeakOptions& options = {});

struct PixelSizeOptions {
  double tolerance = 0.015;         // relative radius mismatch for a match
  std::int64_t strongest_peaks = 6;  // peaks tried as anchors
  std::int64_t first_rings = 8;      // calibrant rings tried as anchors
  std::optional<double> guess_inv_A_per_px;  // when set, proposals within ±20% of it only
};

struct RingMatch {
  std::int64_t ring = 0;  // index into the d-spacing list
  double d_A = 0;
  double radius_px = 0;   // measured
  double predicted_px = 0;
};

struct PixelSizeResult {
  double inv_A_per_px = 0;          // s: Å⁻¹ (of 1/d) per detector pixel
  std::vector<RingMatch> matches;   // the pairs used in the final fit
  double rms_relative = 0;          // rms of (R − predicted)/predicted over the matches
};

// Throws InvalidArgument when there are no peaks or d-spacings, and Error when no proposal
// matches at least two peaks.
PixelSizeResult fit_pixel_size(const std::vector<RingPeak>& peaks, std::span<const double> d_spacings_A,
                               const PixelSizeOptions& options = {});

}  // namespace scandiff::stem
