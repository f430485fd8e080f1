// Hot and dead pixels: injected into a simulated Poisson scan (found, and nothing else), repaired
// by the preparation stage, and the known hot pixel of a real Merlin file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <iostream>
#include <random>
#include <set>

#include "mib_frames.hpp"
#include "stem_test_util.hpp"
#include "scandiff/engine/pixel_repair.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/bad_pixels.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

using Pixel = std::pair<std::int64_t, std::int64_t>;  // (qy, qx)

struct Injected {
  Array scan;
  std::set<Pixel> hot, dead;
};

// A 16x16 scan of 96x96 uint16 Poisson frames (disks, amorphous ring, 0.2 counts background,
// a little descan) with hot pixels (a constant excess every frame) and dead pixels (always 0).
Injected injected_scan() {
  sim::CrystalScanParams p = test::disk_scan_96(16, 16);
  p.descan_per_rx_px = {0.03, 0};
  p.descan_per_ry_px = {0, 0.03};
  p.noise = sim::Noise::poisson;
  p.seed = 9;
  sim::SimulatedSource src(p);
  Injected out;
  out.scan = Array(DType::u16, {16, 16, 96, 96});
  src.read(0, 256, out.scan.bytes());
  // (qy, qx) -> excess counts per frame. Background, central disk, its edge (r = 5 from
  // (46.3, 49.1)), an adjacent pair, a corner, a border pixel, next to a Bragg disk.
  const std::vector<std::pair<Pixel, int>> hot = {{{10, 10}, 30},  {{46, 49}, 400}, {{46, 54}, 2000},
                                                  {{80, 20}, 50},  {{80, 21}, 50},  {{0, 0}, 100},
                                                  {{95, 40}, 60},  {{43, 59}, 300}};
  // Dead: background, inside the (1, 0) Bragg disk (qy, qx ≈ (50.3, 71.1)), on the ring.
  const std::vector<Pixel> dead = {{30, 70}, {50, 71}, {46, 11}};
  auto v = out.scan.view<std::uint16_t, 4>();
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) {
      for (const auto& [px, excess] : hot) v(y, x, px.first, px.second) = static_cast<std::uint16_t>(v(y, x, px.first, px.second) + excess);
      for (const auto& px : dead) v(y, x, px.first, px.second) = 0;
    }
  for (const auto& [px, excess] : hot) out.hot.insert(px);
  out.dead.insert(dead.begin(), dead.end());
  return out;
}

stem::VirtualDiffraction patterns(io::Source& src, std::vector<engine::FrameStage*> stages = {}) {
  stem::VirtualDiffraction vd;
  engine::Analysis* list[] = {&vd};
  engine::RunOptions o;
  o.stages = std::move(stages);
  engine::run(src, list, o);
  return vd;
}

}  // namespace

TEST(BadPixels, FindsTheInjectedHotAndDeadPixelsAndNothingElse) {
  const Injected inj = injected_scan();
  io::MemorySource src(inj.scan);
  const stem::VirtualDiffraction vd = patterns(src);
  const auto bad = stem::find_bad_pixels(vd.mean(), vd.max(), {.frames = 256});
  std::set<Pixel> hot, dead;
  for (const auto& b : bad) (b.kind == stem::BadPixelKind::hot ? hot : dead).insert({b.qy, b.qx});
  EXPECT_EQ(hot, inj.hot);
  EXPECT_EQ(dead, inj.dead);

  // The same with a 3x3 neighbourhood.
  const auto bad3 = stem::find_bad_pixels(vd.mean(), vd.max(), {.window_radius_px = 1, .frames = 256});
  std::set<Pixel> all3, all;
  for (const auto& b : bad3) all3.insert({b.qy, b.qx});
  all.insert(inj.hot.begin(), inj.hot.end());
  all.insert(inj.dead.begin(), inj.dead.end());
  EXPECT_EQ(all3, all);

}

TEST(BadPixels, CleanSimulatedScanHasNone) {
  sim::CrystalScanParams p;
  p.scan_y = p.scan_x = 16;
  p.frame_y = p.frame_x = 96;
  p.g1_px = {22, 4};
  p.g2_px = {-6, 20};
  p.max_g_px = 45;
  p.disk_radius_px = 5;
  p.ring_radius_px = 38;
  p.ring_intensity = 3;
  p.background = 0.2;
  p.noise = sim::Noise::poisson;
  p.seed = 10;
  sim::SimulatedSource src(p);
  const stem::VirtualDiffraction vd = patterns(src);
  EXPECT_TRUE(stem::find_bad_pixels(vd.mean(), vd.max(), {.frames = 256}).empty());
  EXPECT_TRUE(stem::find_bad_pixels(vd.mean(), vd.max(), {.window_radius_px = 1, .frames = 256}).empty());
}

