// Origin per position (blurred argmax + centre of mass) and surface fits of it, against the
// simulator's exact descan ground truth; least squares and Gaussian blur against scipy values.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <tuple>

#include "scandiff/analysis/gaussian_filter.hpp"
#include "scandiff/analysis/least_squares.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/origin.hpp"
#include "scandiff/stem/origin_fit.hpp"
#include "scandiff/stem/origin_friedel.hpp"
#include "scandiff/analysis/fft.hpp"
#include "stem_test_util.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

sim::CrystalScanParams drifting_scan() {
  sim::CrystalScanParams p = test::disk_scan_96(24, 20);
  p.descan_per_rx_px = {0.06, -0.03};  // (qx, qy) per scan step
  p.descan_per_ry_px = {0.02, 0.05};
  p.strain.exx.bump = 0.02;
  p.noise = sim::Noise::poisson;
  p.seed = 5;
  return p;
}

struct Measured {
  Array qy, qx;
};

Measured measure(io::Source& src, double radius, int threads = 0) {
  stem::OriginMeasurement origin({.radius_px = radius});
  engine::Analysis* list[] = {&origin};
  engine::RunOptions o;
  o.threads = threads;
  engine::run(src, list, o);
  return {origin.origin_qy(), origin.origin_qx()};
}

// RMS over positions of |map − truth| for both components together (px).
double rms_error(const Array& qy, const Array& qx, const sim::CrystalScan& gen) {
  auto y = qy.view<const double, 2>();
  auto x = qx.view<const double, 2>();
  double ss = 0;
  for (std::int64_t ry = 0; ry < qy.shape(0); ++ry)
    for (std::int64_t rx = 0; rx < qy.shape(1); ++rx) {
      const sim::Vec2 t = gen.origin_at(ry, rx);
      ss += (y(ry, rx) - t.y) * (y(ry, rx) - t.y) + (x(ry, rx) - t.x) * (x(ry, rx) - t.x);
    }
  return std::sqrt(ss / static_cast<double>(qy.size()));
}

}  // namespace

TEST(GaussianFilter, MatchesScipy) {
  const auto k = analysis::gaussian_kernel(1.5);
  ASSERT_EQ(k.size(), 13u);  // radius int(4·1.5 + 0.5) = 6
  EXPECT_NEAR(k[6], 0.2659642571610709, 1e-15);
  EXPECT_NEAR(k[0], 8.92210686353923e-05, 1e-18);
  // scipy.ndimage.gaussian_filter(im, 1.5, mode='nearest') on im[i, j] = (7i + 13j) % 17 + 0.25·i·j.
  std::vector<double> im(7 * 9), out(im.size()), scratch;
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 9; ++j) im[static_cast<std::size_t>(i * 9 + j)] = (i * 7 + j * 13) % 17 + 0.25 * i * j;
  analysis::gaussian_blur(im, out, 7, 9, k, scratch);
  EXPECT_NEAR(out[0], 5.672819846406066, 1e-12);
  EXPECT_NEAR(out[3 * 9 + 4], 11.146663711848525, 1e-12);
  EXPECT_NEAR(out[6 * 9 + 8], 18.65763291282551, 1e-12);
  EXPECT_NEAR(out[1 * 9 + 7], 9.630531472153042, 1e-12);
}

