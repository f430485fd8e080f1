// Probe templates, Bragg disk detection, Bragg vectors, lattice fitting and strain: accuracy
// against the simulator's ground truth (disk centres, strain field), properties of the kernels,
// EMD round trips and errors for bad input. py4DSTEM agreement: tests/python/test_bragg_py4dstem.py.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <numbers>

#include "scandiff/analysis/fft2.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/bragg_disks.hpp"
#include "scandiff/stem/disk_detection.hpp"
#include "scandiff/stem/lattice.hpp"
#include "scandiff/stem/probe.hpp"
#include "scandiff/stem/probe_kernel.hpp"
#include "scandiff/stem/strain.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

double sum_of(const Array& a) {
  const Array f = a.astype(DType::f64);
  double s = 0;
  for (std::int64_t i = 0; i < f.size(); ++i) s += f.data<double>()[i];
  return s;
}

sim::CrystalScanParams strained_scan() {
  sim::CrystalScanParams p;
  p.scan_y = 12;
  p.scan_x = 14;
  p.frame_y = p.frame_x = 128;
  p.dtype = DType::f32;
  p.g1_px = {21.3, 4.1};
  p.g2_px = {-5.2, 19.7};
  p.max_g_px = 58;
  p.disk_radius_px = 4;
  p.central_intensity = 100;
  p.intensity_sigma_px = 45;
  p.ring_intensity = 2;
  p.background = 0.5;
  p.origin_qy_px = 63.2;
  p.origin_qx_px = 64.7;
  p.descan_per_rx_px = {0.05, -0.02};
  p.descan_per_ry_px = {0.01, 0.04};
  p.strain.exx.bump = 0.01;
  p.strain.eyy.wave = 0.004;
  p.strain.exy.uniform = 0.002;
  p.strain.rotation_rad.bump = 0.004;
  return p;
}

stem::BraggVectors detect(io::Source& src, const stem::DiskDetectionOptions& o, int threads = 0) {
  const io::DatasetInfo& info = src.info();
  const Array probe = stem::synthetic_probe(4, 1, info.frame_y, info.frame_x);
  stem::KernelOptions ko;
  ko.mode = stem::KernelMode::sigmoid;
  ko.inner_px = 4;
  ko.outer_px = 8;
  stem::DiskDetection d(stem::probe_kernel(probe, ko), o);
  engine::Analysis* list[] = {&d};
  engine::RunOptions ro;
  ro.threads = threads;
  engine::run(src, list, ro);
  return d.vectors();
}

stem::DiskDetectionOptions dense_options(stem::Subpixel s) {
  stem::DiskDetectionOptions o;
  o.subpixel = s;
  o.min_peak_spacing = 10;
  o.edge_boundary = 6;
  o.min_relative_intensity = 0.02;
  return o;
}

}  // namespace

TEST(ProbeKernel, IntegralsAndModes) {
  const Array probe = stem::synthetic_probe(6, 2, 64, 72);
  stem::KernelOptions o;
  o.mode = stem::KernelMode::flat;
  EXPECT_NEAR(sum_of(stem::probe_kernel(probe, o)), 1.0, 1e-12);
  o.mode = stem::KernelMode::gaussian;
  EXPECT_NEAR(sum_of(stem::probe_kernel(probe, o)), 0.0, 1e-12);
  o.mode = stem::KernelMode::sigmoid;
  o.inner_px = 6;
  o.outer_px = 12;
  const Array sine = stem::probe_kernel(probe, o);
  EXPECT_NEAR(sum_of(sine), 0.0, 1e-12);
  o.mode = stem::KernelMode::logistic;
  const Array logistic = stem::probe_kernel(probe, o);
  EXPECT_NEAR(sum_of(logistic), 0.0, 1e-12);
  // The two trench profiles differ (py4DSTEM's sigmoid_log silently used the sine-squared one).
  double diff = 0;
  for (std::int64_t i = 0; i < sine.size(); ++i)
    diff = std::max(diff, std::abs(sine.data<double>()[i] - logistic.data<double>()[i]));
  EXPECT_GT(diff, 1e-5);
  // The kernel peak sits at the array corner (the probe centre moved to (0, 0)).
  const double* k = sine.data<double>();
  EXPECT_EQ(std::max_element(k, k + sine.size()) - k, 0);
  // Bad parameters are named.
  o.inner_px = 12;
  EXPECT_THROW(stem::probe_kernel(probe, o), InvalidArgument);
  o.mode = stem::KernelMode::gaussian;
  o.sigma = -1;
  EXPECT_THROW(stem::probe_kernel(probe, o), InvalidArgument);
  EXPECT_THROW(stem::parse_kernel_mode("sigmoid_log"), InvalidArgument);
  EXPECT_THROW(stem::synthetic_probe(-1, 1, 8, 8), InvalidArgument);
}

