#include "scandiff/sim/scan_preset.hpp"

#include <algorithm>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/ring_pattern.hpp"
#include "scandiff/sim/sxdm_scan.hpp"

namespace scandiff::sim {

namespace {

std::string option(std::string_view prefix, std::string name) {
  if (prefix == "--") std::replace(name.begin(), name.end(), '_', '-');
  return std::string(prefix) + name;
}

void check_pair(const std::vector<std::int64_t>& v, const std::string& what) {
  if (v.size() != 2 || v[0] <= 0 || v[1] <= 0)
    throw InvalidArgument(fmt::format("{}: expected two positive sizes Y,X", what));
}

Vec2 vec2(const std::vector<double>& v, const std::string& what) {
  if (v.size() != 2) throw InvalidArgument(fmt::format("{}: expected two numbers (qx, qy)", what));
  return {v[0], v[1]};
}

}  // namespace

std::shared_ptr<const FrameGenerator> make_generator(const ScanPreset& o, std::string_view prefix) {
  check_pair(o.scan, option(prefix, "scan"));
  check_pair(o.frame, option(prefix, "frame"));
  if (o.ellipse.size() != 2) throw InvalidArgument(fmt::format("{}: expected RATIO,ANGLE_DEG", option(prefix, "ellipse")));
  const double deg = std::numbers::pi / 180;
  const EllipseDistortion ellipse{o.ellipse[0], o.ellipse[1] * deg};
  const DType dtype = parse_dtype(o.dtype, option(prefix, "dtype"));
  const Noise noise = parse_noise(o.noise, option(prefix, "noise"));
  if (o.kind == "crystal") {
    CrystalScanParams p;
    p.scan_y = o.scan[0];
    p.scan_x = o.scan[1];
    p.frame_y = o.frame[0];
    p.frame_x = o.frame[1];
    p.dtype = dtype;
    p.g1_px = vec2(o.g1, option(prefix, "g1"));
    p.g2_px = vec2(o.g2, option(prefix, "g2"));
    p.max_g_px = 0.5 * static_cast<double>(std::min(p.frame_y, p.frame_x));
    p.disk_radius_px = o.disk_radius;
    p.ring_radius_px = 0.35 * static_cast<double>(std::min(p.frame_y, p.frame_x));
    p.ring_intensity = o.amorphous;
    p.background = 0.2;
    p.strain.exx.bump = o.exx;
    p.strain.eyy.bump = o.eyy;
    p.strain.exy.bump = o.exy;
    p.strain.rotation_rad.bump = o.rotation_deg * deg;
    p.descan_per_rx_px = vec2(o.descan_rx, option(prefix, "descan_rx"));
    p.descan_per_ry_px = vec2(o.descan_ry, option(prefix, "descan_ry"));
    p.ellipse = ellipse;
    p.noise = noise;
    p.dose_scale = o.dose;
    p.seed = o.seed;
    return std::make_shared<CrystalScan>(p);
  }
  if (o.kind == "rings") {
    RingPatternParams p;
    p.scan_y = o.scan[0];
    p.scan_x = o.scan[1];
    p.frame_y = o.frame[0];
    p.frame_x = o.frame[1];
    p.dtype = dtype;
    p.pixel_size_inv_A = o.pixel_size;
    p.ellipse = ellipse;
    p.background = 1;
    p.noise = noise;
    p.dose_scale = o.dose;
    p.seed = o.seed;
    return std::make_shared<RingPattern>(p);
  }
  if (o.kind == "sxdm") {
    SxdmScanParams p;
    p.scan_y = o.scan[0];
    p.scan_x = o.scan[1];
    p.frame_y = o.frame[0];
    p.frame_x = o.frame[1];
    p.dtype = dtype;
    const auto fy = static_cast<double>(p.frame_y), fx = static_cast<double>(p.frame_x);
    p.sigma_qx_px = std::max(1.5, fx / 129);
    p.sigma_qy_px = std::max(2.0, fy / 86);
    p.swing_qx_px = fx / 43;
    p.swing_qy_px = fy / 64;
    p.noise = noise;
    p.dose_scale = o.dose;
    p.seed = o.seed;
    return std::make_shared<SxdmScan>(p);
  }
  throw InvalidArgument(fmt::format("{} '{}': expected 'crystal', 'rings' or 'sxdm'", option(prefix, "kind"), o.kind));
}

CrystalScanParams demo_scan(std::int64_t scan, std::int64_t frame) {
  CrystalScanParams p;
  p.scan_y = p.scan_x = scan;
  p.frame_y = p.frame_x = frame;
  p.dtype = DType::u16;
  const double s = static_cast<double>(frame) / 128.0;  // lattice scales with the detector
  p.g1_px = {22 * s, 4 * s};
  p.g2_px = {-6 * s, 20 * s};
  p.max_g_px = 0.5 * static_cast<double>(frame);
  p.disk_radius_px = 4 * s;
  p.central_intensity = 200;
  p.ring_radius_px = 0.35 * static_cast<double>(frame);
  p.ring_intensity = 3;
  p.background = 0.2;
  p.descan_per_rx_px = {0.02, 0.0};  // a little descan, as on a real microscope
  p.descan_per_ry_px = {0.0, 0.02};
  p.strain.exx.bump = 0.03;  // a strained inclusion in the middle of the scan
  p.strain.bump_sigma = 0.15;
  p.noise = Noise::poisson;
  p.seed = 1;
  return p;
}

}  // namespace scandiff::sim
