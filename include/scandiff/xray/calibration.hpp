// Geometry calibration from a calibrant's rings: the calibrant's d-spacings (io/calibrant.hpp), control
// points found on the rings of an image, and least-squares refinement of the .poni parameters
// (pyFAI's refine: residual 2θ(point) − 2θ(ring), Levenberg–Marquardt).
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/xray/geometry.hpp"

namespace scandiff::xray {

// The calibrant's d-spacings come from io::read_calibrant (pyFAI/Dioptas .D files, io/calibrant.hpp).

// 2θ = 2·asin(λ / 2d) (rad) of each d-spacing (Å) at `wavelength_m`; NaN where λ/2d > 1 (unreachable).
std::vector<double> ring_two_theta(const std::vector<double>& d_spacing_A, double wavelength_m);

// A point on a ring: fractional image coordinates (row, col) of its intensity centroid, pixel
// centres at integers (as pyFAI's d1, d2), and the ring: an index into the d-spacing list.
struct ControlPoint {
  double row, col;
  int ring;
};

struct ExtractOptions {
  double window_deg = 0.3;    // half-width of the 2θ band searched around each predicted ring
  int sectors = 360;          // χ sectors: at most one point per ring and sector
  double min_contrast = 3.0;  // the peak must exceed this many times the median of a ±max(window, 1°) band
  int max_rings = 20;         // innermost rings used
  int centroid_half_width = 2;  // the point is the intensity centroid of a (2h+1)² box at the peak
};

// For each ring predicted by `geometry` on the image (rows × cols as the geometry), the brightest
// pixel of the 2θ band in each χ sector, refined to the intensity centroid around it, kept when bright
// enough. Pixels with negative values (detector gaps) are ignored.
std::vector<ControlPoint> extract_control_points(const Array& image, const DetectorGeometry& geometry,
                                                 const std::vector<double>& d_spacing_A,
                                                 const ExtractOptions& options = {});

struct RefineResult {
  PoniGeometry geometry;
  double rms_residual_rad = 0;  // √(mean (2θ(point) − 2θ(ring))²)
  int iterations = 0;
  // Covariance of the refined parameters, s²·(JᵀJ)⁻¹ with s² = Σr² / (n − p) (independent
  // residuals assumed), p × p row-major over (distance m, Poni1 m, Poni2 m, Rot1 rad, Rot2 rad
  // [, wavelength m]).
  std::vector<double> covariance;
  int parameters() const { return static_cast<int>(std::lround(std::sqrt(static_cast<double>(covariance.size())))); }
  double std_error(int k) const { return std::sqrt(covariance[static_cast<std::size_t>(k * (parameters() + 1))]); }
  double correlation(int a, int b) const {
    return covariance[static_cast<std::size_t>(a * parameters() + b)] / (std_error(a) * std_error(b));
  }
};

// Levenberg–Marquardt on distance, Poni1, Poni2, Rot1, Rot2 (and the wavelength when
// `refine_wavelength`) from `start`. Rot3 is kept: rotating about the beam leaves 2θ unchanged,
// so rings cannot determine it. InvalidArgument with fewer than 8 points.
RefineResult refine_geometry(const PoniGeometry& start, std::int64_t rows, std::int64_t cols,
                             const std::vector<ControlPoint>& points, const std::vector<double>& d_spacing_A,
                             bool refine_wavelength = false);

// The whole procedure from a rough start: extract points on the 4 innermost rings in a wide band
// (±0.5°), refine, drop points beyond 3 rms and refine again; then on all rings in narrower bands
// (±0.25°, then ±0.15°) around the refined rings, and so on (`passes` passes in all).
RefineResult calibrate(const Array& image, const PoniGeometry& start, const std::vector<double>& d_spacing_A,
                       bool refine_wavelength = false, int passes = 3);

}  // namespace scandiff::xray