TEST(VacuumProbe, AlignedMeanAndSoftMask) {
  // Four copies of one probe shifted by whole pixels: aligned, their mean is the first copy.
  const std::int64_t n = 48;
  const Array base = stem::synthetic_probe(5, 1, n, n);
  Array frames(DType::f64, {4, n, n});
  const int shifts[4][2] = {{0, 0}, {3, -2}, {-4, 1}, {2, 5}};
  for (int f = 0; f < 4; ++f)
    for (std::int64_t y = 0; y < n; ++y)
      for (std::int64_t x = 0; x < n; ++x)
        frames.data<double>()[(f * n + y) * n + x] =
            base.data<double>()[((y - shifts[f][0] + n) % n) * n + (x - shifts[f][1] + n) % n];
  io::MemorySource src(frames, 2, 2);
  const std::int64_t all[] = {0, 1, 2, 3};
  const Array aligned = stem::vacuum_probe(src, all, true, false);
  for (std::int64_t i = 0; i < n * n; ++i) ASSERT_NEAR(aligned.data<double>()[i], base.data<double>()[i], 1e-12);
  // The soft mask keeps the disk and zeroes pixels far (> expansion) from it.
  const Array masked = stem::soft_probe_mask(base, {.threshold = 0.2, .opening = 3, .expansion = 4});
  EXPECT_NEAR(masked.data<double>()[24 * n + 24], base.data<double>()[24 * n + 24], 1e-15);
  EXPECT_LT(masked.data<double>()[0], 1e-30);  // cos²(π/2) in floating point
  const std::int64_t bad[] = {7};
  EXPECT_THROW(stem::vacuum_probe(src, bad), InvalidArgument);
  EXPECT_THROW(stem::vacuum_probe(src, {}), InvalidArgument);
}

TEST(BraggDisks, MulticorrPositionsMatchTruth) {
  // Noise-free float frames: multicorr disk centres against the exact simulated centres.
  sim::CrystalScanParams p = strained_scan();
  p.scan_y = 3;
  p.scan_x = 4;
  auto gen = std::make_shared<sim::CrystalScan>(p);
  sim::SimulatedSource src(gen);
  const stem::BraggVectors v = detect(src, dense_options(stem::Subpixel::multicorr));
  double worst = 0;
  std::int64_t matched = 0;
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      const sim::Vec2 o = gen->origin_at(ry, rx);
      const sim::Strain e = gen->strain_at(ry, rx);
      for (const auto& r : gen->reflections()) {
        const sim::Vec2 g{r.h * p.g1_px.x + r.k * p.g2_px.x, r.h * p.g1_px.y + r.k * p.g2_px.y};
        const sim::Vec2 d = sim::deform(e, g);
        const double tx = o.x + d.x, ty = o.y + d.y;
        if (tx < 10 || ty < 10 || tx > 117 || ty > 117) continue;  // disks cut by the edge
        double best = 1e9;
        for (const auto& b : v.at(ry, rx)) best = std::min(best, std::hypot(b.qx - tx, b.qy - ty));
        ASSERT_LT(best, 0.5) << "no peak found for reflection " << r.h << "," << r.k;
        worst = std::max(worst, best);
        ++matched;
      }
    }
  std::cout << "multicorr: " << matched << " disks, worst |found - true| = " << worst << " px\n";
  EXPECT_GT(matched, 100);
  EXPECT_LT(worst, 0.05);
}

