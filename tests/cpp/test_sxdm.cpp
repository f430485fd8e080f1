// SXDM per-frame analyses: 1-D hot-pixel filters against hand values, the 2-D selective median
// stage, centroid maps against the simulator's ground truth and an independent reference, ROI maps
// against direct sums, and the real 26-ID-C frame (../shared/data/sxdm).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <vector>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/open.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/sim/sxdm_scan.hpp"
#include "scandiff/sxdm/centroid_maps.hpp"
#include "scandiff/sxdm/hot_pixel_filter.hpp"
#include "scandiff/sxdm/profile_filter.hpp"
#include "scandiff/sxdm/roi_maps.hpp"

namespace fs = std::filesystem;
using namespace scandiff;

namespace {

std::shared_ptr<const sim::SxdmScan> scan(sim::SxdmScanParams p) { return std::make_shared<const sim::SxdmScan>(p); }

void run_all(io::Source& source, std::vector<engine::Analysis*> analyses, std::vector<engine::FrameStage*> stages = {},
             int threads = 2) {
  engine::RunOptions o;
  o.threads = threads;
  o.stages = std::move(stages);
  engine::run(source, analyses, o);
}

// All frames of a source as float64, (frames, qy, qx) flattened.
std::vector<double> frames_f64(io::Source& s) {
  const auto& info = s.info();
  Array a(info.dtype, {info.frame_count(), info.frame_y, info.frame_x});
  s.read(0, info.frame_count(), a.bytes());
  const Array d = a.astype(DType::f64);
  return {d.data<double>(), d.data<double>() + d.size()};
}

}  // namespace

TEST(SxdmProfileFilter, SelectiveReplacesSpikesByTheWindowMedian) {
  std::vector<double> p{1, 1, 50, 1, 1};
  sxdm::selective_median_inplace(p, 1, 10);
  EXPECT_EQ(p, (std::vector<double>{1, 1, 1, 1, 1}));
  // Below median − height: only with_low.
  std::vector<double> low{5, 5, 0, 5, 5};
  sxdm::selective_median_inplace(low, 1, 2);
  EXPECT_EQ(low, (std::vector<double>{5, 5, 0, 5, 5}));
  sxdm::selective_median_inplace(low, 1, 2, true);
  EXPECT_EQ(low, (std::vector<double>{5, 5, 5, 5, 5}));
  // Not above median + height (strict): kept.
  std::vector<double> edge{0, 10, 0};
  sxdm::selective_median_inplace(edge, 1, 10);
  EXPECT_EQ(edge, (std::vector<double>{0, 10, 0}));
}

TEST(SxdmProfileFilter, SelectiveWalksInPlaceAsSxdm) {
  // d = 2, height 10. j = 4: window {50→0, 0, 100, 100} after j = 2 was replaced, median 50,
  // so 100 → 50; j = 5 then sees {0, 50, 100}: median 50 → 50. A filter reading the original
  // values would give 75 and keep the last 100.
  std::vector<double> p{0, 0, 50, 0, 100, 100};
  sxdm::selective_median_inplace(p, 2, 10);
  EXPECT_EQ(p, (std::vector<double>{0, 0, 0, 0, 50, 50}));
  // The window is clipped at the ends: j = 0 with d = 2 uses p[0..2].
  std::vector<double> q{100, 0, 0, 0};
  sxdm::selective_median_inplace(q, 2, 10);
  EXPECT_EQ(q, (std::vector<double>{0, 0, 0, 0}));
  EXPECT_THROW(sxdm::selective_median_inplace(q, -1, 10), InvalidArgument);
  EXPECT_THROW(sxdm::selective_median_inplace(q, 1, -1), InvalidArgument);
}

