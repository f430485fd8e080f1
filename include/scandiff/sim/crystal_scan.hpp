// A synthetic single-crystal 4D-STEM scan: a lattice of Bragg disks on an amorphous ring
// and a constant background, with descan (origin drift), elliptical distortion, a smooth
// strain field and optional Poisson noise. Conventions (axes, (x, y) = (qx, qy), radians,
// ellipse, pixel centres, seeding): see frame_generator.hpp.
//
// The pattern at scan position (ry, rx), as expected counts per detector pixel p = (qx, qy):
//
//   o       = origin(ry, rx) = (origin_qx_px, origin_qy_px) + ry·descan_per_ry_px + rx·descan_per_rx_px
//   q       = D^-1·(p − o)                         ideal (undistorted) vector of the pixel
//   beta    = [[1 − exx, −exy + rot], [−exy − rot, 1 − eyy]]   (x, y components, at (ry, rx))
//   g'_hk   = beta·(h·g1 + k·g2)                   strained reciprocal lattice
//   I(p)    = dose_scale · ( background
//                          + ring_intensity · exp(−(|q| − ring_radius_px)² / (2·ring_width_px²))
//                          + Σ_hk I_hk · w_hk(p) )
//   I_hk    = central_intensity · exp(−|h·g1 + k·g2|² / (2·intensity_sigma_px²))
//   w       = area-coverage anti-aliasing: 1 inside the disk, 0 outside, and at the edge the
//             fraction of the pixel square on the disk side of the tangent to the (distorted)
//             disk edge, which for an axis-aligned edge is clamp(disk_radius_px + 0.5 − d, 0, 1)
//             with d = |q − g'_hk|. Using the edge orientation, rather than that formula for all
//             orientations, keeps intensity-weighted disk centroids within 0.005 px of the
//             true centre for a 5 px radius (0.002 px at 8 px; measured over random sub-pixel
//             centres and ellipse ratios up to 1.15), where the plain formula is off by up to
//             0.025 px. The summed weight exceeds π·R² by about π/12 px² (edge curvature).
//
// The rendered reflections are the (h, k) with unstrained |h·g1 + k·g2| <= max_g_px (the
// central beam included); the set and the intensities I_hk are the same at every position,
// only the disk positions move. beta is the py4DSTEM convention of stem-algorithms.md §8
// read with x = qx, y = qy: g_measured = beta·g_reference. The disk centres are placed
// exactly there, so a strain fit of the (origin- and ellipse-corrected) disk positions
// against g1, g2 recovers exx = 1 − β00, eyy = 1 − β11, exy = −(β01 + β10)/2,
// rotation = (β01 − β10)/2 up to the precision of the position measurement.
// Disks, ring and background are all distorted by D (the disk images are ellipses).
//
// Strain field: each of exx, eyy, exy, rotation is
//   c(ry, rx) = uniform + bump·exp(−((u − bu)² + (v − bv)²) / (2·bump_sigma²))
//                       + wave·sin(2π·(wave_cycles_rx·u + wave_cycles_ry·v) + wave_phase_rad)
// in normalised scan coordinates u = (rx + 0.5)/scan_x, v = (ry + 0.5)/scan_y ∈ (0, 1),
// with (bu, bv) = (bump_center_rx, bump_center_ry),
// so the same parameters give the same field shape for any scan size. The bump and wave
// shapes are shared by the four components; each component has its own three amplitudes.
//
// Output: integer dtypes get the expected counts rounded to nearest (noise none) or the
// Poisson draw, clipped to the dtype's range; float dtypes get the unrounded expectation
// (noise none, so sub-pixel checks are not limited by rounding) or the Poisson draw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "scandiff/core/dtype.hpp"
#include "scandiff/sim/frame_generator.hpp"