TEST(BraggDisks, MulticorrGridIsTheUpsampledDft) {
  // Multicorr against its definition evaluated directly: from each poly peak, the K×K grid
  // Re Σ over the full spectrum of C·exp(2πi (y·m_s/ny + x·n_s/nx)) (signed indices, Nyquist
  // negative), argmax and parabola. Even and odd frame sides exercise the Nyquist row and column.
  for (const auto& [ny, nx] : {std::pair<std::int64_t, std::int64_t>{64, 66}, {63, 65}, {64, 65}, {63, 66}}) {
    sim::CrystalScanParams p = strained_scan();
    p.scan_y = p.scan_x = 1;
    p.frame_y = ny;
    p.frame_x = nx;
    p.origin_qy_px = 31.3;
    p.origin_qx_px = 32.6;
    p.max_g_px = 28;
    p.dtype = DType::f64;
    sim::CrystalScan gen(p);
    Array frame(DType::f64, {ny, nx});
    gen.render(0, 1, reinterpret_cast<std::byte*>(frame.data<double>()));
    stem::KernelOptions ko;
    ko.inner_px = 4;
    ko.outer_px = 8;
    const Array kernel = stem::probe_kernel(stem::synthetic_probe(4, 1, ny, nx), ko);
    stem::DiskDetectionOptions o = dense_options(stem::Subpixel::poly);
    o.edge_boundary = 4;
    const auto poly = stem::find_bragg_disks(frame, kernel, o);
    o.subpixel = stem::Subpixel::multicorr;
    const auto multi = stem::find_bragg_disks(frame, kernel, o);
    ASSERT_EQ(poly.size(), multi.size());
    ASSERT_GE(poly.size(), 5u);
    // C = FFT2(frame)·conj(FFT2(kernel)), full spectrum.
    analysis::Fft2 fft(ny, nx);
    std::vector<std::complex<double>> f(static_cast<std::size_t>(ny * nx)), kf(f.size());
    for (std::int64_t i = 0; i < ny * nx; ++i) {
      f[static_cast<std::size_t>(i)] = frame.data<double>()[i];
      kf[static_cast<std::size_t>(i)] = kernel.data<double>()[i];
    }
    fft.forward(f.data());
    fft.forward(kf.data());
    for (std::size_t i = 0; i < f.size(); ++i) f[i] *= std::conj(kf[i]);
    const int u = o.upsample_factor, K = static_cast<int>(std::ceil(1.5 * u)), g = K / 2;
    auto signed_index = [](std::int64_t k, std::int64_t n) { return k < n - n / 2 ? k : k - n; };
    for (std::size_t q = 0; q < poly.size(); ++q) {
      const double y0 = std::nearbyint(std::nearbyint(poly[q].qy * 2) / 2 * u) / u;
      const double x0 = std::nearbyint(std::nearbyint(poly[q].qx * 2) / 2 * u) / u;
      std::vector<double> grid(static_cast<std::size_t>(K * K));
      for (int k = 0; k < K; ++k) {
        const double y = y0 + static_cast<double>(k - g) / u;
        std::vector<std::complex<double>> row(static_cast<std::size_t>(nx));  // Σ_m C[m, n]·exp(2πi y·m_s/ny)
        for (std::int64_t m = 0; m < ny; ++m) {
          const auto e = std::polar(1.0, 2 * std::numbers::pi * y * static_cast<double>(signed_index(m, ny)) / static_cast<double>(ny));
          for (std::int64_t n = 0; n < nx; ++n) row[static_cast<std::size_t>(n)] += f[static_cast<std::size_t>(m * nx + n)] * e;
        }
        for (int j = 0; j < K; ++j) {
          const double x = x0 + static_cast<double>(j - g) / u;
          std::complex<double> s = 0;
          for (std::int64_t n = 0; n < nx; ++n)
            s += row[static_cast<std::size_t>(n)] *
                 std::polar(1.0, 2 * std::numbers::pi * x * static_cast<double>(signed_index(n, nx)) / static_cast<double>(nx));
          grid[static_cast<std::size_t>(k * K + j)] = s.real();
        }
      }
      const auto best = std::max_element(grid.begin(), grid.end()) - grid.begin();
      const int bk = static_cast<int>(best / K), bj = static_cast<int>(best % K);
      auto G = [&](int a, int b) { return grid[static_cast<std::size_t>(a * K + b)]; };
      double dy = 0, dx = 0;
      if (bk >= 1 && bk + 1 < K && bj >= 1 && bj + 1 < K) {
        dy = (G(bk + 1, bj) - G(bk - 1, bj)) / (4 * G(bk, bj) - 2 * G(bk + 1, bj) - 2 * G(bk - 1, bj));
        dx = (G(bk, bj + 1) - G(bk, bj - 1)) / (4 * G(bk, bj) - 2 * G(bk, bj + 1) - 2 * G(bk, bj - 1));
      }
      const double want_y = y0 + (bk - g + dy) / u, want_x = x0 + (bj - g + dx) / u;
      // multicorr re-sorts by the (unchanged) poly intensity: find the same peak.
      double dist = 1e9;
      for (const auto& m : multi)
        if (m.intensity == poly[q].intensity) dist = std::min(dist, std::hypot(m.qy - want_y, m.qx - want_x));
      EXPECT_LT(dist, 1e-9) << ny << "x" << nx << " peak " << q;
    }
  }
}

