// The synthetic scans `scandiff simulate` (and the Python package's simulate()) make, described
// by a few user-facing numbers: a strained crystal (CrystalScan), gold powder rings
// (RingPattern) or an SXDM Bragg peak (SxdmScan). Derived parameters not exposed here are fixed:
// for a crystal, reflections up to 0.5 × the smaller frame side, an amorphous ring at 0.35 × the
// smaller side, background 0.2 counts; for rings, background 1 count; for sxdm, the SxdmScanParams
// defaults with σx = max(1.5, frame_x/129), σy = max(2, frame_y/86), swings frame_x/43 and
// frame_y/64 pixels (σ 4 and 6, swings 12 and 8 px on a 516×516 detector).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/frame_generator.hpp"

namespace scandiff::sim {

struct ScanPreset {
  std::string kind = "crystal";  // "crystal", "rings" or "sxdm"
  std::vector<std::int64_t> scan{32, 32}, frame{128, 128};  // (Y, X) of the scan and the detector
  std::string dtype = "uint16";
  std::string noise = "poisson";
  double dose = 1;         // scale factor on all expected counts
  std::uint64_t seed = 0;
  // crystal
  std::vector<double> g1{22, 4}, g2{-6, 20};  // reciprocal lattice vectors (qx, qy), pixels
  double disk_radius = 4;                     // pixels
  double exx = 0.02, eyy = 0, exy = 0, rotation_deg = 0;  // peak of a Gaussian strain bump at the scan centre
  std::vector<double> descan_rx{0, 0}, descan_ry{0, 0};   // origin drift per scan step, (qx, qy) pixels
  double amorphous = 2;                                   // peak counts of the amorphous ring
  // both
  std::vector<double> ellipse{1, 0};  // ratio a/b >= 1, angle of the a-axis from +qx in degrees
  // rings
  double pixel_size = 0.01;  // reciprocal pixel size, 1/Angstrom per pixel
};

// The generator the preset describes. Throws InvalidArgument naming the parameter as
// `option_prefix` + its name with '_' written '-' when option_prefix is "--" (the CLI's flags).
std::shared_ptr<const FrameGenerator> make_generator(const ScanPreset& preset, std::string_view option_prefix = "");

// The scan of `scandiff demo`: a square scan of square uint16 frames of a crystal whose lattice
// and disk radius scale with the frame (frame / 128), Poisson noise, a little descan and a strained
// inclusion (exx bump 0.03) in the middle of the scan; seed 1.
CrystalScanParams demo_scan(std::int64_t scan, std::int64_t frame);

}  // namespace scandiff::sim
