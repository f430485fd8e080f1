// Synthetic polycrystalline (powder) ring patterns, e.g. a gold calibration sample, with
// elliptical distortion and optional Poisson noise. Conventions (axes, (x, y) = (qx, qy),
// radians, ellipse, pixel centres, seeding): see frame_generator.hpp.
//
// Reciprocal convention: q = 1/d (no 2π). A ring of d-spacing d (Å) has the ideal radius
//   R = (1/d) / pixel_size_inv_A   detector pixels,
// which is the semi-minor axis b of its image under the ellipse (along the a-axis the ring
// sits at ratio·R). Expected counts at detector pixel p:
//   q    = D^-1·(p − origin)
//   I(p) = dose_scale · ( background + Σ_rings ring_intensity·relative_intensity·
//                                       exp(−(|q| − R)² / (2·ring_width_px²)) )
// (each ring's Gaussian is evaluated within ±8 σ of its radius; beyond, it is < 1e-13 of
// its peak and left out). Every scan position shows the same pattern; only the noise
// differs from frame to frame. Output rounding/clipping as in crystal_scan.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scandiff/core/dtype.hpp"
#include "scandiff/sim/frame_generator.hpp"

namespace scandiff::sim {

struct PowderRing {
  double d_A = 1;                  // lattice-plane spacing, Angstrom
  double relative_intensity = 1;   // scales ring_intensity
  std::string label;               // e.g. "111" (for provenance only)
};

// fcc gold, a = 4.0782 Å: (111), (200), (220), (311), (222), (400), (331), (420) with
// d = a/√(h² + k² + l²). Relative intensities are the X-ray powder values of ICDD PDF
// 04-0784 (Cu Kα: 100, 52, 32, 36, 12, 6, 23, 22, here divided by 100): a plausible
// stand-in, not electron-diffraction intensities.
std::vector<PowderRing> gold_d_spacings();
inline constexpr double gold_lattice_constant_A = 4.0782;

struct RingPatternParams {
  std::int64_t scan_y = 1, scan_x = 1;
  std::int64_t frame_y = 256, frame_x = 256;
  DType dtype = DType::u16;

  std::vector<PowderRing> rings = gold_d_spacings();
  double pixel_size_inv_A = 0.01;  // reciprocal sampling, Å^-1 (of 1/d) per detector pixel
  double ring_width_px = 1.5;      // Gaussian sigma of each ring profile
  double ring_intensity = 100;     // peak counts of a ring with relative_intensity 1

  // Origin; unset = frame centre ((frame − 1)/2).
  std::optional<double> origin_qy_px, origin_qx_px;
  EllipseDistortion ellipse;
  double background = 0;

  Noise noise = Noise::none;
  double dose_scale = 1;
  std::uint64_t seed = 0;
};

class RingPattern final : public FrameGenerator {
 public:
  // Validates and precomputes the expected (noise-free) frame: frame_y·frame_x doubles.
  explicit RingPattern(RingPatternParams params);

  // Throws InvalidArgument naming the offending parameter, e.g.
  // "sim: rings[2].d_A must be > 0 (got 0)".
  void validate() const;

  const RingPatternParams& params() const { return params_; }
  double origin_qy_px() const { return origin_qy_; }
  double origin_qx_px() const { return origin_qx_; }
  // Ideal radius (= semi-minor axis b) of ring i in detector pixels: (1/d)/pixel_size.
  double ring_radius_px(std::size_t i) const;

  // Format "simulated", path "<simulated ring pattern>". Calibration: detector pixel size
  // pixel_size_inv_A in "A^-1", scan pixel size 1 "pixels", origin, ellipse (when ratio != 1)
  // as a_px = ratio, b_px = 1, theta_rad = theta, as CrystalScan does (only the ratio and
  // angle are meaningful: each ring has its own radius). metadata["simulation"] = parameters().
  io::DatasetInfo info() const override;
  void render(std::int64_t first, std::int64_t count, std::byte* dst) const override;
  // float64 (ry, rx) maps origin_qy, origin_qx (constant), and ring_radius_px (one value per
  // ring, axis "ring"); provenance holds the parameters, d-spacings and labels.
  std::vector<Result> ground_truth() const override;
  Metadata parameters() const override;

 private:
  RingPatternParams params_;
  double origin_qy_ = 0, origin_qx_ = 0;
  std::vector<double> expected_;  // one noise-free frame, dose_scale applied
};

}  // namespace scandiff::sim
