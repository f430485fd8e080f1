// Centre of mass against a direct computation and against a simulated disk of known centre;
// the scan rotation recovered from a CoM field made from a known phase and rotation; the
// Fourier-integrated phase; the plane fit; DPC end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "scandiff/analysis/plane_fit.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/center_of_mass.hpp"
#include "scandiff/stem/dpc.hpp"
#include "scandiff/stem/virtual_images.hpp"
#include "stem_test_util.hpp"

using namespace scandiff;

namespace {

constexpr double deg = std::numbers::pi / 180;

// Direct CoM of frame (y, x) with weights w(i, j).
std::pair<double, double> direct_com(const Array& scan, std::int64_t y, std::int64_t x,
                                     const std::function<double(std::int64_t, std::int64_t)>& w) {
  double s = 0, sx = 0, sy = 0;
  for (std::int64_t i = 0; i < scan.shape(2); ++i)
    for (std::int64_t j = 0; j < scan.shape(3); ++j) {
      const double v = test::at(scan, y, x, i, j) * w(i, j);
      s += v;
      sx += v * static_cast<double>(j);
      sy += v * static_cast<double>(i);
    }
  return {sx / s, sy / s};
}

}  // namespace

// Run after another frame-local analysis (engine slices, frames in cache), CoM of 16-bit frames
// without a mask takes the column-strip kernel: the same values, bit for bit, as CoM alone, for
// widths with and without a remainder of 16 columns, more than 256 rows (two row groups) and
// full-range pixels (the uint32 running totals at their largest), for any thread count.
TEST(CenterOfMass, AfterVirtualImagesTheSameBitForBit) {
  const std::int64_t shapes[][2] = {{256, 256}, {300, 37}, {17, 64}, {5, 9}};
  for (const auto& [fy, fx] : shapes) {
    Array scan = test::random_scan<std::uint16_t>(3, 4, fy, fx, 91);
    std::uint16_t* p = scan.data<std::uint16_t>();
    for (std::int64_t k = 0; k < fy * fx; ++k) p[k] = 65535;  // frame 0: every pixel at full scale
    for (std::int64_t k = fy * fx; k < 2 * fy * fx; ++k) p[k] = 0;  // frame 1: empty (NaN)
    for (std::int64_t k = 2 * fy * fx; k < scan.size(); k += 3) p[k] = static_cast<std::uint16_t>(65535 - k % 7);
    stem::CenterOfMass alone;
    test::run_on(scan, {&alone}, {}, 1);
    for (int threads : {1, 2}) {
      stem::VirtualImages images({{"disk", stem::Detector::circle(fy, fx, static_cast<double>(fy) / 2, static_cast<double>(fx) / 2, 3)}});
      stem::CenterOfMass com;
      test::run_on(scan, {&images, &com}, {}, threads);
      for (std::int64_t k = 0; k < 12; ++k) {
        const double ax = alone.com_x().data<double>()[k], ay = alone.com_y().data<double>()[k];
        const double bx = com.com_x().data<double>()[k], by = com.com_y().data<double>()[k];
        if (k == 1) {
          EXPECT_TRUE(std::isnan(bx) && std::isnan(by));
          continue;
        }
        EXPECT_EQ(std::memcmp(&ax, &bx, sizeof ax), 0) << fy << "x" << fx << " frame " << k << ": " << ax << " vs " << bx;
        EXPECT_EQ(std::memcmp(&ay, &by, sizeof ay), 0) << fy << "x" << fx << " frame " << k << ": " << ay << " vs " << by;
      }
    }
    const auto a = direct_com(scan, 0, 0, [](auto, auto) { return 1.0; });  // full scale: the frame's centre
    EXPECT_NEAR(alone.com_x().data<double>()[0], a.first, 1e-12);
    EXPECT_NEAR(alone.com_y().data<double>()[0], a.second, 1e-12);
  }
}

