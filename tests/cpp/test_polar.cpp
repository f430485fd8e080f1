// Polar transform, azimuthal statistics (FEM), ellipse fit from a ring and the reciprocal pixel
// size from calibrant rings, on simulated gold ring patterns with known ellipse and pixel size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/calibrant.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/sim/ring_pattern.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/ellipse_fit.hpp"
#include "scandiff/stem/pixel_size.hpp"
#include "scandiff/stem/polar_statistics.hpp"
#include "scandiff/stem/polar_transform.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"

using namespace scandiff;
using namespace scandiff::stem;

namespace {

constexpr double deg = std::numbers::pi / 180;

sim::RingPatternParams gold(double ratio, double theta_deg, double pixel_size = 0.008) {
  sim::RingPatternParams p;
  p.frame_y = 256;
  p.frame_x = 256;
  p.dtype = DType::f32;
  p.pixel_size_inv_A = pixel_size;
  p.ring_width_px = 1.5;
  p.ring_intensity = 1000;
  p.background = 5;
  p.origin_qy_px = 127.3;
  p.origin_qx_px = 128.6;
  p.ellipse = {ratio, theta_deg * deg};
  return p;
}

Array mean_pattern(const sim::RingPatternParams& p) {
  sim::SimulatedSource src(p);
  VirtualDiffraction vd;
  engine::Analysis* list[] = {&vd};
  engine::run(src, list);
  return vd.mean();
}

double angle_diff(double a, double b) {  // axis angles, modulo π
  double d = std::fmod(a - b, std::numbers::pi);
  if (d > std::numbers::pi / 2) d -= std::numbers::pi;
  if (d < -std::numbers::pi / 2) d += std::numbers::pi;
  return d;
}

}  // namespace

TEST(PolarTransform, ConstantImageHasFlatProfileAndZeroVariance) {
  std::vector<double> frame(64 * 80, 7.0);
  const PolarTransform t(64, 80, 31.5, 40.2, Ellipse{12, 10, 0.3}, PolarOptions{});
  EXPECT_EQ(t.n_radial(), static_cast<std::int64_t>(std::ceil(64 / std::numbers::sqrt2)));
  std::vector<double> mean(static_cast<std::size_t>(t.n_radial())), var(mean.size()), scratch;
  t.azimuthal_mean_var(frame.data(), mean, var, scratch);
  for (std::size_t j = 0; j < 30; ++j) {
    EXPECT_NEAR(mean[j], 7.0, 1e-12) << j;
    EXPECT_NEAR(var[j], 0.0, 1e-20) << j;
  }
}

TEST(PolarTransform, AngleFollowsQxTowardQy) {
  // One bright pixel on +qy (below the origin) lands at φ = 90°.
  std::vector<double> frame(41 * 41, 0.0);
  frame[(20 + 10) * 41 + 20] = 1;
  PolarOptions o;
  o.angular_smoothing = false;
  const PolarTransform t(41, 41, 20, 20, std::nullopt, o);
  std::vector<double> out(static_cast<std::size_t>(t.n_annular() * t.n_radial())), scratch;
  t.apply(frame.data(), out, scratch);
  std::size_t best = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (std::isfinite(out[i]) && (!std::isfinite(out[best]) || out[i] > out[best])) best = i;
  EXPECT_EQ(best / static_cast<std::size_t>(t.n_radial()), 45u);  // 90° / 2°
  EXPECT_EQ(best % static_cast<std::size_t>(t.n_radial()), 10u);
}

TEST(PolarTransform, BadOptionsAreInvalidArguments) {
  PolarOptions o;
  o.qstep_px = 0;
  EXPECT_THROW(PolarTransform(10, 10, 5, 5, std::nullopt, o), InvalidArgument);
  o = {};
  o.n_annular = 1;
  EXPECT_THROW(PolarTransform(10, 10, 5, 5, std::nullopt, o), InvalidArgument);
  EXPECT_THROW(PolarTransform(10, 10, 5, 5, Ellipse{0, 1, 0}, PolarOptions{}), InvalidArgument);
  Array mask(DType::u8, {9, 10});
  EXPECT_THROW(PolarTransform(10, 10, 5, 5, std::nullopt, PolarOptions{}, &mask), InvalidArgument);
}

TEST(EllipseFit, ImplicitRoundTrip) {
  for (double th : {-80.0, -30.0, 0.0, 15.0, 89.0}) {
    const Ellipse e{50, 45, th * deg};
    double A, B, C;
    ellipse_to_implicit(e, A, B, C);
    const Ellipse back = implicit_to_ellipse(A, B, C);
    EXPECT_NEAR(back.a_px, 50, 1e-9);
    EXPECT_NEAR(back.b_px, 45, 1e-9);
    EXPECT_NEAR(angle_diff(back.theta_rad, e.theta_rad), 0, 1e-9) << th;
  }
}

TEST(EllipseFit, SimulatedGoldRingWithinTolerance) {
  for (const auto& [ratio, theta] : std::vector<std::pair<double, double>>{{1.05, 30}, {1.03, -62}, {1.02, 100}}) {
    auto p = gold(ratio, theta);
    p.noise = sim::Noise::poisson;
    p.scan_y = 2;
    p.scan_x = 2;
    const Array mean = mean_pattern(p);
    const sim::RingPattern truth(p);
    const double R220 = truth.ring_radius_px(2);  // ≈ 86.7 px
    EllipseFitOptions o;
    o.center_qy_px = 127;  // a rough centre
    o.center_qx_px = 129;
    o.r_inner_px = R220 - 6;
    o.r_outer_px = R220 * ratio + 6;
    const EllipseFitResult fit = fit_ellipse_ring(mean, o);
    EXPECT_NEAR(fit.ellipse.b_px / R220, 1, 0.002) << ratio << " " << theta;
    EXPECT_NEAR(fit.ellipse.a_px / (ratio * R220), 1, 0.002) << ratio << " " << theta;
    EXPECT_NEAR(angle_diff(fit.ellipse.theta_rad, theta * deg) / deg, 0, 0.1) << ratio << " " << theta;
    EXPECT_NEAR(fit.center_qy_px, 127.3, 0.05);
    EXPECT_NEAR(fit.center_qx_px, 128.6, 0.05);
  }
}

