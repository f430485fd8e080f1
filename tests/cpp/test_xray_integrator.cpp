// The CSR azimuthal integrator: matrix properties (fractions, shapes, masks), exact results on
// uniform and flat-field images, validation of bad parameters, thread-count independence.
#include <cmath>
#include <numeric>
#include <random>

#include <gtest/gtest.h>
#include <oneapi/tbb/task_arena.h>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/frame_sink.hpp"
#include "scandiff/xray/azimuthal_cakes.hpp"
#include "scandiff/xray/azimuthal_profiles.hpp"
#include "scandiff/xray/integrator.hpp"

using namespace scandiff;
using namespace scandiff::xray;

namespace {

PoniGeometry small_poni() {
  PoniGeometry p;
  p.distance_m = 0.05;
  p.poni1_m = 0.0031;
  p.poni2_m = 0.0042;
  p.rot1_rad = 0.02;
  p.rot2_rad = -0.01;
  p.rot3_rad = 0.3;
  p.pixel1_m = p.pixel2_m = 1e-4;
  p.wavelength_m = 1e-10;
  return p;
}

constexpr std::int64_t H = 60, W = 80;

Array filled(float v) {
  Array a(DType::f32, {H, W});
  std::fill_n(a.data<float>(), H * W, v);
  return a;
}

// Σ over the matrix entries of one pixel (column) = the pixel's total weight.
std::vector<double> column_sums(const CsrMatrix& m) {
  std::vector<double> s(static_cast<std::size_t>(m.cols), 0);
  for (std::size_t e = 0; e < m.value.size(); ++e) s[static_cast<std::size_t>(m.column[e])] += m.value[e];
  return s;
}

}  // namespace

class XrayIntegratorSplit : public testing::TestWithParam<std::tuple<Splitting, int>> {};

TEST_P(XrayIntegratorSplit, EveryPixelIsDistributedWhole) {
  const auto [split, npt_azim] = GetParam();
  const DetectorGeometry g(small_poni(), H, W);
  IntegrationSetup s;
  s.unit = RadialUnit::two_theta_deg;
  s.npt_rad = 40;
  s.npt_azim = npt_azim;
  s.splitting = split;
  const AzimuthalIntegrator ai(g, s);
  const CsrMatrix& m = ai.matrix();
  EXPECT_EQ(m.rows, 40 * std::max(npt_azim, 1));
  EXPECT_EQ(m.cols, H * W);
  ASSERT_EQ(m.row_start.size(), static_cast<std::size_t>(m.rows + 1));
  for (std::int64_t b = 0; b < m.rows; ++b) {
    for (std::int64_t e = m.row_start[static_cast<std::size_t>(b)] + 1; e < m.row_start[static_cast<std::size_t>(b) + 1];
         ++e)
      ASSERT_LT(m.column[static_cast<std::size_t>(e - 1)], m.column[static_cast<std::size_t>(e)]);
  }
  // Without ranges every pixel lies inside the grid: its fractions add up to 1 (bbox in 2D can
  // lose a sliver at χ = ±π where the grid is clipped).
  const auto sums = column_sums(m);
  std::size_t off = 0;
  for (double v : sums)
    if (std::abs(v - 1) > 1e-5) ++off;
  EXPECT_LE(off, split == Splitting::no ? 0u : static_cast<std::size_t>(H));
  if (split == Splitting::no) {
    for (float v : m.value) ASSERT_EQ(v, 1.0f);
  }
}

TEST_P(XrayIntegratorSplit, FlatPlusDarkIntegratesToOne) {
  const auto [split, npt_azim] = GetParam();
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.5f, 1.5f), d(0.f, 10.f);
  Array flat(DType::f32, {H, W}), dark(DType::f32, {H, W}), raw(DType::f32, {H, W});
  for (std::int64_t p = 0; p < H * W; ++p) {
    flat.data<float>()[p] = u(rng);
    dark.data<float>()[p] = d(rng);
    raw.data<float>()[p] = flat.data<float>()[p] + dark.data<float>()[p];
  }
  IntegrationSetup s;
  s.npt_rad = 30;
  s.npt_azim = npt_azim;
  s.splitting = split;
  s.solid_angle = false;
  s.flat = flat;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  FrameCorrections c;
  c.dark = dark;
  const IntegrationResult r = ai.integrate(raw, c);
  int filled_bins = 0;
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] == 0) continue;
    ++filled_bins;
    EXPECT_NEAR(r.intensity[b], 1.0, 1e-6);
  }
  EXPECT_GT(filled_bins, 0);
}