TEST(CenterOfMass, MatchesADirectComputationWithAndWithoutMasks) {
  for (int kind = 0; kind < 3; ++kind) {
    const Array scan = kind == 0   ? test::random_scan<std::uint16_t>(4, 5, 18, 21, 71)
                       : kind == 1 ? test::random_scan<float>(4, 5, 18, 21, 72)
                                   : test::random_scan<std::uint32_t>(4, 5, 18, 21, 73);
    Array weights(DType::f64, {18, 21});
    for (std::int64_t k = 0; k < weights.size(); ++k) weights.data<double>()[k] = 0.5 + 0.5 * std::cos(0.21 * static_cast<double>(k));
    const auto wv = weights.view<const double, 2>();
    const stem::Detector disk = stem::Detector::circle(18, 21, 8.3, 10.1, 6.2);
    stem::CenterOfMass plain, masked({.mask = disk}), weighted({.mask = stem::Detector::from_mask(weights)});
    test::run_on(scan, {&plain, &masked, &weighted});
    for (std::int64_t y = 0; y < 4; ++y)
      for (std::int64_t x = 0; x < 5; ++x) {
        const std::int64_t k = y * 5 + x;
        const auto a = direct_com(scan, y, x, [](auto, auto) { return 1.0; });
        EXPECT_NEAR(plain.com_x().data<double>()[k], a.first, 1e-12);
        EXPECT_NEAR(plain.com_y().data<double>()[k], a.second, 1e-12);
        const auto b = direct_com(scan, y, x, [&](auto i, auto j) {
          const double dy = static_cast<double>(i) - 8.3, dx = static_cast<double>(j) - 10.1;
          return dy * dy + dx * dx < 6.2 * 6.2 ? 1.0 : 0.0;
        });
        EXPECT_NEAR(masked.com_x().data<double>()[k], b.first, 1e-12);
        EXPECT_NEAR(masked.com_y().data<double>()[k], b.second, 1e-12);
        const auto c = direct_com(scan, y, x, [&](auto i, auto j) { return wv(i, j); });
        EXPECT_NEAR(weighted.com_x().data<double>()[k], c.first, 1e-11);
        EXPECT_NEAR(weighted.com_y().data<double>()[k], c.second, 1e-11);
      }
  }
}

TEST(CenterOfMass, EmptyPatternIsNaNAndResultsNameTheirAxes) {
  Array scan(DType::u8, {1, 2, 4, 4});
  scan.data<std::uint8_t>()[16 + 5] = 3;  // frame 1: one pixel at (1, 1)
  stem::CenterOfMass com;
  test::run_on(scan, {&com});
  EXPECT_TRUE(std::isnan(com.com_x().data<double>()[0]));
  EXPECT_EQ(com.com_x().data<double>()[1], 1.0);
  const auto r = com.results();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "com_x");
  EXPECT_EQ(r[0].units, "pixels");
  EXPECT_EQ(r[0].axes[0].name, "ry");
}

TEST(CenterOfMass, SimulatedShiftedDiskWithinAThousandthOfAPixel) {
  // Noise-free float64 frames holding only the central disk (no other reflection, ring or
  // background), its centre drifting by a sub-pixel amount per scan step.
  sim::CrystalScanParams p;
  p.scan_y = 6;
  p.scan_x = 7;
  p.frame_y = p.frame_x = 96;
  p.dtype = DType::f64;
  p.g1_px = {40, 3};
  p.g2_px = {-4, 41};
  p.max_g_px = 5;  // the central beam only
  p.disk_radius_px = 20;
  p.ring_intensity = 0;
  p.background = 0;
  p.origin_qy_px = 46.83;
  p.origin_qx_px = 48.21;
  p.descan_per_rx_px = {0.173, -0.061};
  p.descan_per_ry_px = {-0.047, 0.219};
  p.noise = sim::Noise::none;
  auto gen = std::make_shared<sim::CrystalScan>(p);
  sim::SimulatedSource src(gen);
  stem::CenterOfMass com, relative({.mask = std::nullopt, .relative_to_origin = true});
  // The exact per-position origin as calibration maps, for relative_to_origin.
  Calibration cal = src.info().calibration;
  cal.origin_qy_map = Array(DType::f64, {6, 7});
  cal.origin_qx_map = Array(DType::f64, {6, 7});
  double worst = 0;
  for (std::int64_t y = 0; y < 6; ++y)
    for (std::int64_t x = 0; x < 7; ++x) {
      cal.origin_qy_map.data<double>()[y * 7 + x] = gen->origin_at(y, x).y;
      cal.origin_qx_map.data<double>()[y * 7 + x] = gen->origin_at(y, x).x;
    }
  engine::Analysis* list[] = {&com};
  engine::run(src, list);
  for (std::int64_t y = 0; y < 6; ++y)
    for (std::int64_t x = 0; x < 7; ++x) {
      const auto o = gen->origin_at(y, x);
      const double ex = com.com_x().data<double>()[y * 7 + x] - o.x, ey = com.com_y().data<double>()[y * 7 + x] - o.y;
      worst = std::max({worst, std::abs(ex), std::abs(ey)});
    }
  EXPECT_LT(worst, 1e-3) << "worst CoM error " << worst << " px";
  // Relative to the origin: the same error, around zero.
  Array frames(DType::f64, {6, 7, 96, 96});
  src.read(0, 42, frames.bytes());
  test::run_on(frames, {&relative}, cal);
  for (std::int64_t k = 0; k < 42; ++k) {
    EXPECT_LT(std::abs(relative.com_x().data<double>()[k]), 1e-3);
    EXPECT_LT(std::abs(relative.com_y().data<double>()[k]), 1e-3);
  }
}