TEST(GaussianFilter, SameBitsAsPlainPerPixelSums) {
  // The blocked, padded implementation against the formula summed pixel by pixel (axis 0, then
  // axis 1, each sum from 0 over the taps in order): equal to the last bit, for both boundary
  // modes and for kernels wider than the image.
  auto source = [](std::int64_t i, std::int64_t n, analysis::BlurEdge edge) {
    if (edge == analysis::BlurEdge::nearest) return std::clamp<std::int64_t>(i, 0, n - 1);
    const std::int64_t period = 2 * n;
    const std::int64_t j = ((i % period) + period) % period;
    return j < n ? j : period - 1 - j;
  };
  for (const auto edge : {analysis::BlurEdge::reflect, analysis::BlurEdge::nearest})
    for (const auto& [ny, nx, sigma] : {std::tuple{33, 70, 2.0}, {7, 9, 1.5}, {5, 40, 3.0}, {41, 3, 1.0}}) {
      const auto k = analysis::gaussian_kernel(sigma);
      const auto r = static_cast<std::int64_t>(k.size() / 2);
      std::vector<double> im(static_cast<std::size_t>(ny * nx)), out(im.size()), tmp(im.size()), want(im.size()), scratch;
      for (std::size_t i = 0; i < im.size(); ++i) im[i] = std::sin(0.37 * static_cast<double>(i)) * 100 + static_cast<double>(i % 11);
      analysis::gaussian_blur(im, out, ny, nx, k, scratch, edge);
      for (std::int64_t y = 0; y < ny; ++y)
        for (std::int64_t x = 0; x < nx; ++x) {
          double a = 0;
          for (std::int64_t i = -r; i <= r; ++i) a += k[static_cast<std::size_t>(i + r)] * im[static_cast<std::size_t>(source(y + i, ny, edge) * nx + x)];
          tmp[static_cast<std::size_t>(y * nx + x)] = a;
        }
      for (std::int64_t y = 0; y < ny; ++y)
        for (std::int64_t x = 0; x < nx; ++x) {
          double a = 0;
          for (std::int64_t i = -r; i <= r; ++i) a += k[static_cast<std::size_t>(i + r)] * tmp[static_cast<std::size_t>(y * nx + source(x + i, nx, edge))];
          want[static_cast<std::size_t>(y * nx + x)] = a;
        }
      for (std::size_t i = 0; i < im.size(); ++i) ASSERT_EQ(out[i], want[i]) << ny << "x" << nx << " pixel " << i;
    }
}

TEST(LeastSquares, SolvesOverdeterminedSystemsAndRejectsRankDeficiency) {
  // y = 2 - 3a + 0.5b exactly on 6 points.
  std::vector<double> a, b;
  for (int i = 0; i < 6; ++i) {
    const double u = i * 0.7, v = (i * i) % 5;
    a.insert(a.end(), {1, u, v});
    b.push_back(2 - 3 * u + 0.5 * v);
  }
  const auto x = analysis::least_squares(a, 6, 3, b);
  EXPECT_NEAR(x[0], 2, 1e-12);
  EXPECT_NEAR(x[1], -3, 1e-12);
  EXPECT_NEAR(x[2], 0.5, 1e-12);
  // Residual orthogonality for an inconsistent system: A^T (A x - b) = 0.
  b[2] += 1;
  const auto z = analysis::least_squares(a, 6, 3, b);
  for (int j = 0; j < 3; ++j) {
    double s = 0;
    for (int i = 0; i < 6; ++i)
      s += a[static_cast<std::size_t>(i * 3 + j)] *
           (a[static_cast<std::size_t>(i * 3)] * z[0] + a[static_cast<std::size_t>(i * 3 + 1)] * z[1] +
            a[static_cast<std::size_t>(i * 3 + 2)] * z[2] - b[static_cast<std::size_t>(i)]);
    EXPECT_NEAR(s, 0, 1e-11);
  }
  std::vector<double> dup{1, 2, 1, 2, 1, 2};  // second column = 2 × first
  EXPECT_THROW(analysis::least_squares(dup, 3, 2, std::vector<double>{1, 2, 3}), InvalidArgument);
  EXPECT_THROW(analysis::least_squares(dup, 2, 3, std::vector<double>{1, 2}), InvalidArgument);
}