TEST(PixelSize, GoldRingsGiveThePixelSize) {
  for (double s : {0.008, 0.0065, 0.0095}) {
    auto p = gold(1.04, 25, s);
    const Array mean = mean_pattern(p);
    // Polar mean profile of the mean pattern with the true ellipse (ratio and angle).
    Calibration cal;
    cal.origin_qy_px = 127.3;
    cal.origin_qx_px = 128.6;
    cal.ellipse = Ellipse{1.04, 1, 25 * deg};
    io::MemorySource src(Array::borrow(mean.bytes(), DType::f64, {1, 1, 256, 256}), cal);
    PolarStatistics ps;
    engine::Analysis* list[] = {&ps};
    engine::run(src, list);
    const auto peaks = find_ring_peaks(ps.radial_mean(), ps.qmin_px(), ps.qstep_px());
    ASSERT_GE(peaks.size(), 3u);
    std::vector<double> d;
    for (const auto& r : sim::gold_d_spacings()) d.push_back(r.d_A);
    const PixelSizeResult fit = fit_pixel_size(peaks, d);
    EXPECT_NEAR(fit.inv_A_per_px / s, 1, 0.002) << s;
    EXPECT_GE(fit.matches.size(), 3u);
    EXPECT_EQ(fit.matches.front().ring, 0);  // (111)
  }
}

TEST(PolarStatistics, PerPositionOriginAndThreadInvariance) {
  auto p = gold(1.0, 0);
  p.scan_y = 3;
  p.scan_x = 4;
  p.noise = sim::Noise::poisson;
  sim::SimulatedSource src(p);
  std::vector<Array> means;
  for (int threads : {1, 2}) {
    PolarStatistics ps;
    engine::Analysis* list[] = {&ps};
    engine::RunOptions ro;
    ro.threads = threads;
    ro.block_frames = 1;
    engine::run(src, list, ro);
    means.push_back(ps.azimuthal_mean());
    // radial_var across positions is the variance of the per-position means.
    const auto& m = ps.azimuthal_mean();
    const std::int64_t q = 86;
    double mu = 0, v = 0;
    for (std::int64_t i = 0; i < 12; ++i) mu += m.data<double>()[i * ps.n_q() + q] / 12;
    for (std::int64_t i = 0; i < 12; ++i) v += std::pow(m.data<double>()[i * ps.n_q() + q] - mu, 2) / 12;
    EXPECT_NEAR(ps.radial_mean()[q], mu, 1e-9 * mu);
    EXPECT_NEAR(ps.radial_var()[q], v, 1e-9 * v + 1e-12);
    EXPECT_NEAR(ps.radial_var_norm()[q], v / (mu * mu), 1e-9);
  }
  EXPECT_EQ(std::memcmp(means[0].bytes(), means[1].bytes(), means[0].nbytes()), 0);

  // Per-position origin maps equal to the global origin give the same profiles.
  Calibration cal = src.info().calibration;
  cal.origin_qy_map = Array(DType::f64, {3, 4});
  cal.origin_qx_map = Array(DType::f64, {3, 4});
  for (int i = 0; i < 12; ++i) {
    cal.origin_qy_map.data<double>()[i] = *cal.origin_qy_px;
    cal.origin_qx_map.data<double>()[i] = *cal.origin_qx_px;
  }
  sim::SimulatedSource src2(p);
  Array frames(src2.info().dtype, {12, 256, 256});
  src2.read(0, 12, frames.bytes());
  io::MemorySource mem(frames, 3, 4, cal);
  PolarStatistics ps;
  engine::Analysis* list[] = {&ps};
  engine::run(mem, list);
  for (std::int64_t i = 0; i < means[0].size(); ++i) {
    const double a = means[0].data<double>()[i], b = ps.azimuthal_mean().data<double>()[i];
    if (std::isnan(a))
      EXPECT_TRUE(std::isnan(b));
    else
      EXPECT_NEAR(a, b, 1e-9 * std::abs(a) + 1e-12);
  }
}

TEST(Calibrant, ParsesDFiles) {
  const io::Calibrant c = io::parse_calibrant("# Calibrant: Gold (Au)\n# cell\n2.35454987 # (1, 1, 1) 8\n"
                                              "2.03910000 # (2, 0, 0) 6\n\n1.3577 # (4, 0, 0) 6   Weak\n",
                                              "au.D");
  EXPECT_EQ(c.name, "Gold (Au)");
  ASSERT_EQ(c.rings.size(), 3u);
  EXPECT_DOUBLE_EQ(c.rings[1].d_A, 2.0391);
  EXPECT_EQ(c.rings[0].comment, "(1, 1, 1) 8");
  EXPECT_THROW(io::parse_calibrant("# nothing\n", "x.D"), FormatError);
  EXPECT_THROW(io::parse_calibrant("abc # (1,1,1)\n", "x.D"), FormatError);
  EXPECT_THROW(io::parse_calibrant("-1.0\n", "x.D"), FormatError);
}