TEST(SxdmProfileFilter, MedianIsScipyMedfiltWithZeroPadding) {
  const std::vector<double> p{1, 5, 2, 8, 3};
  std::vector<double> out(p.size());
  sxdm::median_filter(p, 3, out);
  EXPECT_EQ(out, (std::vector<double>{1, 2, 5, 3, 3}));  // scipy.signal.medfilt([1,5,2,8,3], 3)
  sxdm::median_filter(p, 5, out);
  EXPECT_EQ(out, (std::vector<double>{1, 2, 3, 3, 2}));  // scipy.signal.medfilt([1,5,2,8,3], 5)
  EXPECT_THROW(sxdm::median_filter(p, 4, out), InvalidArgument);
}

TEST(SxdmHotPixels, SelectiveMedianFramesRepairsHotAndDeadPixels) {
  Array img(DType::u16, {4, 5});
  std::fill_n(img.data<std::uint16_t>(), 20, std::uint16_t{10});
  img.data<std::uint16_t>()[1 * 5 + 2] = 5000;  // hot
  img.data<std::uint16_t>()[0] = 60000;         // hot in a corner (2×2 window: 10, 10, 10, 60000)
  img.data<std::uint16_t>()[3 * 5 + 4] = 0;     // dead in a corner
  img.data<std::uint16_t>()[2 * 5 + 0] = 15;    // within the height: kept
  const Array out = sxdm::selective_median_image(img, {.half_window = 1, .height = 100, .with_low = false});
  const auto* o = out.data<std::uint16_t>();
  EXPECT_EQ(o[1 * 5 + 2], 10);
  EXPECT_EQ(o[0], 10);
  EXPECT_EQ(o[3 * 5 + 4], 0);
  EXPECT_EQ(o[2 * 5 + 0], 15);
  const Array low = sxdm::selective_median_image(img, {.half_window = 1, .height = 5, .with_low = true});
  EXPECT_EQ(low.data<std::uint16_t>()[3 * 5 + 4], 10);
  // The median is rounded half away from zero for integers: window {1, 2} (edge of a 1×2 image).
  Array two(DType::i32, {1, 3});
  two.data<std::int32_t>()[0] = 1;
  two.data<std::int32_t>()[1] = 2;
  two.data<std::int32_t>()[2] = 1000;
  const Array r = sxdm::selective_median_image(two, {.half_window = 1, .height = 100});
  EXPECT_EQ(r.data<std::int32_t>()[2], 501);  // median of {2, 1000} = 501
  EXPECT_THROW(sxdm::SelectiveMedianFrames({.half_window = 0}), InvalidArgument);
}

TEST(SxdmCentroid, NoiseFreeGaussianGivesTheExactCentroid) {
  sim::SxdmScanParams p;
  p.scan_y = 5;
  p.scan_x = 7;
  p.frame_y = 96;
  p.frame_x = 128;
  p.dtype = DType::f64;
  p.background = 0;
  p.hot_pixels = 0;
  p.sigma_qx_px = 2.5;
  p.sigma_qy_px = 3.5;
  p.swing_qx_px = 9;
  p.swing_qy_px = 6;
  const auto gen = scan(p);
  sim::SimulatedSource source(gen);
  sxdm::CentroidOptions o;
  o.segmentation = sxdm::Segmentation::none;
  sxdm::CentroidMaps maps(o);
  run_all(source, {&maps});
  const std::vector<double> frames = frames_f64(source);
  double worst = 0;
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      const std::int64_t i = ry * p.scan_x + rx;
      // The discretised peak's centroid, summed directly.
      double s = 0, sx = 0, sy = 0;
      for (std::int64_t y = 0; y < p.frame_y; ++y)
        for (std::int64_t x = 0; x < p.frame_x; ++x) {
          const double v = frames[static_cast<std::size_t>((i * p.frame_y + y) * p.frame_x + x)];
          s += v;
          sx += v * static_cast<double>(x);
          sy += v * static_cast<double>(y);
        }
      EXPECT_NEAR(maps.centroid_x().data<double>()[i], sx / s, 1e-9);
      EXPECT_NEAR(maps.centroid_y().data<double>()[i], sy / s, 1e-9);
      EXPECT_NEAR(maps.roi_sum().data<double>()[i], s, 1e-9 * s);
      // And the analytic centre (a Gaussian sampled at unit spacing with σ >= 2.5 has its centroid
      // at the centre to ~1e-50): the 1e-3 px target.
      const sim::Vec2 c = gen->peak_at(ry, rx);
      worst = std::max({worst, std::abs(maps.centroid_x().data<double>()[i] - c.x),
                        std::abs(maps.centroid_y().data<double>()[i] - c.y)});
    }
  EXPECT_LT(worst, 1e-3);
}