TEST(OriginFit, RecoversExactSurfacesOfEveryModel) {
  const std::int64_t sy = 7, sx = 9;
  const std::vector<std::pair<stem::SurfaceModel, std::vector<double>>> cases = {
      {stem::SurfaceModel::constant, {3.5}},
      {stem::SurfaceModel::plane, {10, 0.4, -0.7}},
      {stem::SurfaceModel::parabola, {10, 0.4, -0.7, 0.3, 0.2, -0.5}},
      {stem::SurfaceModel::bezier, {1, 2, 3, 4, 5, 6, 7, 8, 9.5}}};
  for (const auto& [model, c] : cases) {
    Array qy(DType::f64, {sy, sx}), qx(DType::f64, {sy, sx});
    for (std::int64_t ry = 0; ry < sy; ++ry)
      for (std::int64_t rx = 0; rx < sx; ++rx) {
        const double v = stem::evaluate_surface(model, c, static_cast<double>(ry), static_cast<double>(rx), sy, sx);
        qy.view<double, 2>()(ry, rx) = v;
        qx.view<double, 2>()(ry, rx) = -2 * v;
      }
    const stem::OriginFit fit = stem::fit_origin(qy, qx, {.model = model});
    ASSERT_EQ(fit.coefficients_qy.size(), c.size());
    for (std::size_t k = 0; k < c.size(); ++k) {
      EXPECT_NEAR(fit.coefficients_qy[k], c[k], 1e-9) << stem::name_of(model) << k;
      EXPECT_NEAR(fit.coefficients_qx[k], -2 * c[k], 1e-9) << stem::name_of(model) << k;
    }
    EXPECT_EQ(fit.used, sy * sx);
    EXPECT_LT(fit.rms_qy_px, 1e-9);
  }
  // The plane in normalised coordinates: c0 at (0, 0), c0 + c1 at the last column, c0 + c2 at the last row.
  EXPECT_DOUBLE_EQ(stem::evaluate_surface(stem::SurfaceModel::plane, {1, 2, 3}, 0, 8, 7, 9), 3);
  EXPECT_DOUBLE_EQ(stem::evaluate_surface(stem::SurfaceModel::plane, {1, 2, 3}, 6, 0, 7, 9), 4);
  // A one-row scan cannot fix the ry terms.
  Array row(DType::f64, {1, 9});
  EXPECT_THROW(stem::fit_origin(row, row, {.model = stem::SurfaceModel::plane}), InvalidArgument);
  EXPECT_NO_THROW(stem::fit_origin(row, row, {.model = stem::SurfaceModel::constant}));
  EXPECT_THROW(stem::fit_origin(row, Array(DType::f64, {2, 9})), InvalidArgument);
  EXPECT_THROW(stem::parse_surface_model("cubic"), InvalidArgument);
  EXPECT_EQ(stem::parse_surface_model("bezier_two"), stem::SurfaceModel::bezier);
}

TEST(Origin, FittedOriginMatchesDescanGroundTruth) {
  const sim::CrystalScanParams params = drifting_scan();
  sim::SimulatedSource src(params);
  const auto& gen = static_cast<const sim::CrystalScan&>(src.generator());
  const Measured m = measure(src, params.disk_radius_px);
  const double measured_rms = rms_error(m.qy, m.qx, gen);
  std::cout << "[ measured ] origin RMS error per position " << measured_rms << " px\n";
  EXPECT_LT(measured_rms, 0.1);
  for (auto model : {stem::SurfaceModel::plane, stem::SurfaceModel::parabola, stem::SurfaceModel::bezier}) {
    const stem::OriginFit fit = stem::fit_origin(m.qy, m.qx, {.model = model});
    const double err = rms_error(fit.qy, fit.qx, gen);
    std::cout << "[ measured ] " << stem::name_of(model) << " fit RMS error vs truth " << err << " px, "
              << fit.used << "/" << m.qy.size() << " positions used, residual RMS (" << fit.rms_qy_px << ", "
              << fit.rms_qx_px << ") px\n";
    EXPECT_LT(err, 0.05) << stem::name_of(model);
    EXPECT_GT(fit.used, m.qy.size() * 95 / 100) << "robust rejection should keep nearly all clean positions";
  }
  // The plane's coefficients are the descan itself: slope per normalised unit = drift per step × (n − 1).
  const stem::OriginFit plane = stem::fit_origin(m.qy, m.qx, {.model = stem::SurfaceModel::plane});
  EXPECT_NEAR(plane.coefficients_qx[1], 0.06 * 19, 0.05);
  EXPECT_NEAR(plane.coefficients_qy[2], 0.05 * 23, 0.05);
  EXPECT_NEAR(plane.coefficients_qy[0], 46.3, 0.05);
}

TEST(Origin, RobustFitIgnoresCorruptedPositions) {
  const sim::CrystalScanParams params = drifting_scan();
  sim::SimulatedSource src(params);
  const auto& gen = static_cast<const sim::CrystalScan&>(src.generator());
  Measured m = measure(src, params.disk_radius_px);
  // Corrupt 6% of the positions by 1.5 to 6 px (e.g. a grain whose Bragg disk outshone the beam), one NaN.
  std::mt19937 rng(3);
  std::vector<std::int64_t> corrupted;
  double* qy = m.qy.data<double>();
  double* qx = m.qx.data<double>();
  for (std::int64_t i = 0; i < m.qy.size(); ++i)
    if (rng() % 100 < 6) {
      corrupted.push_back(i);
      qy[i] += std::uniform_real_distribution<double>(1.5, 6)(rng);
      qx[i] -= std::uniform_real_distribution<double>(0, 3)(rng);
    }
  qy[17] = std::nan("");
  ASSERT_GT(corrupted.size(), 10u);
  const stem::OriginFit robust = stem::fit_origin(m.qy, m.qx, {.model = stem::SurfaceModel::parabola});
  const stem::OriginFit plain =
      stem::fit_origin(m.qy, m.qx, {.model = stem::SurfaceModel::parabola, .robust = false});
  const double err_robust = rms_error(robust.qy, robust.qx, gen), err_plain = rms_error(plain.qy, plain.qx, gen);
  std::cout << "[ measured ] " << corrupted.size() << " corrupted positions: robust fit error " << err_robust
            << " px, plain least squares " << err_plain << " px\n";
  EXPECT_LT(err_robust, 0.05);
  EXPECT_GT(err_plain, 0.1) << "the corruption must matter, or this test proves nothing";
  const std::uint8_t* in = robust.inliers.data<std::uint8_t>();
  for (std::int64_t i : corrupted) EXPECT_EQ(in[i], 0) << "position " << i;
  EXPECT_EQ(in[17], 0);
  EXPECT_TRUE(std::isnan(robust.residual_qy.data<double>()[17]));
  EXPECT_FALSE(std::isnan(robust.qy.data<double>()[17]));  // the fit is defined everywhere
}

