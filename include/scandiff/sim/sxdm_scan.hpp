// A synthetic SXDM scan (scanning X-ray diffraction microscopy, e.g. APS 26-ID-C): one Bragg peak,
// a 2-D Gaussian on a flat background, whose detector position moves smoothly with the scan
// position (a strain / tilt field), plus a few hot pixels. Conventions (axes, (x, y) = (qx, qy),
// pixel centres, seeding): see frame_generator.hpp. Defaults: 516×516 int32 frames as 26-ID-C.
//
// Peak centre at scan position (ry, rx), with u = (rx + 0.5)/scan_x, v = (ry + 0.5)/scan_y:
//   cx(ry, rx) = peak_qx_px + swing_qx_px · sin(2π·u + π·v)
//   cy(ry, rx) = peak_qy_px + swing_qy_px · cos(2π·v − π·u)
// Expected counts at pixel (qy, qx):
//   I = dose_scale · ( background + peak_counts · exp(−(qx − cx)²/(2σx²) − (qy − cy)²/(2σy²)) )
// the Gaussian evaluated within ±8σ of the centre on each axis (beyond, < 1.3e-14 of its peak) and
// 0 outside. Hot pixels: `hot_pixels` fixed detector pixels (the same in every frame, positions
// drawn from the seed, listed in the ground truth) read hot_counts whatever else is there.
// Output rounding/clipping as crystal_scan.hpp (integer dtypes: rounded or one Poisson draw).
// Noise-free frames are rendered without per-pixel work outside the peak window (a fill), so
// streaming a very large scan is limited by memory bandwidth, not by the simulator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "scandiff/core/dtype.hpp"
#include "scandiff/sim/frame_generator.hpp"

namespace scandiff::sim {

struct SxdmScanParams {
  std::int64_t scan_y = 32, scan_x = 32;      // scan positions (ry, rx)
  std::int64_t frame_y = 516, frame_x = 516;  // detector pixels (qy, qx)
  DType dtype = DType::i32;

  std::optional<double> peak_qy_px, peak_qx_px;  // mean peak position; unset = frame centre
  double swing_qx_px = 12, swing_qy_px = 8;      // amplitude of the movement over the scan
  double sigma_qx_px = 4, sigma_qy_px = 6;       // Gaussian widths (2θ and χ directions)
  double peak_counts = 1000;                     // counts at the peak maximum
  double background = 1;                         // counts per pixel
  std::int64_t hot_pixels = 4;                   // number of hot pixels
  double hot_counts = 100000;                    // value of a hot pixel

  Noise noise = Noise::none;
  double dose_scale = 1;
  std::uint64_t seed = 0;
};

struct DetectorPixelIndex {
  std::int64_t qy = 0, qx = 0;
};

class SxdmScan final : public FrameGenerator {
 public:
  // Validates (throws InvalidArgument naming the parameter, "sim: sigma_qx_px must be > 0 (got 0)").
  explicit SxdmScan(SxdmScanParams params);

  const SxdmScanParams& params() const { return params_; }
  Vec2 peak_at(std::int64_t ry, std::int64_t rx) const;  // (qx, qy) of the Gaussian centre, pixels
  const std::vector<DetectorPixelIndex>& hot_pixel_positions() const { return hot_; }

  // Format "simulated", path "<simulated sxdm scan>", pixel sizes 1 "pixels".
  io::DatasetInfo info() const override;
  void render(std::int64_t first, std::int64_t count, std::byte* dst) const override;
  // float64 (ry, rx) maps peak_qx, peak_qy (pixels), and hot_pixels (n, 2) as (qy, qx).
  std::vector<Result> ground_truth() const override;
  Metadata parameters() const override;

 private:
  SxdmScanParams params_;
  double qy0_ = 0, qx0_ = 0;
  std::vector<DetectorPixelIndex> hot_;
};

}  // namespace scandiff::sim