TEST(SxdmCentroid, HotPixelStageRestoresTheCentroidOfIntegerFrames) {
  sim::SxdmScanParams p;
  p.scan_y = 4;
  p.scan_x = 6;
  p.frame_y = 128;
  p.frame_x = 128;
  p.dtype = DType::i32;
  p.background = 0;
  p.hot_pixels = 6;
  p.peak_counts = 20000;  // rounding to integers moves a σ = 4 px centroid by < 1e-4 px at this height
  sim::SimulatedSource source(scan(p));
  sxdm::CentroidOptions o;
  o.segmentation = sxdm::Segmentation::none;
  sxdm::CentroidMaps raw(o), repaired(o);
  run_all(source, {&raw});
  sxdm::SelectiveMedianFrames stage({.half_window = 1, .height = 1000});
  run_all(source, {&repaired}, {&stage});
  p.hot_pixels = 0;
  sim::SimulatedSource clean_source(scan(p));
  sxdm::CentroidMaps clean(o);
  run_all(clean_source, {&clean});
  auto gen = scan(p);
  double worst_raw = 0, worst = 0, worst_clean = 0;
  for (std::int64_t i = 0; i < p.scan_y * p.scan_x; ++i) {
    const sim::Vec2 c = gen->peak_at(i / p.scan_x, i % p.scan_x);
    worst_raw = std::max(worst_raw, std::abs(raw.centroid_x().data<double>()[i] - c.x));
    worst = std::max({worst, std::abs(repaired.centroid_x().data<double>()[i] - clean.centroid_x().data<double>()[i]),
                      std::abs(repaired.centroid_y().data<double>()[i] - clean.centroid_y().data<double>()[i])});
    worst_clean = std::max({worst_clean, std::abs(clean.centroid_x().data<double>()[i] - c.x),
                            std::abs(clean.centroid_y().data<double>()[i] - c.y)});
  }
  EXPECT_GT(worst_raw, 1.0);  // six pixels of 1e5 counts pull the raw centroid away
  // The stage restores the frames without hot pixels, up to a hot pixel that lands on the peak's
  // flank: it gets its window median, not its true value (here 1.2e-3 px at one position).
  EXPECT_LT(worst, 5e-3);
  EXPECT_LT(worst_clean, 1e-3) << "integer rounding of the peak";
}

