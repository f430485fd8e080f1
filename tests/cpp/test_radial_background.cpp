// py4DSTEM's radial background (stem/radial_background.hpp) on synthetic radially symmetric
// patterns with a known profile, with and without an ellipse; its 1D Gaussian against scipy; its
// use in DiskFinder; malformed parameters. Agreement with py4DSTEM itself:
// tests/python/test_radial_background_py4dstem.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "scandiff/analysis/gaussian_filter.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/calibrated_source.hpp"
#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/bragg_disks.hpp"
#include "scandiff/stem/disk_detection.hpp"
#include "scandiff/stem/radial_background.hpp"

using namespace scandiff;
using namespace scandiff::stem;

namespace {

constexpr std::int64_t NY = 96, NX = 100;
constexpr double OY = 47.3, OX = 51.6;

// A smooth radial profile: a decaying background plus a broad ring (|f''| <= 0.3 per px²).
double profile_at(double r) { return 10 + 200 * std::exp(-r / 25) + 30 * std::exp(-(r - 35) * (r - 35) / (2 * 64.0)); }

// What a radial bin at r (px) may differ from f(r): the bilinear splat averages pixels within ±1
// bin with triangle weights, and more of them lie outside r than inside (their density grows
// as r), a shift of the mean radius by 1/(6r), so about |f'(r)|/(6r); plus the curvature terms
// f''/12 (the triangle's variance 1/6) and f''/8 (linear interpolation between bins).
double tolerance(double r) {
  const double slope = (profile_at(r + 1e-4) - profile_at(r - 1e-4)) / 2e-4;
  double curvature = 0;
  for (const double q : {r - 1, r, r + 1})
    curvature = std::max(curvature, std::abs(profile_at(q + 1e-3) - 2 * profile_at(q) + profile_at(q - 1e-3)) / 1e-6);
  return 0.02 + std::abs(slope) / (5 * (r - 1)) + curvature * (1.0 / 12 + 1.0 / 8);
}

// xc, yc of radial_background.hpp for pixel (qy, qx).
void ellipse_coords(double qy, double qx, const Ellipse& e, double& xc, double& yc) {
  const double dx = qx - OX, dy = qy - OY, c = std::cos(e.theta_rad), s = std::sin(e.theta_rad);
  xc = dx * c + dy * s;
  yc = (dy * c - dx * s) * (e.a_px / e.b_px);
}

// The frame f(r), r the polar transform's radius ((b/a)·√(xc² + yc²) with an ellipse).
std::vector<double> radial_frame(const std::optional<Ellipse>& e) {
  std::vector<double> f(static_cast<std::size_t>(NY * NX));
  for (std::int64_t y = 0; y < NY; ++y)
    for (std::int64_t x = 0; x < NX; ++x) {
      double r = std::hypot(static_cast<double>(y) - OY, static_cast<double>(x) - OX);
      if (e) {
        double xc, yc;
        ellipse_coords(static_cast<double>(y), static_cast<double>(x), *e, xc, yc);
        r = std::hypot(xc, yc) * e->b_px / e->a_px;
      }
      f[static_cast<std::size_t>(y * NX + x)] = profile_at(r);
    }
  return f;
}

PolarOptions unsmoothed_bins() {
  PolarOptions p;  // py4DSTEM's PolarDatacube defaults: qstep 1, 180 annular bins, qmax min/√2
  return p;
}

}  // namespace

TEST(GaussianFilter1d, MatchesScipyReflect) {
  const std::vector<double> x = {3.0, -1.0, 4.0, 1.5, 9.0, 2.0, 6.0};
  // scipy.ndimage.gaussian_filter1d(x, sigma) (mode 'reflect', truncate 4): with σ = 2 the
  // kernel (17 taps) is longer than x, so the reflection repeats.
  const std::vector<double> sigma2 = {2.073001712576581, 2.3589954796499297, 2.900033225060268, 3.5742181626454834,
                                      4.189855241641663, 4.605965963434926,  4.797930214991151};
  const std::vector<double> sigma07 = {2.149515334712131, 0.9117051702271864, 2.497802754636061, 3.5351098124461284,
                                       5.94399277019756,  4.293179486063849,  5.1686946717170885};
  std::vector<double> out(x.size());
  analysis::gaussian_filter1d(x, out, analysis::gaussian_kernel(2.0), analysis::BlurEdge::reflect);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(out[i], sigma2[i], 1e-13) << i;
  analysis::gaussian_filter1d(x, out, analysis::gaussian_kernel(0.7), analysis::BlurEdge::reflect);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(out[i], sigma07[i], 1e-13) << i;
  std::vector<double> short_out(3);
  EXPECT_THROW(analysis::gaussian_filter1d(x, short_out, analysis::gaussian_kernel(1.0)), InvalidArgument);
}