TEST(BraggDisks, ThreadCountDoesNotChangeResults) {
  sim::CrystalScanParams p = strained_scan();
  p.scan_y = 4;
  p.scan_x = 5;
  p.noise = sim::Noise::poisson;
  sim::SimulatedSource src(p);
  const auto a = detect(src, dense_options(stem::Subpixel::multicorr), 1);
  const auto b = detect(src, dense_options(stem::Subpixel::multicorr), 3);
  for (std::int64_t i = 0; i < a.positions(); ++i) {
    ASSERT_EQ(a.at(i).size(), b.at(i).size());
    for (std::size_t k = 0; k < a.at(i).size(); ++k) {
      EXPECT_EQ(a.at(i)[k].qx, b.at(i)[k].qx);
      EXPECT_EQ(a.at(i)[k].qy, b.at(i)[k].qy);
    }
  }
}

TEST(BraggDisks, BadOptionsAreNamed) {
  auto message = [](const stem::DiskDetectionOptions& o, std::int64_t ny = 64, std::int64_t nx = 64) {
    try {
      stem::validate(o, ny, nx);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  stem::DiskDetectionOptions o;
  o.upsample_factor = 1;
  EXPECT_NE(message(o).find("upsample_factor"), std::string::npos);
  o = {};
  o.corr_power = 2;
  EXPECT_NE(message(o).find("corr_power"), std::string::npos);
  o = {};
  o.max_num_peaks = 0;
  EXPECT_NE(message(o).find("max_num_peaks"), std::string::npos);
  o = {};
  o.sigma_cc = std::nan("");
  EXPECT_NE(message(o).find("sigma_cc"), std::string::npos);
  o = {};
  EXPECT_NE(message(o, 30, 64).find("edge_boundary"), std::string::npos);  // 2·20 >= 30
  o.min_relative_intensity = 1.5;
  EXPECT_NE(message(o).find("min_relative_intensity"), std::string::npos);
  // A kernel of the wrong shape, and an empty frame: no peaks, no crash.
  EXPECT_THROW(stem::DiskFinder(Array(DType::f64, {32, 32}), 64, 64, stem::DiskDetectionOptions{.edge_boundary = 2}),
               InvalidArgument);
  Array zero(DType::f64, {64, 64});
  std::fill(zero.data<double>(), zero.data<double>() + zero.size(), 0.0);
  stem::DiskDetectionOptions small;
  small.edge_boundary = 4;
  EXPECT_TRUE(stem::find_bragg_disks(zero, stem::synthetic_probe(3, 1, 64, 64), small).empty());
}

TEST(BraggVectors, CalibrationOrderAndEmdRoundTrip) {
  stem::BraggVectors v(1, 2, 64, 64);
  v.set(0, {{40, 30, 5}, {20, 30, 1}});
  v.set(1, {});
  Calibration cal;
  cal.origin_qy_px = 30;
  cal.origin_qx_px = 30;
  cal.ellipse = Ellipse{2, 1, 0};  // a-axis along qx: qx components halve
  cal.detector_pixel_size = 0.1;
  cal.detector_units = "A^-1";
  cal.qr_rotation_rad = std::numbers::pi / 2;
  const auto c = v.calibrated(cal);
  // (10, 0) px -> ellipse (5, 0) -> 0.1/px (0.5, 0) -> rotated by +90 deg (0, 0.5)
  EXPECT_NEAR(c.at(0)[0].qx, 0.0, 1e-12);
  EXPECT_NEAR(c.at(0)[0].qy, 0.5, 1e-12);
  EXPECT_NEAR(c.at(0)[1].qy, -0.5, 1e-12);
  EXPECT_EQ(c.units(), "A^-1");
  EXPECT_THROW(c.calibrated(cal), InvalidArgument);
  EXPECT_THROW(v.calibrated(Calibration{}), InvalidArgument);  // no origin
  cal.qr_flip = true;
  EXPECT_NEAR(v.calibrated(cal).at(0)[0].qx, -0.5, 1e-12);  // flip (0.5, 0) -> (0, 0.5), rotate -> (-0.5, 0)
  // Maps, origin, masks, virtual image.
  const Array bvm = stem::bragg_vector_map(v);
  EXPECT_NEAR(sum_of(bvm), 6.0, 1e-12);
  const auto origin = stem::origin_from_vectors(v);
  EXPECT_EQ(origin.qx.data<double>()[0], 40.0);
  EXPECT_TRUE(std::isnan(origin.qx.data<double>()[1]));
  const stem::QPoint centre[] = {{20, 30}};
  EXPECT_EQ(stem::vectors_virtual_image(v, centre, 1).data<double>()[0], 1.0);
  Array mask(DType::u8, {64, 64});
  std::fill(mask.data<std::uint8_t>(), mask.data<std::uint8_t>() + mask.size(), 0);
  mask.data<std::uint8_t>()[30 * 64 + 40] = 1;
  EXPECT_EQ(v.masked_q(mask).at(0).size(), 1u);
  // EMD round trip.
  const fs::path path = fs::temp_directory_path() / ("scandiff_bragg_" + std::to_string(::getpid()) + ".h5");
  {
    io::EmdWriter w(path);
    w.add_root("peaks", Calibration{});
    w.add_bragg_vectors("peaks", "braggvectors", v.to_emd());
    w.commit();
  }
  const auto back = stem::BraggVectors::from_emd(io::read_emd_bragg_vectors(path));
  fs::remove(path);
  ASSERT_EQ(back.positions(), 2);
  ASSERT_EQ(back.at(0).size(), 2u);
  EXPECT_EQ(back.at(0)[0].qx, 40.0);
  EXPECT_EQ(back.at(0)[0].qy, 30.0);
  EXPECT_EQ(back.at(0)[0].intensity, 5.0);
  EXPECT_TRUE(back.at(1).empty());
  EXPECT_THROW(stem::BraggVectors(0, 2, 4, 4), InvalidArgument);
}

TEST(Strain, RecoversSimulatedStrainField) {
  // Poisson noise, descan and elliptical distortion; origin and ellipse from the simulation's
  // calibration plus per-position truth origin maps.
  sim::CrystalScanParams p = strained_scan();
  p.noise = sim::Noise::poisson;
  p.dose_scale = 20;
  p.ellipse = {1.04, 0.5};
  p.seed = 11;
  auto gen = std::make_shared<sim::CrystalScan>(p);
  sim::SimulatedSource src(gen);
  const stem::BraggVectors raw = detect(src, dense_options(stem::Subpixel::multicorr));
  Calibration cal = src.info().calibration;
  Array oy(DType::f64, {p.scan_y, p.scan_x}), ox(DType::f64, {p.scan_y, p.scan_x});
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      oy.data<double>()[ry * p.scan_x + rx] = gen->origin_at(ry, rx).y;
      ox.data<double>()[ry * p.scan_x + rx] = gen->origin_at(ry, rx).x;
    }
  cal.origin_qy_map = oy;
  cal.origin_qx_map = ox;
  ASSERT_TRUE(cal.ellipse.has_value());
  const stem::BraggVectors v = raw.calibrated(cal);
  const stem::Lattice found = stem::find_lattice(v);
  // The automatic basis is some basis of the lattice; express the fit in the true (g1, g2).
  const stem::Lattice truth{0, 0, p.g1_px.x, p.g1_px.y, p.g2_px.x, p.g2_px.y};
  EXPECT_LT(std::abs(std::abs(found.g1x * found.g2y - found.g2x * found.g1y) /
                         std::abs(truth.g1x * truth.g2y - truth.g2x * truth.g1y) - 1),
            0.02);  // same cell area (b = 1 px keeps pixel units)
  const stem::LatticeMaps maps = stem::fit_lattice(v, truth);
  EXPECT_EQ(maps.fitted, p.scan_y * p.scan_x);
  const stem::StrainMaps s = stem::strain_maps(maps, truth);
  double se[4] = {0, 0, 0, 0};
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      const sim::Strain t = gen->strain_at(ry, rx);
      const std::int64_t i = ry * p.scan_x + rx;
      const double d[4] = {s.exx.data<double>()[i] - t.exx, s.eyy.data<double>()[i] - t.eyy,
                           s.exy.data<double>()[i] - t.exy, s.rotation_rad.data<double>()[i] - t.rotation_rad};
      for (int k = 0; k < 4; ++k) se[k] += d[k] * d[k];
    }
  const double n = static_cast<double>(p.scan_y * p.scan_x);
  const double rms_exx = std::sqrt(se[0] / n), rms_eyy = std::sqrt(se[1] / n), rms_exy = std::sqrt(se[2] / n);
  const double rms_rot_deg = std::sqrt(se[3] / n) * 180 / std::numbers::pi;
  std::cout << "strain RMS error: exx " << rms_exx << ", eyy " << rms_eyy << ", exy " << rms_exy << ", rotation "
            << rms_rot_deg << " deg\n";
  EXPECT_LT(rms_exx, 2e-4);
  EXPECT_LT(rms_eyy, 2e-4);
  EXPECT_LT(rms_exy, 2e-4);
  EXPECT_LT(rms_rot_deg, 0.02);
  // A rotated frame: exx + eyy is invariant, and 90 degrees swaps exx and eyy.
  const stem::StrainMaps r = stem::strain_maps(maps, truth, std::numbers::pi / 2);
  EXPECT_NEAR(r.exx.data<double>()[5], s.eyy.data<double>()[5], 1e-12);
  EXPECT_NEAR(r.exy.data<double>()[5], -s.exy.data<double>()[5], 1e-12);
  // Median reference: strain relative to the median lattice has median ~0.
  const stem::Lattice med = stem::reference_lattice(maps);
  EXPECT_NEAR(med.g1x, truth.g1x * (1 - 0.002), 0.05);
}