INSTANTIATE_TEST_SUITE_P(Schemes, XrayIntegratorSplit,
                         testing::Combine(testing::Values(Splitting::no, Splitting::bbox, Splitting::full),
                                          testing::Values(0, 12)));

TEST(XrayIntegrator, UniformImageGivesItsValueInEveryBin) {
  IntegrationSetup s;
  s.npt_rad = 20;
  s.splitting = Splitting::no;
  s.solid_angle = false;
  s.polarization_factor = std::nullopt;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  const IntegrationResult r = ai.integrate(filled(5.0f));
  ASSERT_EQ(r.intensity.size(), 20u);
  ASSERT_EQ(r.radial.size(), 20u);
  for (std::size_t b = 0; b < r.intensity.size(); ++b)
    if (r.count[b] > 0) {
      EXPECT_DOUBLE_EQ(r.intensity[b], 5.0);
    }
  EXPECT_DOUBLE_EQ(std::accumulate(r.count.begin(), r.count.end(), 0.0), static_cast<double>(H * W));
}

TEST(XrayIntegrator, MaskDummyAndThresholdsExcludePixels) {
  Array mask(DType::u8, {H, W});
  for (std::int64_t p = 0; p < W; ++p) mask.data<std::uint8_t>()[p] = 1;  // first row masked
  IntegrationSetup s;
  s.npt_rad = 10;
  s.splitting = Splitting::no;
  s.solid_angle = false;
  s.mask = mask;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  Array img = filled(2.0f);
  img.data<float>()[W + 3] = -1;   // dummy
  img.data<float>()[W + 4] = 1e9;  // above threshold
  FrameCorrections c;
  c.dummy = -1.0f;
  c.valid_max = 1e6f;
  const IntegrationResult r = ai.integrate(img, c);
  EXPECT_DOUBLE_EQ(std::accumulate(r.count.begin(), r.count.end(), 0.0), static_cast<double>(H * W - W - 2));
  for (std::size_t b = 0; b < r.intensity.size(); ++b)
    if (r.count[b] > 0) {
      EXPECT_DOUBLE_EQ(r.intensity[b], 2.0);
    }
}

TEST(XrayIntegrator, PoissonSigmaOfConstantImage) {
  IntegrationSetup s;
  s.npt_rad = 10;
  s.splitting = Splitting::no;
  s.solid_angle = false;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  FrameCorrections c;
  c.error_model = ErrorModel::poisson;
  const IntegrationResult r = ai.integrate(filled(100.0f), c);
  for (std::size_t b = 0; b < r.intensity.size(); ++b)
    if (r.count[b] > 0) {
      EXPECT_NEAR(r.sigma[b], std::sqrt(100.0 * r.count[b]) / r.count[b], 1e-9);
    }
}

TEST(XrayIntegrator, ResultDoesNotDependOnThreadCount) {
  IntegrationSetup s;
  s.npt_rad = 50;
  s.npt_azim = 16;
  s.splitting = Splitting::full;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.f, 1000.f);
  Array img(DType::f32, {H, W});
  for (std::int64_t p = 0; p < H * W; ++p) img.data<float>()[p] = u(rng);
  auto run = [&](int threads) {
    tbb::task_arena arena(threads);
    IntegrationResult r;
    arena.execute([&] { r = AzimuthalIntegrator(DetectorGeometry(small_poni(), H, W), s).integrate(img); });
    return r.intensity;
  };
  EXPECT_EQ(run(1), run(4));
}