TEST(Origin, ThreadCountDoesNotChangeTheBits) {
  sim::CrystalScanParams params = drifting_scan();
  params.scan_y = 9;
  params.scan_x = 7;
  sim::SimulatedSource src(params);
  const Measured one = measure(src, 5, 1);
  const Measured four = measure(src, 5, 4);
  EXPECT_EQ(std::memcmp(one.qy.bytes(), four.qy.bytes(), one.qy.nbytes()), 0);
  EXPECT_EQ(std::memcmp(one.qx.bytes(), four.qx.bytes(), one.qx.nbytes()), 0);
}

TEST(Origin, CentreOfMassInsideTheCircleAroundTheBlurredMaximum) {
  // A 2x2-pixel block of 10 at rows 5-6, columns 8-9, a 1 at (5, 12) (outside 1.2·2 of the maximum)
  // and a 4 at (7, 9) (inside): CoM = (Σ I·qy, Σ I·qx) / Σ I over the circle.
  Array scan(DType::f32, {1, 2, 16, 16});
  auto v = scan.view<float, 4>();
  for (int i = 5; i <= 6; ++i)
    for (int j = 8; j <= 9; ++j) v(0, 0, i, j) = 10;
  v(0, 0, 5, 12) = 1;
  v(0, 0, 7, 9) = 4;
  io::MemorySource src(scan);
  stem::OriginMeasurement origin({.radius_px = 2});
  stem::OriginMeasurement fast({.radius_px = 2, .refine_com = false});
  engine::Analysis* list[] = {&origin, &fast};
  engine::run(src, list);
  EXPECT_NEAR(origin.origin_qy().data<double>()[0], (10 * (5 + 5 + 6 + 6) + 4 * 7) / 44.0, 1e-12);
  EXPECT_NEAR(origin.origin_qx().data<double>()[0], (10 * (8 + 9 + 8 + 9) + 4 * 9) / 44.0, 1e-12);
  EXPECT_TRUE(std::isnan(origin.origin_qy().data<double>()[1]));  // an empty frame
  const double ay = fast.origin_qy().data<double>()[0], ax = fast.origin_qx().data<double>()[0];
  EXPECT_EQ(ay, std::floor(ay));
  EXPECT_TRUE(ay == 5 || ay == 6) << ay;
  EXPECT_TRUE(ax == 8 || ax == 9) << ax;
  EXPECT_THROW(stem::OriginMeasurement({.radius_px = 0}), InvalidArgument);
  EXPECT_THROW(stem::OriginMeasurement({.radius_px = 2, .rscale = -1}), InvalidArgument);
}