TEST(SxdmCentroid, SxdmSegmentationMatchesAReferenceAndIsThreadIndependent) {
  sim::SxdmScanParams p;
  p.scan_y = 6;
  p.scan_x = 5;
  p.frame_y = 64;
  p.frame_x = 80;
  p.dtype = DType::u16;
  p.noise = sim::Noise::poisson;
  p.peak_counts = 300;
  p.background = 2;
  p.hot_pixels = 3;
  p.seed = 7;
  sim::SimulatedSource source(scan(p));
  sxdm::CentroidOptions o;
  o.roi = sxdm::DetectorBox{10, 5, 70, 60};
  o.filter = {.kind = sxdm::ProfileFilterKind::selective, .distance = 4, .height = 200, .with_low = true};
  o.segmentation = sxdm::Segmentation::sxdm;
  o.stdev_min = 35;
  sxdm::CentroidMaps one(o), many(o);
  run_all(source, {&one}, {}, 1);
  run_all(source, {&many}, {}, 2);
  const std::vector<double> frames = frames_f64(source);
  for (std::int64_t i = 0; i < p.scan_y * p.scan_x; ++i) {
    // Reference: profiles by direct loops, the same filter, numpy's segmentation rule.
    std::vector<double> px(60, 0.0), py(55, 0.0);
    for (std::int64_t y = 5; y < 60; ++y)
      for (std::int64_t x = 10; x < 70; ++x) {
        const double v = frames[static_cast<std::size_t>((i * p.frame_y + y) * p.frame_x + x)];
        px[static_cast<std::size_t>(x - 10)] += v;
        py[static_cast<std::size_t>(y - 5)] += v;
      }
    sxdm::selective_median_inplace(px, 4, 200, true);
    sxdm::selective_median_inplace(py, 4, 200, true);
    const double sum = std::accumulate(px.begin(), px.end(), 0.0);
    auto centroid = [](std::vector<double> v) {
      const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      const double cut = std::sqrt(ss / static_cast<double>(v.size())) < 35 ? *std::max_element(v.begin(), v.end()) : mean;
      double s = 0, si = 0;
      for (std::size_t k = 0; k < v.size(); ++k)
        if (v[k] > cut) {
          s += v[k];
          si += static_cast<double>(k) * v[k];
        }
      return s == 0 ? std::nan("") : si / s;
    };
    const double cx = 10 + centroid(px), cy = 5 + centroid(py);
    EXPECT_NEAR(one.centroid_x().data<double>()[i], cx, 1e-9) << i;
    EXPECT_NEAR(one.centroid_y().data<double>()[i], cy, 1e-9) << i;
    EXPECT_DOUBLE_EQ(one.roi_sum().data<double>()[i], sum);
    EXPECT_EQ(std::memcmp(&one.centroid_x().data<double>()[i], &many.centroid_x().data<double>()[i], 8), 0);
  }
}

TEST(SxdmCentroid, FlatProfilesAreNaNAndBadBoxesThrow) {
  Array flat(DType::u16, {2, 1, 8, 8});
  std::fill_n(flat.data<std::uint16_t>(), flat.size(), std::uint16_t{3});
  io::MemorySource source(flat);
  sxdm::CentroidMaps maps({});  // sxdm rule: std 0 < 35 → no signal
  run_all(source, {&maps});
  EXPECT_TRUE(std::isnan(maps.centroid_x().data<double>()[0]));
  EXPECT_EQ(maps.roi_sum().data<double>()[0], 3 * 64);
  sxdm::CentroidOptions o;
  o.roi = sxdm::DetectorBox{0, 0, 9, 8};
  sxdm::CentroidMaps bad(o);
  EXPECT_THROW(run_all(source, {&bad}), InvalidArgument);
  EXPECT_THROW(sxdm::parse_detector_box("1,2,3"), InvalidArgument);
  EXPECT_EQ(sxdm::parse_detector_box("1,2,3,4").x1, 3);
}

TEST(SxdmCentroid, GeometryGivesTwoThetaAndChiAtTheCentroid) {
  Array frames(DType::f64, {1, 1, 20, 30});
  std::fill_n(frames.data<double>(), frames.size(), 0.0);
  frames.data<double>()[7 * 30 + 21] = 10;  // a single pixel: centroid (7, 21)
  io::MemorySource source(frames);
  xray::PoniGeometry g;
  g.distance_m = 0.1;
  g.pixel1_m = g.pixel2_m = 1e-4;
  g.poni1_m = 1e-3;
  g.poni2_m = 1.5e-3;
  sxdm::CentroidOptions o;
  o.segmentation = sxdm::Segmentation::none;
  o.geometry = g;
  sxdm::CentroidMaps maps(o);
  run_all(source, {&maps});
  // Pixel centre (7.5, 21.5) pixels: p1 = 0.75e-3 − 1e-3, p2 = 2.15e-3 − 1.5e-3 (no rotation).
  const double p1 = -0.25e-3, p2 = 0.65e-3;
  EXPECT_NEAR(maps.two_theta_deg().data<double>()[0], std::atan2(std::hypot(p1, p2), 0.1) * 180 / M_PI, 1e-10);
  EXPECT_NEAR(maps.chi_deg().data<double>()[0], std::atan2(p1, p2) * 180 / M_PI, 1e-10);
}