// Without smoothing (σ = 0) the background of a radially symmetric pattern is its profile, up to
// the polar binning and the linear interpolation between bins (tolerance() above; values 20..210).
TEST(RadialBackground, CircularPatternGivesItsProfile) {
  const RadialBackground rb(NY, NX, std::nullopt, unsmoothed_bins(), 0.0);
  EXPECT_EQ(rb.n_radial(), 68);  // ceil(96/√2)
  const std::vector<double> f = radial_frame(std::nullopt);
  RadialBackground::Workspace ws;
  rb.profile(f.data(), OY, OX, ws);
  for (std::int64_t j = 3; j < 45; ++j)
    EXPECT_NEAR(ws.smoothed[static_cast<std::size_t>(j)], profile_at(rb.radius_px(j)), tolerance(rb.radius_px(j)))
        << "bin " << j;
  std::vector<double> bg(f.size());
  rb.background(f.data(), OY, OX, bg, ws);
  double worst = 0;  // relative to the tolerance
  for (std::int64_t y = 0; y < NY; ++y)
    for (std::int64_t x = 0; x < NX; ++x) {
      const double r = std::hypot(static_cast<double>(y) - OY, static_cast<double>(x) - OX);
      if (r < 3 || r > 45) continue;
      const auto i = static_cast<std::size_t>(y * NX + x);
      worst = std::max(worst, std::abs(bg[i] - f[i]) / tolerance(r - 1));
    }
  EXPECT_LT(worst, 1.0);
  EXPECT_GT(worst, 0.01);  // binning does smooth a little
}

// With an ellipse, the profile is sampled along the polar radius r = (b/a)·√(xc² + yc²) but
// evaluated at ρ = √(xc² + yc²) (py4DSTEM's get_radial_bkgrnd), so a pattern f(r) gets the
// background f(ρ). A wrong angle convention would break this by up to (a/b − 1)·ρ·|f'|.
TEST(RadialBackground, EllipseUsesPy4dstemRadius) {
  const Ellipse e{22.0, 20.0, 30 * std::numbers::pi / 180};  // a/b = 1.1, a-axis 30° from +qx toward +qy
  const RadialBackground rb(NY, NX, e, unsmoothed_bins(), 0.0);
  const std::vector<double> f = radial_frame(e);
  RadialBackground::Workspace ws;
  std::vector<double> bg(f.size());
  rb.background(f.data(), OY, OX, bg, ws);
  double worst = 0, worst_swapped = 0;
  const Ellipse swapped{e.a_px, e.b_px, std::numbers::pi / 2 - e.theta_rad};  // py4DSTEM's θ read as ours
  for (std::int64_t y = 0; y < NY; ++y)
    for (std::int64_t x = 0; x < NX; ++x) {
      double xc, yc;
      ellipse_coords(static_cast<double>(y), static_cast<double>(x), e, xc, yc);
      const double rho = std::hypot(xc, yc);
      if (rho < 4 || rho > 44) continue;
      const auto i = static_cast<std::size_t>(y * NX + x);
      worst = std::max(worst, std::abs(bg[i] - profile_at(rho)) / tolerance(rho - 1));  // bins near ρ
      ellipse_coords(static_cast<double>(y), static_cast<double>(x), swapped, xc, yc);
      worst_swapped = std::max(worst_swapped, std::abs(bg[i] - profile_at(std::hypot(xc, yc))));
    }
  EXPECT_LT(worst, 1.0);
  EXPECT_GT(worst_swapped, 2.0);
}