TEST(Strain, TooFewPeaksAndBadInput) {
  stem::BraggVectors v(1, 2, 64, 64);
  v.set(0, {{0, 0, 1}, {20, 0, 1}, {0, 20, 1}});  // three peaks: below the default minimum of 5
  const auto c = v.calibrated([] {
    Calibration cal;
    cal.origin_qx_px = 0;
    cal.origin_qy_px = 0;
    return cal;
  }());
  const stem::Lattice l{0, 0, 20, 0, 0, 20};
  const auto maps = stem::fit_lattice(c, l);
  EXPECT_EQ(maps.fitted, 0);
  EXPECT_TRUE(std::isnan(maps.g1x.data<double>()[0]));
  EXPECT_THROW(stem::reference_lattice(maps), InvalidArgument);
  EXPECT_THROW(stem::fit_lattice(v, l), InvalidArgument);  // raw vectors
  EXPECT_THROW(stem::fit_lattice(c, stem::Lattice{0, 0, 1, 0, 2, 0}), InvalidArgument);  // collinear
  stem::BraggVectors line(1, 1, 64, 64);
  line.set(0, {{10, 10, 1}, {30, 10, 1}, {50, 10, 1}});
  Calibration at10;
  at10.origin_qx_px = 10;
  at10.origin_qy_px = 10;
  EXPECT_THROW(stem::find_lattice(line.calibrated(at10)), InvalidArgument);  // collinear maxima
  EXPECT_THROW(stem::find_lattice(stem::BraggVectors(1, 1, 8, 8).calibrated(at10)), InvalidArgument);  // no peaks
  EXPECT_THROW(stem::strain_maps(maps, stem::Lattice{}), InvalidArgument);
  EXPECT_NEAR(stem::cubic_g_inv_A(4.0, 2, 0, 0), 0.5, 1e-15);
  EXPECT_THROW(stem::cubic_g_inv_A(0, 1, 1, 1), InvalidArgument);
}

