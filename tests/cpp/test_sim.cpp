// Tests of the synthetic-data generators: reproducibility, geometry against ground truth
// (origin, drift, strain, ellipse, powder rings), Poisson statistics, clipping, validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "scandiff/core/error.hpp"
#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/ring_pattern.hpp"
#include "scandiff/sim/simulated_source.hpp"

using namespace scandiff;
using namespace scandiff::sim;

namespace {

std::vector<std::byte> render_bytes(const FrameGenerator& gen, std::int64_t first, std::int64_t count) {
  std::vector<std::byte> out(gen.info().frame_bytes() * static_cast<std::size_t>(count));
  gen.render(first, count, out.data());
  return out;
}

// One frame as doubles, whatever the dtype.
std::vector<double> frame_values(const FrameGenerator& gen, std::int64_t f) {
  const auto info = gen.info();
  const auto bytes = render_bytes(gen, f, 1);
  std::vector<double> v(static_cast<std::size_t>(info.frame_pixels()));
  visit_dtype(info.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = reinterpret_cast<const T*>(bytes.data());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

struct Frame {
  std::vector<double> v;
  std::int64_t fy = 0, fx = 0;
  double at(std::int64_t i, std::int64_t j) const { return v[static_cast<std::size_t>(i * fx + j)]; }
  // Bilinear interpolation at (qx, qy) = (x, y); 0 outside.
  double sample(double x, double y) const {
    const double fx0 = std::floor(x), fy0 = std::floor(y);
    const auto j = static_cast<std::int64_t>(fx0), i = static_cast<std::int64_t>(fy0);
    if (i < 0 || j < 0 || i + 1 >= fy || j + 1 >= this->fx) return 0;
    const double tx = x - fx0, ty = y - fy0;
    return (1 - ty) * ((1 - tx) * at(i, j) + tx * at(i, j + 1)) + ty * ((1 - tx) * at(i + 1, j) + tx * at(i + 1, j + 1));
  }
};

Frame frame_of(const FrameGenerator& gen, std::int64_t f) {
  const auto info = gen.info();
  return {frame_values(gen, f), info.frame_y, info.frame_x};
}

// Intensity-weighted centroid (x = qx, y = qy) of the pixels within `radius` of (cx, cy).
Vec2 centroid(const Frame& fr, Vec2 c, double radius) {
  double s = 0, sx = 0, sy = 0;
  for (std::int64_t i = 0; i < fr.fy; ++i)
    for (std::int64_t j = 0; j < fr.fx; ++j) {
      const double dx = static_cast<double>(j) - c.x, dy = static_cast<double>(i) - c.y;
      if (dx * dx + dy * dy > radius * radius) continue;
      const double w = fr.at(i, j);
      s += w;
      sx += w * static_cast<double>(j);
      sy += w * static_cast<double>(i);
    }
  EXPECT_GT(s, 0) << "no intensity near (" << c.x << ", " << c.y << ")";
  return {sx / s, sy / s};
}

Vec2 rounded(Vec2 v) { return {std::round(v.x), std::round(v.y)}; }
Vec2 add(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
Vec2 sub(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
Vec2 neg(Vec2 a) { return {-a.x, -a.y}; }

// Noise-free, float64, no ring or background: disk centroids are the only signal.
CrystalScanParams clean_crystal() {
  CrystalScanParams p;
  p.scan_y = 4;
  p.scan_x = 5;
  p.frame_y = 128;
  p.frame_x = 128;
  p.dtype = DType::f64;
  p.g1_px = {22, 4};
  p.g2_px = {-6, 20};
  p.max_g_px = 50;
  p.disk_radius_px = 5;
  p.central_intensity = 1000;
  p.intensity_sigma_px = 40;
  p.ring_intensity = 0;
  p.background = 0;
  p.noise = Noise::none;
  return p;
}

const Result& find_result(const std::vector<Result>& rs, const std::string& name) {
  for (const auto& r : rs)
    if (r.name == name) return r;
  throw std::runtime_error("no result " + name);
}

double map_at(const Result& r, std::int64_t ry, std::int64_t rx) { return r.data.view<double, 2>()(ry, rx); }

}  // namespace

// ---------------------------------------------------------------------------------------
// Reproducibility

TEST(SimReproducible, SameSeedSameBytesAnyOrderAnyThread) {
  CrystalScanParams p;
  p.scan_y = 5;
  p.scan_x = 6;
  p.frame_y = 64;
  p.frame_x = 72;
  p.g1_px = {15, 2};
  p.g2_px = {-3, 14};
  p.max_g_px = 40;
  p.ring_intensity = 20;
  p.ring_radius_px = 25;
  p.background = 3;
  p.noise = Noise::poisson;
  p.descan_per_rx_px = {0.1, 0.05};
  p.strain.exx.wave = 0.01;
  p.seed = 1234;

  const CrystalScan a(p), b(p);
  const auto all_a = render_bytes(a, 0, 30);
  EXPECT_EQ(all_a, render_bytes(b, 0, 30));

  const std::size_t fb = a.info().frame_bytes();
  const auto block = render_bytes(a, 10, 10);
  std::vector<std::byte> one_by_one(block.size());
  for (std::int64_t f = 19; f >= 10; --f) a.render(f, 1, one_by_one.data() + static_cast<std::size_t>(f - 10) * fb);
  EXPECT_EQ(block, one_by_one);
  EXPECT_EQ(0, std::memcmp(block.data(), all_a.data() + 10 * fb, block.size()));

  // Four threads, interleaved frames.
  std::vector<std::byte> threaded(all_a.size());
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      for (std::int64_t f = t; f < 30; f += 4) a.render(f, 1, threaded.data() + static_cast<std::size_t>(f) * fb);
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(all_a, threaded);

  // Noise differs from frame to frame, and another seed gives other bytes.
  EXPECT_NE(0, std::memcmp(all_a.data(), all_a.data() + fb, fb));
  p.seed = 1235;
  EXPECT_NE(all_a, render_bytes(CrystalScan(p), 0, 30));
}

TEST(SimReproducible, RingPatternSeeded) {
  RingPatternParams p;
  p.scan_y = 2;
  p.scan_x = 3;
  p.frame_y = 96;
  p.frame_x = 96;
  p.pixel_size_inv_A = 0.02;
  p.noise = Noise::poisson;
  p.background = 2;
  p.seed = 7;
  const RingPattern a(p);
  const auto bytes = render_bytes(a, 0, 6);
  EXPECT_EQ(bytes, render_bytes(RingPattern(p), 0, 6));
  const std::size_t fb = a.info().frame_bytes();
  EXPECT_EQ(0, std::memcmp(render_bytes(a, 4, 1).data(), bytes.data() + 4 * fb, fb));
  p.seed = 8;
  EXPECT_NE(bytes, render_bytes(RingPattern(p), 0, 6));
}

// ---------------------------------------------------------------------------------------
// Geometry

TEST(SimGeometry, CentralDiskAndFirstReflectionCentroids) {
  // Several sub-pixel origins, so the check does not rely on a lucky pixel phase.
  const double origins[][2] = {{63.5, 63.5}, {63.37, 64.81}, {60.02, 66.49}, {65.75, 61.2}};
  for (const auto& o : origins) {
    auto p = clean_crystal();
    p.origin_qy_px = o[0];
    p.origin_qx_px = o[1];
    const CrystalScan sim(p);
    const Frame fr = frame_of(sim, 0);
    const Vec2 origin{o[1], o[0]};
    const Vec2 c0 = centroid(fr, rounded(origin), p.disk_radius_px + 2);
    EXPECT_NEAR(c0.x, origin.x, 0.01);
    EXPECT_NEAR(c0.y, origin.y, 0.01);
    const Vec2 expect_g1 = add(origin, p.g1_px);
    const Vec2 c1 = centroid(fr, rounded(expect_g1), p.disk_radius_px + 2);
    EXPECT_NEAR(c1.x, expect_g1.x, 0.05);
    EXPECT_NEAR(c1.y, expect_g1.y, 0.05);
  }
}

TEST(SimGeometry, DiskIntensityAndFalloff) {
  auto p = clean_crystal();
  p.origin_qy_px = 64;
  p.origin_qx_px = 64;
  const CrystalScan sim(p);
  const Frame fr = frame_of(sim, 0);
  EXPECT_DOUBLE_EQ(fr.at(64, 64), 1000);            // inside the central disk
  EXPECT_DOUBLE_EQ(fr.at(64, 64 + 5), 500);         // on the rim: half covered
  EXPECT_DOUBLE_EQ(fr.at(64, 64 + 6), 0);           // outside
  const double g1 = std::hypot(22.0, 4.0);
  EXPECT_NEAR(fr.at(64 + 4, 64 + 22), 1000 * std::exp(-g1 * g1 / (2 * 40.0 * 40.0)), 1e-9);
  // The disk's total intensity is its area (pi R^2) times the per-pixel intensity
  double total = 0;
  for (std::int64_t i = 56; i <= 72; ++i)
    for (std::int64_t j = 56; j <= 72; ++j) total += fr.at(i, j);
  // (plus about pi/12 from the edge curvature within a pixel).
  EXPECT_NEAR(total / 1000, std::numbers::pi * 25 + std::numbers::pi / 12, 0.1);
}

TEST(SimGeometry, DisksCrossingTheFrameEdgeAreClipped) {
  for (const double ratio : {1.0, 2.0}) {
    auto p = clean_crystal();
    p.frame_y = 80;
    p.frame_x = 70;
    p.origin_qy_px = 1.5;
    p.origin_qx_px = -2.2;  // the central disk is cut by the left edge
    p.max_g_px = 200;
    p.disk_radius_px = 6;
    p.ellipse = {ratio, 0.7};
    const CrystalScan sim(p);
    const Frame fr = frame_of(sim, 0);
    EXPECT_DOUBLE_EQ(fr.at(1, 0), 1000);  // inside the cut central disk
    // A disk inside the frame is drawn at its (distorted) position.
    const Vec2 c = add({-2.2, 1.5}, distort(p.ellipse, add(p.g1_px, p.g2_px)));
    ASSERT_TRUE(c.x > 0 && c.x < 69 && c.y > 0 && c.y < 79);
    EXPECT_GT(fr.at(static_cast<std::int64_t>(std::round(c.y)), static_cast<std::int64_t>(std::round(c.x))), 0);
  }
}

TEST(SimGeometry, DriftFollowsGroundTruthOrigin) {
  auto p = clean_crystal();
  p.scan_y = 5;
  p.scan_x = 7;
  p.origin_qy_px = 62.3;
  p.origin_qx_px = 65.1;
  p.descan_per_ry_px = {0.31, -0.22};  // (qx, qy) per ry step
  p.descan_per_rx_px = {0.17, 0.26};   // (qx, qy) per rx step
  const CrystalScan sim(p);
  const auto truth = sim.ground_truth();
  const Result& oy = find_result(truth, "origin_qy");
  const Result& ox = find_result(truth, "origin_qx");
  ASSERT_EQ(oy.data.shape(), (Shape{5, 7}));
  EXPECT_EQ(oy.axes.at(0).name, "ry");
  EXPECT_EQ(oy.axes.at(1).name, "rx");
  EXPECT_DOUBLE_EQ(map_at(oy, 0, 0), 62.3);
  EXPECT_DOUBLE_EQ(map_at(ox, 4, 6), 65.1 + 4 * 0.31 + 6 * 0.17);
  EXPECT_DOUBLE_EQ(map_at(oy, 4, 6), 62.3 - 4 * 0.22 + 6 * 0.26);
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      const Frame fr = frame_of(sim, ry * p.scan_x + rx);
      const Vec2 truth_o{map_at(ox, ry, rx), map_at(oy, ry, rx)};
      const Vec2 c = centroid(fr, rounded(truth_o), p.disk_radius_px + 2);
      EXPECT_NEAR(c.x, truth_o.x, 0.01) << "at (" << ry << ", " << rx << ")";
      EXPECT_NEAR(c.y, truth_o.y, 0.01) << "at (" << ry << ", " << rx << ")";
    }
}

// ---------------------------------------------------------------------------------------
// Strain: fit beta from measured disk positions and compare with the ground-truth maps.

namespace {

struct Beta {
  double b00, b01, b10, b11;
};

// Least squares for beta in m_i = beta·g_i over all pairs: beta = (Σ m gᵀ)(Σ g gᵀ)^-1.
Beta fit_beta(const std::vector<Vec2>& g, const std::vector<Vec2>& m) {
  double mg00 = 0, mg01 = 0, mg10 = 0, mg11 = 0, gg00 = 0, gg01 = 0, gg11 = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    mg00 += m[i].x * g[i].x;
    mg01 += m[i].x * g[i].y;
    mg10 += m[i].y * g[i].x;
    mg11 += m[i].y * g[i].y;
    gg00 += g[i].x * g[i].x;
    gg01 += g[i].x * g[i].y;
    gg11 += g[i].y * g[i].y;
  }
  const double det = gg00 * gg11 - gg01 * gg01;
  const double i00 = gg11 / det, i01 = -gg01 / det, i11 = gg00 / det;
  return {mg00 * i00 + mg01 * i01, mg00 * i01 + mg01 * i11, mg10 * i00 + mg11 * i01, mg10 * i01 + mg11 * i11};
}

CrystalScanParams strained_crystal() {
  auto p = clean_crystal();
  p.scan_y = 6;
  p.scan_x = 6;
  p.frame_y = 160;
  p.frame_x = 160;
  p.g1_px = {30, 5};
  p.g2_px = {-8, 28};
  p.max_g_px = 45;
  p.origin_qy_px = 79.6;
  p.origin_qx_px = 80.3;
  p.descan_per_rx_px = {0.2, -0.1};
  p.strain.exx = {0.01, 0.02, 0};
  p.strain.eyy = {0, 0, 0.015};
  p.strain.exy = {0.002, -0.01, 0};
  p.strain.rotation_rad = {0.005, 0, 0.01};
  p.strain.wave_cycles_rx = 1;
  p.strain.wave_cycles_ry = 0.5;
  return p;
}

// Measures the strain at (ry, rx) from the centroids of the central disk and ±g1, ±g2,
// each first corrected for the ellipse, and compares with the ground truth.
void check_strain_recovery(const CrystalScan& sim) {
  const auto& p = sim.params();
  const auto truth = sim.ground_truth();
  const double window = p.disk_radius_px * p.ellipse.ratio + 3;
  const std::int64_t positions[][2] = {{0, 0}, {2, 3}, {5, 5}, {3, 1}, {4, 2}};
  double worst = 0;
  for (const auto& pos : positions) {
    const std::int64_t ry = pos[0], rx = pos[1];
    const Frame fr = frame_of(sim, ry * p.scan_x + rx);
    const Vec2 o_guess{map_at(find_result(truth, "origin_qx"), ry, rx), map_at(find_result(truth, "origin_qy"), ry, rx)};
    const Vec2 o = centroid(fr, rounded(o_guess), window);
    std::vector<Vec2> gs, ms;
    for (const Vec2 g : {p.g1_px, neg(p.g1_px), p.g2_px, neg(p.g2_px)}) {
      // Search around the unstrained, distorted position; the strain moves disks < 1.5 px.
      const Vec2 guess = add(o, distort(p.ellipse, g));
      const Vec2 c = centroid(fr, rounded(guess), window);
      gs.push_back(g);
      ms.push_back(correct(p.ellipse, sub(c, o)));
    }
    const Beta b = fit_beta(gs, ms);
    const double exx = 1 - b.b00, eyy = 1 - b.b11, exy = -(b.b01 + b.b10) / 2, rot = (b.b01 - b.b10) / 2;
    const double want[] = {map_at(find_result(truth, "exx"), ry, rx), map_at(find_result(truth, "eyy"), ry, rx),
                           map_at(find_result(truth, "exy"), ry, rx), map_at(find_result(truth, "rotation"), ry, rx)};
    const double got[] = {exx, eyy, exy, rot};
    const char* names[] = {"exx", "eyy", "exy", "rotation"};
    for (int k = 0; k < 4; ++k) {
      EXPECT_NEAR(got[k], want[k], 1e-3) << names[k] << " at (" << ry << ", " << rx << ")";
      worst = std::max(worst, std::fabs(got[k] - want[k]));
    }
  }
  // The field must actually vary, or the test proves little.
  const Result& exx = find_result(truth, "exx");
  EXPECT_GT(std::fabs(map_at(exx, 0, 0) - map_at(exx, 3, 3)), 0.005);
  ::testing::Test::RecordProperty("worst_strain_error", std::to_string(worst));
}

}  // namespace

TEST(SimStrain, FitOfDiskPositionsRecoversGroundTruth) {
  const CrystalScan sim(strained_crystal());
  check_strain_recovery(sim);
}

TEST(SimStrain, RecoveredAfterEllipseCorrection) {
  auto p = strained_crystal();
  p.ellipse = {1.08, 0.4};
  const CrystalScan sim(p);
  check_strain_recovery(sim);
}

TEST(SimStrain, DeformMatchesBetaConvention) {
  const Strain e{0.01, -0.02, 0.005, 0.003};
  const Vec2 g{10, 3};
  const Vec2 d = deform(e, g);
  EXPECT_DOUBLE_EQ(d.x, (1 - 0.01) * 10 + (-0.005 + 0.003) * 3);
  EXPECT_DOUBLE_EQ(d.y, (-0.005 - 0.003) * 10 + (1 + 0.02) * 3);
}

// ---------------------------------------------------------------------------------------
// Ellipse

TEST(SimEllipse, DistortAndCorrectAreInverse) {
  const EllipseDistortion e{1.1, std::numbers::pi / 6};
  const Vec2 a_axis{std::cos(e.theta_rad), std::sin(e.theta_rad)};
  const Vec2 b_axis{-std::sin(e.theta_rad), std::cos(e.theta_rad)};
  const Vec2 da = distort(e, a_axis), db = distort(e, b_axis);
  EXPECT_NEAR(da.x, 1.1 * a_axis.x, 1e-12);
  EXPECT_NEAR(da.y, 1.1 * a_axis.y, 1e-12);
  EXPECT_NEAR(db.x, b_axis.x, 1e-12);
  EXPECT_NEAR(db.y, b_axis.y, 1e-12);
  const Vec2 v{3.7, -1.2};
  const Vec2 back = correct(e, distort(e, v));
  EXPECT_NEAR(back.x, v.x, 1e-12);
  EXPECT_NEAR(back.y, v.y, 1e-12);
}

namespace {
// Ring radius along direction `phi` from `o`: a Gaussian (parabola in log intensity) fitted by
// least squares to the pixels within ±0.06 rad of the direction, in [r_min, r_max] px, whose
// intensity above `background` exceeds 10% of the highest there.
double peak_radius_along(const Frame& fr, Vec2 o, double phi, double background, double r_min, double r_max) {
  struct Sample {
    double r, v;
  };
  std::vector<Sample> wedge;
  double top = 0;
  for (std::int64_t i = 0; i < fr.fy; ++i)
    for (std::int64_t j = 0; j < fr.fx; ++j) {
      const double dx = static_cast<double>(j) - o.x, dy = static_cast<double>(i) - o.y;
      const double r = std::hypot(dx, dy);
      const double dphi = std::remainder(std::atan2(dy, dx) - phi, 2 * std::numbers::pi);
      if (r < r_min || r > r_max || std::fabs(dphi) > 0.06) continue;
      wedge.push_back({r, fr.at(i, j) - background});
      top = std::max(top, fr.at(i, j) - background);
    }
  // Normal equations of log v = c0 + c1 r + c2 r², with r centred for conditioning.
  double m[3][4] = {};
  const double rc = 0.5 * (r_min + r_max);
  int used = 0;
  for (const auto& s : wedge) {
    if (s.v < 0.1 * top) continue;
    const double x = s.r - rc, y = std::log(s.v);
    const double basis[3] = {1, x, x * x};
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) m[a][b] += basis[a] * basis[b];
      m[a][3] += basis[a] * y;
    }
    ++used;
  }
  EXPECT_GE(used, 6);
  for (int c = 0; c < 3; ++c)  // Gaussian elimination (the matrix is positive definite)
    for (int r = c + 1; r < 3; ++r) {
      const double f = m[r][c] / m[c][c];
      for (int k = c; k < 4; ++k) m[r][k] -= f * m[c][k];
    }
  const double c2 = m[2][3] / m[2][2];
  const double c1 = (m[1][3] - m[1][2] * c2) / m[1][1];
  return rc - c1 / (2 * c2);
}
}  // namespace