TEST(XrayIntegrator, BadParametersAreRefused) {
  const DetectorGeometry g(small_poni(), H, W);
  IntegrationSetup s;
  s.npt_rad = 0;
  EXPECT_THROW(AzimuthalIntegrator(g, s), InvalidArgument);
  s.npt_rad = 100'000'000;
  EXPECT_THROW(AzimuthalIntegrator(g, s), InvalidArgument);
  s.npt_rad = 10;
  s.npt_azim = -1;
  EXPECT_THROW(AzimuthalIntegrator(g, s), InvalidArgument);
  s.npt_azim = 0;
  s.mask = Array(DType::u8, {H, W + 1});
  EXPECT_THROW(AzimuthalIntegrator(g, s), InvalidArgument);
  s.mask = Array(DType::u8, {H, W});
  std::fill_n(s.mask.data<std::uint8_t>(), H * W, 1);
  EXPECT_THROW(AzimuthalIntegrator(g, s), InvalidArgument);  // everything masked
  s.mask = Array();
  s.radial_range = std::make_pair(1.0, 1.0);
  EXPECT_THROW(AzimuthalIntegrator(g, s), InvalidArgument);
  s.radial_range.reset();
  PoniGeometry no_lambda = small_poni();
  no_lambda.wavelength_m = 0;
  s.unit = RadialUnit::q_nm;
  EXPECT_THROW(AzimuthalIntegrator(DetectorGeometry(no_lambda, H, W), s), InvalidArgument);
  s.unit = RadialUnit::two_theta_deg;
  const AzimuthalIntegrator ai(g, s);
  EXPECT_THROW(ai.integrate(Array(DType::f32, {H + 1, W})), InvalidArgument);
}

TEST(XrayIntegrator, MedianFilterIgnoresOutliers) {
  IntegrationSetup s;
  s.npt_rad = 8;
  s.splitting = Splitting::no;
  s.solid_angle = false;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  Array img = filled(3.0f);
  for (std::int64_t p = 0; p < H * W; p += 7) img.data<float>()[p] = 1e6f;  // 1 pixel in 7 is hot
  const IntegrationResult mean = ai.integrate(img);
  const IntegrationResult median = ai.median_filter(img, {}, 0.5, 0.5);
  const IntegrationResult iqr = ai.median_filter(img, {}, 0.25, 0.75);
  for (std::size_t b = 0; b < median.intensity.size(); ++b) {
    EXPECT_DOUBLE_EQ(median.intensity[b], 3.0);
    EXPECT_DOUBLE_EQ(iqr.intensity[b], 3.0);
    EXPECT_GT(mean.intensity[b], 1000.0);
  }
  EXPECT_THROW(ai.median_filter(img, {}, 0.8, 0.2), InvalidArgument);
}

TEST(XrayIntegrator, SigmaClipDropsOutliers) {
  IntegrationSetup s;
  s.npt_rad = 8;
  s.splitting = Splitting::no;
  s.solid_angle = false;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  // Values 2 and 4 alternating (mean 3, std 1) with 1 pixel in 97 hot.
  Array img = filled(0.0f);
  for (std::int64_t p = 0; p < H * W; ++p) img.data<float>()[p] = p % 97 == 0 ? 1e5f : (p % 2 == 0 ? 2.0f : 4.0f);
  for (ErrorModel model : {ErrorModel::azimuthal, ErrorModel::hybrid}) {
    FrameCorrections c;
    c.error_model = model;
    const IntegrationResult clipped = ai.sigma_clip(img, c, 3, 5);
    const IntegrationResult plain = ai.integrate(img, c);
    for (std::size_t b = 0; b < clipped.intensity.size(); ++b) {
      if (clipped.count[b] < 50) continue;  // the few bins at the detector's corners
      EXPECT_NEAR(clipped.intensity[b], 3.0, 0.2) << b;
      EXPECT_GT(plain.intensity[b], 100.0) << b;
      if (model == ErrorModel::azimuthal) {
        EXPECT_NEAR(clipped.std_dev[b], 1.0, 0.05) << b;
      }
      EXPECT_NEAR(clipped.sigma[b], clipped.std_dev[b] / std::sqrt(clipped.count[b]), 1e-9 + 0.01 * clipped.sigma[b]);
    }
    // No iteration: the plain mean.
    const IntegrationResult none = ai.sigma_clip(img, c, 3, 0);
    for (std::size_t b = 0; b < none.intensity.size(); ++b) EXPECT_NEAR(none.intensity[b], plain.intensity[b], 1e-9 * plain.intensity[b]);
  }
  FrameCorrections c;
  EXPECT_THROW(ai.sigma_clip(img, c, 3, 5), InvalidArgument);  // no error model
  c.error_model = ErrorModel::poisson;
  EXPECT_THROW(ai.sigma_clip(img, c, -1, 5), InvalidArgument);
  EXPECT_THROW(ai.sigma_clip(img, c, 3, 5000), InvalidArgument);
}