TEST(BadPixels, RepairStageRemovesThem) {
  const Injected inj = injected_scan();
  io::MemorySource src(inj.scan);
  const stem::VirtualDiffraction before = patterns(src);
  const auto bad = stem::find_bad_pixels(before.mean(), before.max(), {.frames = 256});
  engine::RepairPixels repair(stem::pixels_of(bad));
  const stem::VirtualDiffraction after = patterns(src, {&repair});
  EXPECT_TRUE(stem::find_bad_pixels(after.mean(), after.max(), {.frames = 256}).empty());
  // A repaired background pixel is background again: 0.2 counts per frame, give or take noise.
  const auto a = after.mean().view<const double, 2>();
  const auto b = before.mean().view<const double, 2>();
  EXPECT_LT(a(10, 10), 1.0);
  EXPECT_GT(b(10, 10), 30.0);
  // A repaired pixel inside the central disk is disk again (about 100 counts).
  EXPECT_NEAR(a(46, 49), 100, 10);
}

TEST(BadPixels, NonCountingDataUseTheGlobalRobustSigma) {
  // A smooth float pattern (a broad Gaussian of height 50 on an offset of 10) with Gaussian noise
  // of sigma 0.5: hot pixels +8 (16 sigma), dead pixels 0.
  Array mean(DType::f64, {64, 64});
  auto v = mean.view<double, 2>();
  std::mt19937 rng(4);
  std::normal_distribution<double> noise(0, 0.5);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      v(y, x) = 10 + 50 * std::exp(-((y - 30.0) * (y - 30.0) + (x - 35.0) * (x - 35.0)) / (2 * 12.0 * 12.0)) + noise(rng);
  v(5, 7) += 8;
  v(30, 35) += 8;
  v(40, 12) = 0;
  const auto bad = stem::find_bad_pixels(mean, Array(), {.counting = false});
  std::set<Pixel> hot, dead;
  for (const auto& b : bad) (b.kind == stem::BadPixelKind::hot ? hot : dead).insert({b.qy, b.qx});
  EXPECT_EQ(hot, (std::set<Pixel>{{5, 7}, {30, 35}}));
  EXPECT_EQ(dead, (std::set<Pixel>{{40, 12}}));
}

TEST(BadPixels, RejectsBadOptions) {
  Array mean(DType::f64, {8, 8});
  EXPECT_THROW(stem::find_bad_pixels(mean, Array(DType::f64, {8, 7})), InvalidArgument);
  EXPECT_THROW(stem::find_bad_pixels(mean, Array(), {.window_radius_px = 0}), InvalidArgument);
  EXPECT_THROW(stem::find_bad_pixels(mean, Array(), {.hot_threshold = 0}), InvalidArgument);
  EXPECT_THROW(stem::find_bad_pixels(mean, Array(), {.frames = 0}), InvalidArgument);
  EXPECT_THROW(stem::find_bad_pixels(mean, Array(), {.window_radius_px = 1, .cluster = 8}), InvalidArgument);
  EXPECT_NO_THROW(stem::find_bad_pixels(mean, Array(), {.window_radius_px = 1, .cluster = 7}));
  EXPECT_THROW(stem::find_bad_pixels(Array(DType::f64, {8}), Array()), InvalidArgument);
  EXPECT_TRUE(stem::find_bad_pixels(mean, Array()).empty());  // all zero: nothing to call dead
}

// rosettasciio's 002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y.mib: 8 frames of
// 128 rows × 256 columns, 79 counts in all (numpy, reading '>u2' after each 384-byte header):
// 62 in pixel (qy, qx) = (39, 52) ("x=52, y=39"), 11 in (106, 111) (at most 2 per frame), and 6
// spread over four other pixels (at most 2 each). (106, 111) collects twice as many counts as the
// other 32766 pixels together: a second, weaker hot pixel, which the rule also reports.
TEST(BadPixels, RealMerlinHotPixelAt52x39y) {
  const fs::path file = fs::path(SCANDIFF_SHARED_DATA) / "mib" / "rsciio" /
                        "002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y.mib";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  const Array frames = test::read_mib_u16(file.string(), 128, 256);
  ASSERT_EQ(frames.shape(0), 8);
  io::MemorySource src(frames, 2, 4);
  const stem::VirtualDiffraction vd = patterns(src);
  const auto bad = stem::find_bad_pixels(vd.mean(), vd.max(), {.frames = 8});
  ASSERT_FALSE(bad.empty());
  const auto top = std::max_element(bad.begin(), bad.end(), [](auto& a, auto& b) { return a.score < b.score; });
  EXPECT_EQ(top->qy, 39);
  EXPECT_EQ(top->qx, 52);
  EXPECT_EQ(top->kind, stem::BadPixelKind::hot);
  std::set<Pixel> found;
  for (const auto& b : bad) {
    found.insert({b.qy, b.qx});
    std::cout << "[ measured ] flagged (" << b.qy << ", " << b.qx << ") score " << b.score << "\n";
  }
  EXPECT_EQ(found, (std::set<Pixel>{{39, 52}, {106, 111}}));
}