TEST(StrainPng, DivergingMapWithColourBar) {
  // A signed 6x8 map drawn 10x with a coolwarm colour bar: wider than the image, blue low, red high.
  Array map(DType::f64, {6, 8});
  for (std::int64_t i = 0; i < map.size(); ++i) map.data<double>()[i] = static_cast<double>(i % 8) / 7.0 - 0.5;
  const fs::path path = fs::temp_directory_path() / ("scandiff_strain_png_" + std::to_string(::getpid()) + ".png");
  io::PngOptions o;
  o.colormap = "coolwarm";
  o.range.vmin = -0.5;
  o.range.vmax = 0.5;
  o.scale = 10;
  o.colorbar = true;
  io::write_png(path, map, o);
  const Array img = io::read_png(path);
  fs::remove(path);
  ASSERT_EQ(img.rank(), 3u);
  EXPECT_EQ(img.shape(0), 96);  // at least 96 px tall for the labels
  EXPECT_GT(img.shape(1), 80 + 16);
  const auto* p = img.data<std::uint8_t>();
  const std::int64_t w = img.shape(1);
  EXPECT_GT(p[(5 * w + 2) * 3 + 2], p[(5 * w + 2) * 3 + 0]);    // left column (min): blue
  EXPECT_GT(p[(5 * w + 75) * 3 + 0], p[(5 * w + 75) * 3 + 2]);  // right column (max): red
  o.colormap = "gray";
  EXPECT_THROW(io::write_png(path, map, o), InvalidArgument);
  o.colormap = "coolwarm";
  o.scale = 0;
  EXPECT_THROW(io::write_png(path, map, o), InvalidArgument);
}