TEST(XrayIntegrator, ProfilesOfAScanThroughTheEngine) {
  IntegrationSetup s;
  s.npt_rad = 12;
  s.splitting = Splitting::bbox;
  s.solid_angle = false;
  auto ai = std::make_shared<const AzimuthalIntegrator>(DetectorGeometry(small_poni(), H, W), s);
  // A 2 x 3 scan of constant frames 1..6 (uint16).
  Array data(DType::u16, {2, 3, H, W});
  for (std::int64_t f = 0; f < 6; ++f)
    std::fill_n(data.data<std::uint16_t>() + f * H * W, H * W, static_cast<std::uint16_t>(f + 1));
  io::MemorySource source(data);
  AzimuthalProfiles profiles(ai);
  engine::Analysis* analyses[] = {&profiles};
  engine::run(source, analyses);
  const std::vector<Result> r = profiles.results();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].data.shape(), (Shape{2, 3, 12}));
  const float* p = r[0].data.data<float>();
  for (std::int64_t f = 0; f < 6; ++f)
    for (std::int64_t k = 0; k < 12; ++k) ASSERT_FLOAT_EQ(p[f * 12 + k], static_cast<float>(f + 1));
  for (std::int64_t k = 0; k < 12; ++k) EXPECT_DOUBLE_EQ(r[1].data.data<double>()[k], 3.5);
  EXPECT_EQ(r[1].axes[0].units, "q_nm^-1");
}

TEST(XrayIntegrator, PixelOrderAndBinOrderPathsAgree) {
  // 1D frames without per-frame checks take the pixel-order path; a threshold that rejects nothing
  // forces the bin-order (CSR) path. Both must give the same sums, and neither may depend on threads.
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.f, 500.f);
  Array img(DType::f32, {H, W});
  for (std::int64_t p = 0; p < H * W; ++p) img.data<float>()[p] = u(rng);
  for (Splitting split : {Splitting::no, Splitting::bbox, Splitting::full}) {
    IntegrationSetup s;
    s.npt_rad = 25;
    s.splitting = split;
    s.polarization_factor = 0.9;
    FrameCorrections fast, csr;
    fast.error_model = csr.error_model = ErrorModel::poisson;
    csr.valid_max = 1e30f;
    auto run = [&](int threads, const FrameCorrections& c) {
      tbb::task_arena arena(threads);
      IntegrationResult r;
      arena.execute([&] { r = AzimuthalIntegrator(DetectorGeometry(small_poni(), H, W), s).integrate(img, c); });
      return r;
    };
    const IntegrationResult a = run(1, fast), b = run(1, csr), a4 = run(4, fast);
    EXPECT_EQ(a.intensity, a4.intensity);
    for (std::size_t k = 0; k < a.intensity.size(); ++k) {
      EXPECT_NEAR(a.intensity[k], b.intensity[k], 1e-12 * std::abs(b.intensity[k]) + 1e-300);
      EXPECT_NEAR(a.sigma[k], b.sigma[k], 1e-12 * std::abs(b.sigma[k]) + 1e-300);
    }
  }
}

