// Probe radius and centre (py4DSTEM get_probe_size): a simulated disk of known geometry and the
// two real Merlin vacuum probes (values checked independently with numpy/py4DSTEM).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "mib_frames.hpp"
#include "scandiff/engine/pixel_repair.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/bad_pixels.hpp"
#include "scandiff/stem/probe_size.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

Array simulated_disk(double radius, double qy0, double qx0, DType dtype, double intensity) {
  sim::CrystalScanParams p;
  p.scan_y = p.scan_x = 1;
  p.frame_y = 80;
  p.frame_x = 90;
  p.dtype = dtype;
  p.g1_px = {200, 0};  // only the central beam is rendered
  p.g2_px = {0, 200};
  p.max_g_px = 1;
  p.disk_radius_px = radius;
  p.central_intensity = intensity;
  p.origin_qy_px = qy0;
  p.origin_qx_px = qx0;
  sim::SimulatedSource src(p);
  Array frame(dtype, {80, 90});
  src.read(0, 1, frame.bytes());
  return frame;
}

const fs::path merlin = fs::path(SCANDIFF_SHARED_DATA) / "mib" / "merlintools";

}  // namespace

TEST(ProbeSize, SimulatedDiskRadiusAndCentreWithinATenthOfAPixel) {
  double worst_r = 0, worst_c = 0;
  for (double radius : {4.0, 9.3, 17.6}) {
    for (auto [qy0, qx0] : {std::pair{40.3, 37.8}, {38.5, 45.0}, {41.77, 44.21}}) {
      const Array disk = simulated_disk(radius, qy0, qx0, DType::f64, 100);
      const stem::ProbeSize p = stem::measure_probe_size(disk);
      EXPECT_NEAR(p.radius_px, radius, 0.1) << radius << " at " << qy0 << ", " << qx0;
      EXPECT_NEAR(p.center_qy_px, qy0, 0.1) << radius;
      EXPECT_NEAR(p.center_qx_px, qx0, 0.1) << radius;
      worst_r = std::max(worst_r, std::abs(p.radius_px - radius));
      worst_c = std::max({worst_c, std::abs(p.center_qy_px - qy0), std::abs(p.center_qx_px - qx0)});
    }
  }
  std::cout << "[ measured ] simulated disks: worst radius error " << worst_r << " px, worst centre error " << worst_c
            << " px\n";
  // Integer data, as a detector gives: the same within a tenth of a pixel.
  const stem::ProbeSize p = stem::measure_probe_size(simulated_disk(9.3, 40.3, 37.8, DType::u16, 1000));
  EXPECT_NEAR(p.radius_px, 9.3, 0.1);
  EXPECT_NEAR(p.center_qy_px, 40.3, 0.1);
  EXPECT_NEAR(p.center_qx_px, 37.8, 0.1);
}

TEST(ProbeSize, RejectsBadInput) {
  EXPECT_THROW(stem::measure_probe_size(Array(DType::f64, {4, 4})), InvalidArgument);  // max 0
  EXPECT_THROW(stem::measure_probe_size(Array(DType::f64, {4})), InvalidArgument);
  const Array disk = simulated_disk(5, 40, 40, DType::f64, 1);
  EXPECT_THROW(stem::measure_probe_size(disk, {.threshold_lower = 0.5, .threshold_upper = 0.4}), InvalidArgument);
  EXPECT_THROW(stem::measure_probe_size(disk, {.thresholds = 2}), InvalidArgument);
}

// py4DSTEM 0.14.18 get_probe_size on the frame as numpy reads it (384-byte header, '>u2'):
//   r = 18.980051498821695, (x0, y0) = (115.18963576089902, 118.86501574130058)  (x0 = row = our qy)
TEST(ProbeSize, RealMerlinProbe300kV) {
  const fs::path file = merlin / "probe_300kV_CL_60mm.mib";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  const Array frame = test::frame_of(test::read_mib_u16(file.string(), 256, 256), 0);
  const stem::ProbeSize p = stem::measure_probe_size(frame);
  EXPECT_NEAR(p.radius_px, 18.980051498821695, 1e-9);
  EXPECT_NEAR(p.center_qy_px, 115.18963576089902, 1e-9);
  EXPECT_NEAR(p.center_qx_px, 118.86501574130058, 1e-9);
}

// The 200 kV probe carries one hot pixel, (qy, qx) = (220, 99) at 1518 counts among zeros (the
// disk peaks near 160): it is the max, so the raw measurement sees a one-pixel "disk"
// (r = sqrt(1/π) = 0.5642). Found and repaired, py4DSTEM on the frame with that pixel set to
// the median of its 3x3 window (0) gives r = 29.993387038180213, centre (119.16251113089938,
// 124.05614070549416).
TEST(ProbeSize, RealMerlinProbe200kVAfterHotPixelRepair) {
  const fs::path file = merlin / "probe_200kV_CL_100mm.mib";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  const Array frame = test::frame_of(test::read_mib_u16(file.string(), 256, 256), 0);
  EXPECT_NEAR(stem::measure_probe_size(frame).radius_px, 0.5641895835477564, 1e-12);
  const auto bad = stem::find_bad_pixels(frame, frame, {.frames = 1});
  bool found = false;
  for (const auto& b : bad) found |= b.qy == 220 && b.qx == 99 && b.kind == stem::BadPixelKind::hot;
  EXPECT_TRUE(found);
  const Array repaired = engine::repair_pixels(frame, {{220, 99}});
  const stem::ProbeSize p = stem::measure_probe_size(repaired);
  EXPECT_NEAR(p.radius_px, 29.993387038180213, 1e-9);
  EXPECT_NEAR(p.center_qy_px, 119.16251113089938, 1e-9);
  EXPECT_NEAR(p.center_qx_px, 124.05614070549416, 1e-9);
  // With every pixel the finder flags repaired, the disk is the same to a tenth of a pixel.
  const stem::ProbeSize q = stem::measure_probe_size(engine::repair_pixels(frame, stem::pixels_of(bad)));
  EXPECT_NEAR(q.radius_px, p.radius_px, 0.1);
  EXPECT_NEAR(q.center_qy_px, p.center_qy_px, 0.1);
  EXPECT_NEAR(q.center_qx_px, p.center_qx_px, 0.1);
}