TEST(RadialBackground, SubtractClipsAtZeroAndPlanFollowsTheOrigin) {
  PolarOptions bins;
  bins.qstep_px = 1.5;
  bins.n_annular = 90;
  const RadialBackground rb(NY, NX, Ellipse{21.0, 20.0, 0.4}, bins);
  std::vector<double> f = radial_frame(std::nullopt);
  for (std::size_t i = 0; i < f.size(); i += 7) f[i] += 50 * std::sin(static_cast<double>(i));  // structure
  RadialBackground::Workspace ws, fresh;
  std::vector<double> bg(f.size()), other(f.size()), again(f.size()), ref(f.size());
  rb.background(f.data(), OY, OX, bg, ws);
  rb.background(f.data(), OY + 0.7, OX - 1.2, other, ws);  // the plan is rebuilt for the new origin
  rb.background(f.data(), OY, OX, again, ws);
  rb.background(f.data(), OY + 0.7, OX - 1.2, ref, fresh);
  EXPECT_EQ(bg, again);
  EXPECT_EQ(other, ref);
  EXPECT_NE(bg, other);
  std::vector<double> sub = f;
  rb.subtract(sub.data(), OY, OX, ws);
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    EXPECT_EQ(sub[i], std::max(f[i] - bg[i], 0.0)) << i;
    zeros += sub[i] == 0;
  }
  EXPECT_GT(zeros, f.size() / 10);  // about half the pixels of a smooth pattern lie below the median
}

TEST(RadialBackground, DiskFinderSubtractsItFirst) {
  std::vector<double> f = radial_frame(std::nullopt);
  for (int k = 0; k < 6; ++k) {  // six bright disks on the rings
    const double cy = OY + 25 * std::sin(k * std::numbers::pi / 3), cx = OX + 25 * std::cos(k * std::numbers::pi / 3);
    for (std::int64_t y = 0; y < NY; ++y)
      for (std::int64_t x = 0; x < NX; ++x)
        f[static_cast<std::size_t>(y * NX + x)] +=
            400 * std::exp(-(std::pow(static_cast<double>(y) - cy, 2) + std::pow(static_cast<double>(x) - cx, 2)) / 8);
  }
  DiskDetectionOptions o;
  o.subpixel = Subpixel::poly;
  o.min_peak_spacing = 8;
  o.edge_boundary = 4;
  o.radial_background = true;
  o.radial_polar.n_annular = 120;
  const Ellipse e{20.5, 20.0, 0.3};
  DiskFinder with(Array(), NY, NX, o, e);
  o.radial_background = false;
  DiskFinder without(Array(), NY, NX, o);
  auto ws1 = with.make_workspace(), ws2 = without.make_workspace();
  std::vector<BraggPeak> a, b;
  with.find(f.data(), *ws1, a, OY, OX);
  PolarOptions bins;
  bins.n_annular = 120;
  const RadialBackground rb(NY, NX, e, bins);
  RadialBackground::Workspace ws;
  std::vector<double> g = f;
  rb.subtract(g.data(), OY, OX, ws);
  without.find(g.data(), *ws2, b);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GE(a.size(), 6u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].qx, b[i].qx);
    EXPECT_EQ(a[i].qy, b[i].qy);
    EXPECT_EQ(a[i].intensity, b[i].intensity);
  }
  DiskDetectionOptions single;
  single.radial_background = true;
  EXPECT_THROW(find_bragg_disks(Array(DType::f64, {NY, NX}), Array(), single), InvalidArgument);
}