TEST(XrayIntegrator, IntegerNoSplitCakeEqualsTheCsrProduct) {
  // 2D without splitting, an integer frame takes the exact image-order path; the same values as
  // float32 take the CSR product. Equal bit for bit, with any thread count.
  IntegrationSetup s;
  s.npt_rad = 20;
  s.npt_azim = 12;
  s.splitting = Splitting::no;
  s.polarization_factor = 0.9;
  const AzimuthalIntegrator ai(DetectorGeometry(small_poni(), H, W), s);
  std::mt19937 rng(4);
  std::poisson_distribution<int> counts(300);
  Array ints(DType::i32, {H, W});
  for (std::int64_t p = 0; p < H * W; ++p) ints.data<std::int32_t>()[p] = counts(rng) - 5;
  const Array floats = ints.astype(DType::f32);
  for (ErrorModel model : {ErrorModel::none, ErrorModel::poisson}) {
    FrameCorrections c;
    c.error_model = model;
    const IntegrationResult ref = ai.integrate(floats, c);
    for (int threads : {1, 3}) {
      tbb::task_arena arena(threads);
      IntegrationResult got;
      arena.execute([&] { got = ai.integrate(ints, c); });
      EXPECT_EQ(got.intensity, ref.intensity);
      EXPECT_EQ(got.sigma, ref.sigma);
      EXPECT_EQ(got.sum_signal, ref.sum_signal);
      EXPECT_EQ(got.count, ref.count);
    }
  }
}

namespace {
// Collects streamed frames in memory (scan order checked).
struct MemorySink : io::FrameSink {
  std::vector<float> values;
  std::int64_t next = 0, frame_values = 0;
  void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) override {
    EXPECT_EQ(first, next);
    const auto* v = reinterpret_cast<const float*>(data);
    values.insert(values.end(), v, v + count * frame_values);
    next = first + count;
  }
};
}  // namespace

TEST(XrayIntegrator, CakesOfAScanEqualSingleImageCakes) {
  IntegrationSetup s;
  s.npt_rad = 14;
  s.npt_azim = 9;
  s.splitting = Splitting::bbox;
  auto ai = std::make_shared<const AzimuthalIntegrator>(DetectorGeometry(small_poni(), H, W), s);
  // A 3 x 4 scan of random uint16 frames.
  Array data(DType::u16, {3, 4, H, W});
  std::mt19937 rng(8);
  std::uniform_int_distribution<int> u(0, 1000);
  for (std::int64_t p = 0; p < 12 * H * W; ++p) data.data<std::uint16_t>()[p] = static_cast<std::uint16_t>(u(rng));
  std::vector<double> first_mean;
  for (int threads : {1, 3}) {
    io::MemorySource source(data);
    MemorySink sink;
    sink.frame_values = 9 * 14;
    AzimuthalCakes cakes(ai, sink);
    engine::Analysis* analyses[] = {&cakes};
    engine::RunOptions options;
    options.threads = threads;
    options.block_frames = threads == 1 ? 5 : 2;
    engine::run(source, analyses, options);
    ASSERT_EQ(sink.values.size(), 12u * 9 * 14);
    std::vector<double> mean(9 * 14, 0.0);
    for (std::int64_t f = 0; f < 12; ++f) {
      const Array frame = Array::borrow(data.data<std::uint16_t>() + f * H * W, DType::u16, {H, W});
      const IntegrationResult one = ai->integrate(frame);
      for (std::size_t k = 0; k < one.intensity.size(); ++k) {
        ASSERT_EQ(sink.values[static_cast<std::size_t>(f) * 126 + k], static_cast<float>(one.intensity[k])) << f;
        mean[k] += static_cast<float>(one.intensity[k]);
      }
    }
    const std::vector<Result> r = cakes.results();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].data.shape(), (Shape{9, 14}));
    std::vector<double> got(r[0].data.data<double>(), r[0].data.data<double>() + 126);
    for (std::size_t k = 0; k < 126; ++k) EXPECT_NEAR(got[k], mean[k] / 12, 1e-9 * std::abs(mean[k]));
    if (first_mean.empty()) {
      first_mean = got;
    } else {
      EXPECT_EQ(got, first_mean);  // independent of threads and blocks
    }
  }
}