namespace {

// A smooth phase on an (H, W) scan: Gaussian bumps, and its exact gradient (per scan pixel).
struct PhaseField {
  Array phase, gx, gy;
};

PhaseField bumps(std::int64_t H, std::int64_t W) {
  PhaseField f{Array(DType::f64, {H, W}), Array(DType::f64, {H, W}), Array(DType::f64, {H, W})};
  struct Bump {
    double y, x, a, s;
  };
  const auto h = static_cast<double>(H), w = static_cast<double>(W);
  const Bump list[] = {{0.3 * h, 0.35 * w, 1.0, 4.0}, {0.62 * h, 0.6 * w, -0.7, 5.5}, {0.4 * h, 0.75 * w, 0.5, 3.0},
                       {0.7 * h, 0.25 * w, 0.8, 6.0}};
  for (std::int64_t i = 0; i < H; ++i)
    for (std::int64_t j = 0; j < W; ++j) {
      double p = 0, gx = 0, gy = 0;
      for (const Bump& b : list) {
        const double dy = static_cast<double>(i) - b.y, dx = static_cast<double>(j) - b.x;
        const double e = b.a * std::exp(-(dx * dx + dy * dy) / (2 * b.s * b.s));
        p += e;
        gx += -dx / (b.s * b.s) * e;
        gy += -dy / (b.s * b.s) * e;
      }
      f.phase.data<double>()[i * W + j] = p;
      f.gx.data<double>()[i * W + j] = gx;
      f.gy.data<double>()[i * W + j] = gy;
    }
  return f;
}

// The detector-frame CoM whose scan-frame field is (gx, gy): det = S^flip · R(−θ) · scan.
void to_detector(const PhaseField& f, double theta, bool flip, double scale, Array& cx, Array& cy) {
  stem::apply_scan_rotation(f.gx, f.gy, {-theta, false}, cx, cy);
  if (flip) std::swap(cx, cy);
  for (auto* a : {&cx, &cy})
    for (std::int64_t k = 0; k < a->size(); ++k) a->data<double>()[k] *= scale;
}

double rms_difference_zero_mean(const Array& a, const Array& b) {
  double ma = 0, mb = 0;
  const auto n = static_cast<double>(a.size());
  for (std::int64_t k = 0; k < a.size(); ++k) {
    ma += a.data<double>()[k] / n;
    mb += b.data<double>()[k] / n;
  }
  double s = 0, r = 0;
  for (std::int64_t k = 0; k < a.size(); ++k) {
    const double d = (a.data<double>()[k] - ma) - (b.data<double>()[k] - mb);
    s += d * d;
    r += (b.data<double>()[k] - mb) * (b.data<double>()[k] - mb);
  }
  return std::sqrt(s / r);
}

}  // namespace

TEST(ScanRotation, RecoversKnownRotationAndFlipWithinHalfADegree) {
  const PhaseField f = bumps(48, 56);
  for (const double theta_deg : {0.0, 23.4, -61.7, 89.3, -12.25}) {
    for (const bool flip : {false, true}) {
      Array cx, cy;
      to_detector(f, theta_deg * deg, flip, 3.7, cx, cy);
      const auto r = stem::find_scan_rotation(cx, cy);
      EXPECT_EQ(r.best.flip, flip) << theta_deg;
      EXPECT_NEAR(r.best.rotation_rad / deg, theta_deg, 0.5) << "flip " << flip;
      EXPECT_EQ(r.angles_deg.size(), 180u);
      // The minimum found is at least as low as the curl at the true rotation (nearly 0: the
      // field is a gradient; central differences leave a small residual).
      Array sx, sy;
      stem::apply_scan_rotation(cx, cy, {theta_deg * deg, flip}, sx, sy);
      EXPECT_LE(r.curl, stem::mean_abs_curl(sx, sy) * (1 + 1e-12));
      stem::apply_scan_rotation(cx, cy, {(theta_deg + 20) * deg, flip}, sx, sy);
      EXPECT_LT(r.curl, 0.1 * stem::mean_abs_curl(sx, sy));
    }
  }
  // Modulo π: a field rotated by 180° more gives the same angle.
  Array cx, cy;
  to_detector(f, (30.0 + 180.0) * deg, false, 1.0, cx, cy);
  EXPECT_NEAR(stem::find_scan_rotation(cx, cy).best.rotation_rad / deg, 30.0, 0.5);
}

TEST(ScanRotation, ForcedFlipAndValidation) {
  const PhaseField f = bumps(20, 24);
  Array cx, cy;
  to_detector(f, 10 * deg, true, 1.0, cx, cy);
  stem::RotationSearch s;
  s.flip = false;
  const auto r = stem::find_scan_rotation(cx, cy, s);
  EXPECT_FALSE(r.best.flip);
  EXPECT_TRUE(r.curl_flipped.empty());
  EXPECT_THROW(stem::find_scan_rotation(Array(DType::f64, {2, 5}), Array(DType::f64, {2, 5})), InvalidArgument);
  EXPECT_THROW(stem::find_scan_rotation(cx, Array(DType::f64, {20, 25})), InvalidArgument);
}