TEST(Origin, FittedMapsGoIntoTheCalibrationAndThroughEmd) {
  Array qy(DType::f64, {3, 4}), qx(DType::f64, {3, 4});
  for (std::int64_t i = 0; i < 12; ++i) {
    qy.data<double>()[i] = 30 + 0.1 * static_cast<double>(i);
    qx.data<double>()[i] = 31 - 0.2 * static_cast<double>(i % 4);
  }
  const stem::OriginFit fit = stem::fit_origin(qy, qx, {.model = stem::SurfaceModel::plane});
  Calibration cal;
  stem::set_origin(cal, fit);
  EXPECT_NEAR(*cal.origin_qy_px, 30.55, 1e-12);
  EXPECT_NEAR(*cal.origin_qx_px, 31 - 0.3, 1e-12);
  const fs::path path = fs::temp_directory_path() / ("scandiff_origin_" + std::to_string(::getpid()) + ".h5");
  {
    io::EmdWriter w(path);
    w.add_root("origin_root", cal);
    w.commit();
  }
  const Calibration back = io::read_emd_calibration(path, "origin_root");
  fs::remove(path);
  ASSERT_EQ(back.origin_qy_map.shape(), (Shape{3, 4}));
  for (std::int64_t i = 0; i < 12; ++i) {
    EXPECT_DOUBLE_EQ(back.origin_qy_map.data<double>()[i], fit.qy.data<double>()[i]);
    EXPECT_DOUBLE_EQ(back.origin_qx_map.data<double>()[i], fit.qx.data<double>()[i]);
  }
  EXPECT_DOUBLE_EQ(*back.origin_qy_px, *cal.origin_qy_px);
}

TEST(Fft, UnalignedBuffersTakeTheFallbackPlan) {
  // Buffers off FFTW's 16-byte alignment (data() + 1) go through the unaligned plans: same
  // transform up to rounding.
  const std::int64_t ny = 12, nx = 10;
  analysis::RealFft2D fft(ny, nx);
  const auto n = static_cast<std::size_t>(ny * nx), ns = static_cast<std::size_t>(fft.spectrum_size());
  std::vector<double> a(n), b(n + 1), back(n + 1);
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i + 1] = std::cos(0.7 * static_cast<double>(i)) + 0.01 * static_cast<double>(i);
  std::vector<std::complex<double>> sa(ns), sb(ns);
  fft.forward(a.data(), sa.data());
  fft.forward(b.data() + 1, sb.data());
  for (std::size_t k = 0; k < ns; ++k) EXPECT_NEAR(std::abs(sa[k] - sb[k]), 0, 1e-12);
  fft.inverse(sb.data(), back.data() + 1);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(back[i + 1] / static_cast<double>(n), a[i], 1e-13);
}

TEST(Fft, RoundTripAndDirectDft) {
  const std::int64_t ny = 6, nx = 5;
  analysis::RealFft2D fft(ny, nx);
  std::vector<double> im(30), back(30);
  for (int i = 0; i < 30; ++i) im[static_cast<std::size_t>(i)] = std::sin(1.3 * i) + 0.1 * i;
  std::vector<std::complex<double>> spec(static_cast<std::size_t>(fft.spectrum_size()));
  fft.forward(im.data(), spec.data());
  // Direct DFT: X[k, l] = Σ x[y, x]·exp(−2πi (k·y/ny + l·x/nx)), l = 0..nx/2.
  for (std::int64_t k = 0; k < ny; ++k)
    for (std::int64_t l = 0; l <= nx / 2; ++l) {
      std::complex<double> s = 0;
      for (std::int64_t y = 0; y < ny; ++y)
        for (std::int64_t x = 0; x < nx; ++x)
          s += im[static_cast<std::size_t>(y * nx + x)] *
               std::polar(1.0, -2 * M_PI * (static_cast<double>(k * y) / ny + static_cast<double>(l * x) / nx));
      EXPECT_NEAR(std::abs(spec[static_cast<std::size_t>(k * (nx / 2 + 1) + l)] - s), 0, 1e-10);
    }
  fft.inverse(spec.data(), back.data());
  for (int i = 0; i < 30; ++i) EXPECT_NEAR(back[static_cast<std::size_t>(i)] / 30, im[static_cast<std::size_t>(i)], 1e-12);
}

TEST(OriginFriedel, FittedOriginMatchesDescanGroundTruth) {
  sim::CrystalScanParams params = drifting_scan();
  params.ring_intensity = 0;  // a ring clipped by the frame edge is not Friedel-symmetric
  sim::SimulatedSource src(params);
  const auto& gen = static_cast<const sim::CrystalScan&>(src.generator());
  stem::OriginFriedel friedel;
  engine::Analysis* list[] = {&friedel};
  engine::run(src, list);
  const double measured = rms_error(friedel.origin_qy(), friedel.origin_qx(), gen);
  const stem::OriginFit fit = stem::fit_origin(friedel.origin_qy(), friedel.origin_qx());
  const double fitted = rms_error(fit.qy, fit.qx, gen);
  std::cout << "[ measured ] Friedel origin RMS error per position " << measured << " px, plane fit " << fitted << " px\n";
  EXPECT_LT(measured, 0.1);
  EXPECT_LT(fitted, 0.05);
}