// Over a scan with an origin map and an ellipse: every position's peaks are those of DiskFinder
// on its frame with its own origin (so the per-thread plan follows the origin), for any thread count.
TEST(RadialBackground, DiskDetectionUsesEachPositionsOrigin) {
  sim::CrystalScanParams p;
  p.scan_y = 3;
  p.scan_x = 4;
  p.frame_y = p.frame_x = 64;
  p.dtype = DType::f32;
  p.g1_px = {13.3, 2.1};
  p.g2_px = {-3.2, 12.7};
  p.max_g_px = 30;
  p.disk_radius_px = 3;
  p.ring_intensity = 20;
  const double oy = 31.2, ox = 32.7;
  p.origin_qy_px = oy;
  p.origin_qx_px = ox;
  p.descan_per_rx_px = {0.31, -0.12};
  p.descan_per_ry_px = {0.07, 0.24};
  p.noise = sim::Noise::poisson;
  auto sim_source = std::make_shared<sim::SimulatedSource>(p);
  Calibration cal = sim_source->info().calibration;
  cal.origin_qy_map = Array(DType::f64, {p.scan_y, p.scan_x});
  cal.origin_qx_map = Array(DType::f64, {p.scan_y, p.scan_x});
  for (std::int64_t k = 0; k < p.scan_y * p.scan_x; ++k) {
    const double ry = static_cast<double>(k / p.scan_x), rx = static_cast<double>(k % p.scan_x);
    cal.origin_qy_map.data<double>()[k] = oy + 0.24 * ry - 0.12 * rx;  // the descan above: (qx, qy) per step
    cal.origin_qx_map.data<double>()[k] = ox + 0.07 * ry + 0.31 * rx;
  }
  cal.ellipse = Ellipse{20.6, 20.0, 0.5};
  io::CalibratedSource src(sim_source, cal);

  DiskDetectionOptions o;
  o.subpixel = Subpixel::poly;
  o.min_peak_spacing = 6;
  o.edge_boundary = 3;
  o.radial_background = true;
  o.radial_polar.qstep_px = 0.8;
  auto run = [&](int threads) {
    DiskDetection d(Array(), o);
    engine::Analysis* list[] = {&d};
    engine::RunOptions ro;
    ro.threads = threads;
    engine::run(src, list, ro);
    return d.vectors();
  };
  const BraggVectors three = run(3), one = run(1);
  DiskFinder finder(Array(), p.frame_y, p.frame_x, o, cal.ellipse);
  auto ws = finder.make_workspace();
  std::vector<float> raw(static_cast<std::size_t>(p.frame_y * p.frame_x));
  std::vector<double> frame(raw.size());
  std::vector<BraggPeak> expected;
  std::size_t total = 0;
  for (std::int64_t k = 0; k < p.scan_y * p.scan_x; ++k) {
    src.read(k, 1, reinterpret_cast<std::byte*>(raw.data()));
    std::copy(raw.begin(), raw.end(), frame.begin());
    finder.find(frame.data(), *ws, expected, cal.origin_qy_map.data<double>()[k], cal.origin_qx_map.data<double>()[k]);
    ASSERT_EQ(one.at(k).size(), expected.size()) << "position " << k;
    ASSERT_EQ(three.at(k).size(), expected.size()) << "position " << k;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(one.at(k)[i].qx, expected[i].qx);
      EXPECT_EQ(one.at(k)[i].qy, expected[i].qy);
      EXPECT_EQ(three.at(k)[i].qx, expected[i].qx);
      EXPECT_EQ(three.at(k)[i].intensity, expected[i].intensity);
    }
    total += expected.size();
  }
  EXPECT_GT(total, 12u * 5);
}

TEST(RadialBackground, MalformedParametersAreNamed) {
  auto message = [](auto&& make) -> std::string {
    try {
      make();
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no exception";
  };
  PolarOptions p;
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, p, -1.0); }).find("sigma -1"), std::string::npos);
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, p, std::nan("")); }).find("sigma"), std::string::npos);
  EXPECT_NE(message([&] { RadialBackground(0, NX, std::nullopt, p); }).find("frame 0x100"), std::string::npos);
  EXPECT_NE(message([&] { RadialBackground(NY, NX, Ellipse{0.0, 20.0, 0.0}, p); }).find("ellipse"), std::string::npos);
  PolarOptions one_bin;
  one_bin.qmin_px = 10;
  one_bin.qmax_px = 10.5;
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, one_bin); }).find("give 1 radial bins"),
            std::string::npos);
  PolarOptions beyond;
  beyond.qmin_px = 80;  // beyond the default qmax of 67.9 px
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, beyond); }).find("at least 2"), std::string::npos);
  PolarOptions huge;
  huge.qmax_px = 1e9;
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, huge); }).find("too many"), std::string::npos);
  PolarOptions step;
  step.qstep_px = 0;
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, step); }).find("qstep"), std::string::npos);
  PolarOptions annular;
  annular.n_annular = 1;
  EXPECT_NE(message([&] { RadialBackground(NY, NX, std::nullopt, annular); }).find("n_annular"), std::string::npos);

  const RadialBackground rb(NY, NX, std::nullopt, p);
  RadialBackground::Workspace ws;
  std::vector<double> f(static_cast<std::size_t>(NY * NX), 1.0), bg(10);
  EXPECT_NE(message([&] { rb.subtract(f.data(), std::numeric_limits<double>::infinity(), OX, ws); }).find("origin"),
            std::string::npos);
  EXPECT_NE(message([&] { rb.background(f.data(), OY, OX, bg, ws); }).find("output of 10 values"), std::string::npos);

  DiskDetectionOptions o;
  o.radial_background = true;
  o.radial_polar.qstep_px = -1;
  EXPECT_NE(message([&] { validate(o, NY, NX); }).find("qstep"), std::string::npos);
}