TEST(PhaseIntegration, RecoversAPhaseFromItsGradient) {
  const PhaseField f = bumps(64, 72);
  const Array mirrored = stem::integrate_gradient(f.gx, f.gy);
  EXPECT_LT(rms_difference_zero_mean(mirrored, f.phase), 2e-3);
  double mean = 0;
  for (std::int64_t k = 0; k < mirrored.size(); ++k) mean += mirrored.data<double>()[k];
  EXPECT_NEAR(mean / static_cast<double>(mirrored.size()), 0.0, 1e-12);
  // Periodic integration of a non-periodic field is worse at the edges, but still close here.
  const Array periodic = stem::integrate_gradient(f.gx, f.gy, {.mirror = false});
  EXPECT_LT(rms_difference_zero_mean(periodic, f.phase), 0.2);
}

TEST(PlaneFit, ExactOnAPlaneAndSkipsNonFinite) {
  Array m(DType::f64, {7, 9});
  for (std::int64_t i = 0; i < 7; ++i)
    for (std::int64_t j = 0; j < 9; ++j) m.data<double>()[i * 9 + j] = 2.5 - 0.3 * static_cast<double>(i) + 0.07 * static_cast<double>(j);
  m.data<double>()[10] = std::nan("");
  const analysis::Plane p = analysis::fit_plane(m);
  EXPECT_NEAR(p.c0, 2.5, 1e-12);
  EXPECT_NEAR(p.c_ry, -0.3, 1e-12);
  EXPECT_NEAR(p.c_rx, 0.07, 1e-12);
  EXPECT_THROW(analysis::fit_plane(Array(DType::f64, {1, 5})), InvalidArgument);
}

TEST(Dpc, RecoversRotationAndPhaseInRadians) {
  const PhaseField f = bumps(48, 52);
  // Calibration: 0.01 Å⁻¹ per detector pixel, 0.5 nm scan step. CoM (px) = ∇φ / (2π·Δk·Δr).
  Calibration cal;
  cal.detector_units = "A^-1";
  cal.detector_pixel_size = 0.01;
  cal.scan_units = "nm";
  cal.scan_pixel_size = 0.5;
  const double scale = 1.0 / (2 * std::numbers::pi * 0.01 * 5.0);
  Array cx, cy;
  to_detector(f, -37.5 * deg, true, scale, cx, cy);
  stem::DpcOptions none;
  none.background = stem::ComBackground::none;
  const stem::DpcResult r = stem::dpc(cx, cy, cal, none);
  EXPECT_TRUE(r.rotation_searched);
  EXPECT_TRUE(r.rotation.flip);
  EXPECT_NEAR(r.rotation.rotation_rad / deg, -37.5, 0.5);
  EXPECT_EQ(r.phase_units, "rad");
  EXPECT_EQ(r.com_units, "A^-1");
  EXPECT_LT(rms_difference_zero_mean(r.phase, f.phase), 0.01);
  // Descan (a plane in each CoM component, tens of pixels) is removed by the default background.
  Array dx = cx.copy(), dy = cy.copy();
  for (std::int64_t i = 0; i < 48; ++i)
    for (std::int64_t j = 0; j < 52; ++j) {
      dx.data<double>()[i * 52 + j] += 30 + 0.05 * static_cast<double>(j) - 0.02 * static_cast<double>(i);
      dy.data<double>()[i * 52 + j] += 31 + 0.03 * static_cast<double>(i);
    }
  const stem::DpcResult d = stem::dpc(dx, dy, cal);
  EXPECT_TRUE(d.rotation.flip);
  EXPECT_NEAR(d.rotation.rotation_rad / deg, -37.5, 0.5);
  const auto results = r.results(io::DatasetInfo{});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[2].name, "idpc_phase");
  EXPECT_EQ(results[2].units, "rad");
  EXPECT_EQ(results[2].provenance["flip"], true);
  // Forced rotation: used as given.
  stem::DpcOptions forced;
  forced.rotation_rad = 10 * deg;
  forced.flip = false;
  const auto g = stem::dpc(cx, cy, cal, forced);
  EXPECT_FALSE(g.rotation_searched);
  EXPECT_EQ(g.rotation.rotation_rad, 10 * deg);
  EXPECT_GT(g.curl, r.curl);
  // Uncalibrated: arbitrary units.
  EXPECT_EQ(stem::dpc(cx, cy, Calibration{}).phase_units, "a.u.");
}