namespace scandiff::sim {

// Amplitudes of one strain component (dimensionless, or radians for the rotation).
struct StrainComponent {
  double uniform = 0;  // the same value everywhere
  double bump = 0;     // peak of the shared Gaussian bump
  double wave = 0;     // amplitude of the shared plane wave
};

struct StrainField {
  StrainComponent exx, eyy, exy, rotation_rad;
  // Gaussian bump: centre and sigma in normalised scan coordinates (fractions of the scan).
  double bump_center_rx = 0.5, bump_center_ry = 0.5, bump_sigma = 0.2;
  // Plane wave: cycles across the scan along rx and ry, phase in radians.
  double wave_cycles_rx = 1, wave_cycles_ry = 0, wave_phase_rad = 0;
};

// The strain at one scan position.
struct Strain {
  double exx = 0, eyy = 0, exy = 0, rotation_rad = 0;
};

// g' = beta·g with beta = [[1 − exx, −exy + rot], [−exy − rot, 1 − eyy]] ((x, y) components).
Vec2 deform(const Strain& e, Vec2 g);

struct CrystalScanParams {
  // Shape and element type.
  std::int64_t scan_y = 16, scan_x = 16;     // scan positions (ry, rx)
  std::int64_t frame_y = 128, frame_x = 128;  // detector pixels (qy, qx)
  DType dtype = DType::u16;

  // Reciprocal lattice (ideal, unstrained), (x, y) in detector pixels.
  Vec2 g1_px{22, 4};
  Vec2 g2_px{-6, 20};
  double max_g_px = 60;  // reflections with unstrained |g| above this are not rendered

  // Disks.
  double disk_radius_px = 4;        // probe (disk) radius; edge anti-aliased over ~1 px
  double central_intensity = 100;   // counts per pixel inside the central disk (before dose_scale)
  double intensity_sigma_px = 40;   // disk at g: central_intensity·exp(−|g|²/(2σ²)); may be +inf

  // Amorphous ring centred on the origin, and a constant background (counts per pixel).
  double ring_radius_px = 45;
  double ring_width_px = 4;  // Gaussian sigma of the ring profile
  double ring_intensity = 0; // peak counts of the ring
  double background = 0;

  // Origin (undrifted, at scan position (0, 0)); unset = frame centre ((frame − 1)/2).
  std::optional<double> origin_qy_px, origin_qx_px;
  // Descan: origin drift per scan step along ry and along rx, (x, y) in detector pixels.
  Vec2 descan_per_ry_px{0, 0};
  Vec2 descan_per_rx_px{0, 0};

  EllipseDistortion ellipse;
  StrainField strain;

  Noise noise = Noise::none;
  double dose_scale = 1;  // multiplies every expected count (both noise modes)
  std::uint64_t seed = 0;
};

// One rendered reflection: g = h·g1 + k·g2 (unstrained) and its disk intensity.
struct Reflection {
  int h = 0, k = 0;
  double intensity = 0;  // counts per pixel inside the disk, before dose_scale
};

class CrystalScan final : public FrameGenerator {
 public:
  // Validates (see validate()) and precomputes the reflection list.
  explicit CrystalScan(CrystalScanParams params);

  // Throws InvalidArgument naming the offending parameter, e.g.
  // "sim: disk_radius_px must be > 0 (got -1)".
  void validate() const;

  const CrystalScanParams& params() const { return params_; }
  const std::vector<Reflection>& reflections() const { return reflections_; }
  double origin_qy_px() const { return origin_qy_; }  // resolved undrifted origin
  double origin_qx_px() const { return origin_qx_; }

  // Ground truth at one position.
  Vec2 origin_at(std::int64_t ry, std::int64_t rx) const;  // (qx, qy) of the origin
  Strain strain_at(std::int64_t ry, std::int64_t rx) const;

  // Format "simulated", path "<simulated crystal scan>". Calibration: pixel sizes 1
  // "pixels"; origin = the undrifted origin (per-position maps are left empty: the drift is
  // ground truth, see ground_truth()); ellipse set when ratio != 1 as a_px = ratio,
  // b_px = 1, theta_rad = theta (only the ratio and angle are meaningful: the pattern has no
  // single radius). metadata["simulation"] = parameters().
  io::DatasetInfo info() const override;
  void render(std::int64_t first, std::int64_t count, std::byte* dst) const override;
  // float64 (ry, rx) maps: origin_qy, origin_qx (pixels), exx, eyy, exy (dimensionless,
  // units ""), rotation (rad). Each provenance holds the parameters and g1_px / g2_px.
  std::vector<Result> ground_truth() const override;
  Metadata parameters() const override;

 private:
  CrystalScanParams params_;
  double origin_qy_ = 0, origin_qx_ = 0;
  std::vector<Reflection> reflections_;
};

}  // namespace scandiff::sim