TEST(SimEllipse, RingRatioAlongAxes) {
  for (const double theta_deg : {30.0, -70.0}) {
    RingPatternParams p;
    p.frame_y = 200;
    p.frame_x = 220;
    p.dtype = DType::f64;
    p.pixel_size_inv_A = 0.01;
    p.rings = {{1 / (60 * 0.01), 1.0, "R60"}};  // ideal radius 60 px
    p.ring_width_px = 1.5;
    p.ring_intensity = 500;
    p.background = 2;
    p.origin_qy_px = 98.3;
    p.origin_qx_px = 111.6;
    p.ellipse = {1.1, theta_deg * std::numbers::pi / 180};
    const RingPattern sim(p);
    EXPECT_NEAR(sim.ring_radius_px(0), 60, 1e-9);
    const Frame fr = frame_of(sim, 0);
    const Vec2 o{111.6, 98.3};
    const double th = p.ellipse.theta_rad;
    // Both directions of each axis.
    for (const double sign : {0.0, std::numbers::pi}) {
      const double ra = peak_radius_along(fr, o, th + sign, p.background, 10, 95);
      const double rb = peak_radius_along(fr, o, th + std::numbers::pi / 2 + sign, p.background, 10, 95);
      EXPECT_NEAR(ra / rb, 1.1, 0.011) << "theta " << theta_deg << " deg";
      EXPECT_NEAR(rb, 60, 0.1) << "the ideal radius is the semi-minor axis b";
      EXPECT_NEAR(ra, 66, 0.1);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Gold powder rings

TEST(SimRings, GoldDSpacings) {
  const auto rings = gold_d_spacings();
  ASSERT_EQ(rings.size(), 8u);
  EXPECT_EQ(rings[0].label, "111");
  EXPECT_EQ(rings[7].label, "420");
  EXPECT_NEAR(rings[0].d_A, 4.0782 / std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(rings[0].d_A, 2.3546, 1e-4);
  EXPECT_NEAR(rings[1].d_A, 2.0391, 1e-4);
  EXPECT_NEAR(rings[2].d_A, 1.4419, 1e-4);
  EXPECT_NEAR(rings[7].d_A, 4.0782 / std::sqrt(20.0), 1e-12);
  for (std::size_t i = 1; i < rings.size(); ++i) EXPECT_LT(rings[i].d_A, rings[i - 1].d_A);
  EXPECT_DOUBLE_EQ(rings[0].relative_intensity, 1.0);
}

TEST(SimRings, GoldRingRadiiMatchOneOverDOverPixelSize) {
  RingPatternParams p;  // gold by default
  p.frame_y = 256;
  p.frame_x = 256;
  p.dtype = DType::f64;
  p.pixel_size_inv_A = 0.0095;
  p.ring_width_px = 1.2;
  p.origin_qy_px = 127.4;
  p.origin_qx_px = 129.1;
  const RingPattern sim(p);
  const Frame fr = frame_of(sim, 0);

  // Azimuthal average about the origin in 0.25 px bins.
  const double bin = 0.25;
  const std::size_t nbins = 560;
  std::vector<double> sum(nbins, 0), cnt(nbins, 0);
  for (std::int64_t i = 0; i < fr.fy; ++i)
    for (std::int64_t j = 0; j < fr.fx; ++j) {
      const double r = std::hypot(static_cast<double>(j) - 129.1, static_cast<double>(i) - 127.4);
      const auto b = static_cast<std::size_t>(r / bin);
      if (b >= nbins) continue;
      sum[b] += fr.at(i, j);
      cnt[b] += 1;
    }
  std::vector<double> prof(nbins, 0);
  double top = 0;
  for (std::size_t b = 0; b < nbins; ++b) {
    prof[b] = cnt[b] > 0 ? sum[b] / cnt[b] : 0;
    top = std::max(top, prof[b]);
  }
  // Peaks: maxima over ±2 px above 5% of the highest, parabola-refined, in increasing radius.
  std::vector<double> peaks;
  for (std::size_t b = 8; b + 8 < nbins; ++b) {
    if (prof[b] < 0.05 * top) continue;
    bool is_max = true;
    for (std::size_t k = b - 8; k <= b + 8; ++k)
      if (k != b && prof[k] >= prof[b]) is_max = false;
    if (!is_max) continue;
    const double delta = 0.5 * (prof[b - 1] - prof[b + 1]) / (prof[b - 1] - 2 * prof[b] + prof[b + 1]);
    peaks.push_back((static_cast<double>(b) + 0.5 + delta) * bin);
  }
  ASSERT_GE(peaks.size(), 3u);
  const auto truth = find_result(sim.ground_truth(), "ring_radius_px");
  for (std::size_t r = 0; r < 3; ++r) {
    const double expect = (1 / p.rings[r].d_A) / p.pixel_size_inv_A;
    EXPECT_NEAR(truth.data.data<double>()[r], expect, 1e-9);
    EXPECT_NEAR(peaks[r], expect, 0.5) << "ring " << p.rings[r].label;
  }
}

// ---------------------------------------------------------------------------------------
// Noise and clipping

TEST(SimNoise, PoissonMeanAndVarianceOfUniformBackground) {
  for (const double lambda : {3.7, 250.0}) {  // both sampler branches
    CrystalScanParams p;
    p.scan_y = 1;
    p.scan_x = 4;
    p.frame_y = 128;
    p.frame_x = 128;
    p.dtype = DType::u16;
    p.central_intensity = 0;
    p.ring_intensity = 0;
    p.background = lambda;
    p.noise = Noise::poisson;
    p.seed = 99;
    const CrystalScan sim(p);
    double s = 0, s2 = 0, n = 0;
    for (std::int64_t f = 0; f < 4; ++f)
      for (const double v : frame_values(sim, f)) {
        EXPECT_EQ(v, std::round(v));
        s += v;
        s2 += v * v;
        n += 1;
      }
    const double mean = s / n, var = s2 / n - mean * mean;
    EXPECT_NEAR(mean, lambda, 3 * std::sqrt(lambda / n)) << "lambda " << lambda;
    // The sample variance has a relative standard error of about sqrt(2/n).
    EXPECT_NEAR(var / lambda, 1.0, 5 * std::sqrt(2 / n)) << "lambda " << lambda;
  }
}

TEST(SimNoise, PoissonMeanMatchesNoiseFreeExpectation) {
  auto p = clean_crystal();
  p.scan_y = 4;
  p.scan_x = 4;
  p.frame_y = 96;
  p.frame_x = 96;
  p.central_intensity = 40;
  p.ring_intensity = 6;
  p.ring_radius_px = 30;
  p.background = 1.5;
  p.dose_scale = 0.5;
  const CrystalScan expected(p);
  p.noise = Noise::poisson;
  p.dtype = DType::u32;
  const CrystalScan noisy(p);
  // No drift or strain: every frame has the same expectation.
  const auto lam = frame_values(expected, 0);
  double sum_lam = 0;
  for (const double v : lam) sum_lam += v;
  double sum_counts = 0, sum_disk = 0, sum_disk_lam = 0;
  for (std::int64_t f = 0; f < 16; ++f) {
    const auto v = frame_values(noisy, f);
    for (std::size_t i = 0; i < v.size(); ++i) {
      sum_counts += v[i];
      if (lam[i] > 15) {  // pixels inside disks
        sum_disk += v[i];
        sum_disk_lam += lam[i];
      }
    }
  }
  EXPECT_NEAR(sum_counts, 16 * sum_lam, 3 * std::sqrt(16 * sum_lam));
  EXPECT_NEAR(sum_disk, sum_disk_lam, 3 * std::sqrt(sum_disk_lam));
  EXPECT_GT(sum_disk_lam, 0);
}

TEST(SimNoise, IntegerDtypesClipAtTheirMaximum) {
  for (const auto noise : {Noise::none, Noise::poisson}) {
    auto p = clean_crystal();
    p.scan_y = 1;
    p.scan_x = 1;
    p.origin_qy_px = 64;
    p.origin_qx_px = 64;
    p.background = 3;
    p.noise = noise;
    p.dtype = DType::u8;
    p.central_intensity = 1000;
    {
      const Frame fr = frame_of(CrystalScan(p), 0);
      EXPECT_EQ(fr.at(64, 64), 255);
      EXPECT_EQ(*std::max_element(fr.v.begin(), fr.v.end()), 255);
      EXPECT_LT(fr.at(0, 0), 40);  // background, not clipped
    }
    p.dtype = DType::u16;
    p.central_intensity = 1e6;
    {
      const Frame fr = frame_of(CrystalScan(p), 0);
      EXPECT_EQ(fr.at(64, 64), 65535);
      EXPECT_EQ(*std::max_element(fr.v.begin(), fr.v.end()), 65535);
    }
  }
  // Noise-free integer output is the rounded expectation.
  auto p = clean_crystal();
  p.scan_y = p.scan_x = 1;
  p.central_intensity = 0;
  p.background = 2.6;
  p.dtype = DType::i32;
  EXPECT_EQ(frame_of(CrystalScan(p), 0).at(5, 5), 3);
}

// ---------------------------------------------------------------------------------------
// Source, info, provenance

TEST(SimSource, StreamsFramesAndDescribesThem) {
  auto p = clean_crystal();
  p.dtype = DType::u16;
  p.origin_qy_px = 60.5;
  p.origin_qx_px = 61.25;
  p.descan_per_rx_px = {0.5, 0};
  p.ellipse = {1.05, 0.3};
  p.noise = Noise::poisson;
  p.background = 1;
  auto gen = std::make_shared<const CrystalScan>(p);
  SimulatedSource src(gen);
  const auto& info = src.info();
  EXPECT_EQ(info.format, "simulated");
  EXPECT_EQ(info.shape(), (Shape{4, 5, 128, 128}));
  EXPECT_EQ(info.dtype, DType::u16);
  EXPECT_EQ(info.calibration.detector_units, "pixels");
  EXPECT_DOUBLE_EQ(*info.calibration.origin_qy_px, 60.5);
  EXPECT_DOUBLE_EQ(*info.calibration.origin_qx_px, 61.25);
  ASSERT_TRUE(info.calibration.ellipse.has_value());
  EXPECT_DOUBLE_EQ(info.calibration.ellipse->a_px / info.calibration.ellipse->b_px, 1.05);
  EXPECT_DOUBLE_EQ(info.calibration.ellipse->theta_rad, 0.3);
  EXPECT_EQ(info.metadata.at("simulation").at("generator"), "CrystalScan");
  EXPECT_EQ(info.metadata.at("simulation").at("seed"), 0);

  std::vector<std::byte> buf(info.frame_bytes() * 3);
  src.read(7, 3, buf.data());
  EXPECT_EQ(buf, render_bytes(*gen, 7, 3));
  EXPECT_THROW(src.read(18, 3, buf.data()), InvalidArgument);
  EXPECT_THROW(gen->render(-1, 1, buf.data()), InvalidArgument);

  // No ellipse in the calibration when there is none in the data.
  p.ellipse = {};
  EXPECT_FALSE(SimulatedSource(p).info().calibration.ellipse.has_value());

  RingPatternParams rp;
  rp.frame_y = rp.frame_x = 64;
  rp.pixel_size_inv_A = 0.03;
  SimulatedSource rings(rp);
  EXPECT_EQ(rings.info().format, "simulated");
  EXPECT_EQ(rings.info().calibration.detector_units, "A^-1");
  EXPECT_DOUBLE_EQ(rings.info().calibration.detector_pixel_size, 0.03);
  EXPECT_EQ(rings.info().shape(), (Shape{1, 1, 64, 64}));
  EXPECT_THROW(SimulatedSource(std::shared_ptr<const FrameGenerator>{}), InvalidArgument);
}

TEST(SimSource, GroundTruthCarriesLatticeAndParameters) {
  auto p = clean_crystal();
  p.strain.exx.uniform = 0.01;
  const CrystalScan sim(p);
  const auto truth = sim.ground_truth();
  ASSERT_EQ(truth.size(), 6u);
  for (const auto& r : truth) {
    EXPECT_EQ(r.data.dtype(), DType::f64);
    EXPECT_EQ(r.data.shape(), (Shape{4, 5}));
    EXPECT_DOUBLE_EQ(r.provenance.at("g1_px").at("x").get<double>(), 22);
    EXPECT_DOUBLE_EQ(r.provenance.at("g2_px").at("y").get<double>(), 20);
    EXPECT_EQ(r.provenance.at("parameters").at("disk_radius_px"), 5);
  }
  EXPECT_DOUBLE_EQ(map_at(find_result(truth, "exx"), 2, 3), 0.01);
  EXPECT_EQ(find_result(truth, "rotation").units, "rad");
  // The reflection list: the central beam first, all within max_g_px, Friedel-symmetric.
  const auto& refl = sim.reflections();
  ASSERT_FALSE(refl.empty());
  EXPECT_EQ(refl[0].h, 0);
  EXPECT_EQ(refl[0].k, 0);
  for (const auto& r : refl) {
    EXPECT_LE(std::hypot(r.h * 22.0 - r.k * 6.0, r.h * 4.0 + r.k * 20.0), 50 + 1e-9);
    EXPECT_TRUE(std::any_of(refl.begin(), refl.end(), [&](const Reflection& o) { return o.h == -r.h && o.k == -r.k; }));
  }
}

// ---------------------------------------------------------------------------------------
// Validation

namespace {
template <class Make>
void expect_invalid(Make make, const std::string& needle) {
  try {
    make();
    ADD_FAILURE() << "no exception; expected one naming " << needle;
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(SimValidation, BadParametersAreNamed) {
  auto crystal = [](auto mutate) {
    return [mutate] {
      CrystalScanParams p;
      mutate(p);
      CrystalScan s(p);
    };
  };
  try {
    CrystalScanParams p;
    p.disk_radius_px = -1;
    CrystalScan s(p);
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()), "sim: disk_radius_px must be > 0 (got -1)");
  }
  expect_invalid(crystal([](CrystalScanParams& p) { p.frame_x = 0; }), "frame_x");
  expect_invalid(crystal([](CrystalScanParams& p) { p.scan_y = -3; }), "scan_y");
  expect_invalid(crystal([](CrystalScanParams& p) { p.g2_px = {44, 8}; }), "g1_px and g2_px");
  expect_invalid(crystal([](CrystalScanParams& p) { p.g1_px = {NAN, 1}; }), "g1_px.x");
  expect_invalid(crystal([](CrystalScanParams& p) { p.max_g_px = 1e9; }), "max_g_px");
  expect_invalid(crystal([](CrystalScanParams& p) { p.max_g_px = -1; }), "max_g_px");
  expect_invalid(crystal([](CrystalScanParams& p) { p.ellipse.ratio = 0.9; }), "ellipse.ratio");
  expect_invalid(crystal([](CrystalScanParams& p) { p.ellipse.theta_rad = INFINITY; }), "ellipse.theta_rad");
  expect_invalid(crystal([](CrystalScanParams& p) { p.dose_scale = 0; }), "dose_scale");
  expect_invalid(crystal([](CrystalScanParams& p) { p.ring_width_px = NAN; }), "ring_width_px");
  expect_invalid(crystal([](CrystalScanParams& p) { p.background = -1; }), "background");
  expect_invalid(crystal([](CrystalScanParams& p) { p.central_intensity = -5; }), "central_intensity");
  expect_invalid(crystal([](CrystalScanParams& p) { p.intensity_sigma_px = 0; }), "intensity_sigma_px");
  expect_invalid(crystal([](CrystalScanParams& p) { p.strain.bump_sigma = 0; }), "strain.bump_sigma");
  expect_invalid(crystal([](CrystalScanParams& p) { p.strain.exy.wave = NAN; }), "strain.exy.wave");
  expect_invalid(crystal([](CrystalScanParams& p) { p.origin_qx_px = INFINITY; }), "origin_qx_px");
  expect_invalid(crystal([](CrystalScanParams& p) { p.descan_per_rx_px.y = NAN; }), "descan_per_rx_px.y");
  expect_invalid(crystal([](CrystalScanParams& p) { p.noise = static_cast<Noise>(7); }), "noise");
  // +inf sigma (no falloff) is allowed.
  EXPECT_NO_THROW(crystal([](CrystalScanParams& p) { p.intensity_sigma_px = INFINITY; })());

  auto rings = [](auto mutate) {
    return [mutate] {
      RingPatternParams p;
      p.frame_y = p.frame_x = 32;
      mutate(p);
      RingPattern s(p);
    };
  };
  expect_invalid(rings([](RingPatternParams& p) { p.rings[1].d_A = 0; }), "rings[1].d_A");
  expect_invalid(rings([](RingPatternParams& p) { p.rings[2].relative_intensity = -1; }),
                 "rings[2].relative_intensity");
  expect_invalid(rings([](RingPatternParams& p) { p.pixel_size_inv_A = -0.1; }), "pixel_size_inv_A");
  expect_invalid(rings([](RingPatternParams& p) { p.ring_width_px = 0; }), "ring_width_px");
  expect_invalid(rings([](RingPatternParams& p) { p.ellipse.ratio = 0.5; }), "ellipse.ratio");
  expect_invalid(rings([](RingPatternParams& p) { p.frame_y = 0; }), "frame_y");
  EXPECT_THROW(parse_noise("gaussian"), InvalidArgument);
  EXPECT_EQ(parse_noise("poisson"), Noise::poisson);
}