TEST(SxdmRoi, BoxSumsEqualDirectSums) {
  sim::SxdmScanParams p;
  p.scan_y = 3;
  p.scan_x = 4;
  p.frame_y = 40;
  p.frame_x = 50;
  p.dtype = DType::u32;
  p.noise = sim::Noise::poisson;
  p.seed = 3;
  sim::SimulatedSource source(scan(p));
  const std::vector<sxdm::DetectorBox> boxes{{0, 0, 50, 40}, {10, 5, 30, 25}, {20, 20, 21, 21}, {15, 0, 40, 40}};
  sxdm::RoiMaps roi(boxes);
  run_all(source, {&roi});
  const std::vector<double> frames = frames_f64(source);
  ASSERT_EQ(roi.results().size(), boxes.size());
  EXPECT_EQ(roi.results()[2].name, "roi_2");
  for (std::size_t b = 0; b < boxes.size(); ++b)
    for (std::int64_t i = 0; i < 12; ++i) {
      double s = 0;
      for (std::int64_t y = boxes[b].y0; y < boxes[b].y1; ++y)
        for (std::int64_t x = boxes[b].x0; x < boxes[b].x1; ++x)
          s += frames[static_cast<std::size_t>((i * 40 + y) * 50 + x)];
      EXPECT_EQ(roi.map(b).data<double>()[i], s);
    }
  sxdm::RoiMaps outside(std::vector<sxdm::DetectorBox>{{0, 0, 51, 40}});
  EXPECT_THROW(run_all(source, {&outside}), InvalidArgument);
}

TEST(SxdmRealData, HotPixelsDriveTheCentroidOfThe26IdcFrame) {
  const fs::path file = fs::path(SCANDIFF_SHARED_DATA) / "sxdm" / "scan_294_img_176194.tif";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  auto source = io::open(file);
  ASSERT_EQ(source->info().frame_y, 516);
  ASSERT_EQ(source->info().frame_x, 516);
  // Raw frame, sxdm segmentation: numpy gives 240.10161662817552, 124.23122065727699 (profiles
  // sum(0)/sum(1), values <= mean zeroed); the two hot pixels (901 at (45, 293), 438 at (359, 106))
  // dominate.
  sxdm::CentroidMaps raw({});
  run_all(*source, {&raw});
  EXPECT_NEAR(raw.centroid_x().data<double>()[0], 240.10161662817552, 1e-9);
  EXPECT_NEAR(raw.centroid_y().data<double>()[0], 124.23122065727699, 1e-9);
  EXPECT_EQ(raw.roi_sum().data<double>()[0], 2164);
  // The 2-D stage removes exactly those two pixels; what is left is below stdev_min: no signal.
  sxdm::SelectiveMedianFrames stage({.half_window = 1, .height = 100});
  sxdm::CentroidMaps repaired({});
  run_all(*source, {&repaired}, {&stage});
  EXPECT_EQ(repaired.roi_sum().data<double>()[0], 2164 - 901 - 438);
  EXPECT_TRUE(std::isnan(repaired.centroid_x().data<double>()[0]));
  // The 1-D selective filter on the profiles (sxdm's default use) reaches the same verdict.
  sxdm::CentroidOptions o;
  o.filter = {.kind = sxdm::ProfileFilterKind::selective, .distance = 9, .height = 100, .with_low = true};
  sxdm::CentroidMaps filtered(o);
  run_all(*source, {&filtered});
  EXPECT_TRUE(std::isnan(filtered.centroid_x().data<double>()[0]));
  EXPECT_TRUE(std::isnan(filtered.centroid_y().data<double>()[0]));
}
