// Per-frame bin filters over scans: AzimuthalProfiles / AzimuthalCakes with the quantile filter and
// sigma clipping give, at every position, the single-image median_filter / sigma_clip result of
// that frame bit for bit (as float32), for 1 and 2 threads; bad filter parameters are refused.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/frame_sink.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/xray/azimuthal_cakes.hpp"
#include "scandiff/xray/azimuthal_profiles.hpp"
#include "scandiff/xray/bin_filter.hpp"

using namespace scandiff;
using namespace scandiff::xray;

namespace {

constexpr std::int64_t H = 48, W = 56, SY = 3, SX = 4, N = SY * SX;

PoniGeometry tilted_poni() {
  PoniGeometry p;
  p.distance_m = 0.05;
  p.poni1_m = 0.0023;
  p.poni2_m = 0.0031;
  p.rot1_rad = 0.02;
  p.rot2_rad = -0.01;
  p.pixel1_m = p.pixel2_m = 1e-4;
  p.wavelength_m = 1e-10;
  return p;
}

std::shared_ptr<const AzimuthalIntegrator> make_integrator(Splitting splitting, std::int64_t npt_azim = 0) {
  IntegrationSetup s;
  s.npt_rad = 20;
  s.npt_azim = npt_azim;
  s.splitting = splitting;
  s.polarization_factor = 0.9;
  return std::make_shared<const AzimuthalIntegrator>(DetectorGeometry(tilted_poni(), H, W), s);
}

// A (SY, SX, H, W) uint16 scan: Poisson-like noise around 100 with 1 pixel in 53 a zinger.
Array noisy_scan() {
  Array data(DType::u16, {SY, SX, H, W});
  std::mt19937 rng(11);
  std::poisson_distribution<int> counts(100);
  std::uint16_t* d = data.data<std::uint16_t>();
  for (std::int64_t p = 0; p < N * H * W; ++p)
    d[p] = static_cast<std::uint16_t>(p % 53 == 0 ? 30000 : counts(rng));
  return data;
}

Array frame_of(const Array& scan, std::int64_t f) {
  return Array::borrow(const_cast<std::uint16_t*>(scan.data<std::uint16_t>()) + f * H * W, DType::u16, {H, W});
}

const Result& named(const std::vector<Result>& results, const std::string& name) {
  for (const Result& r : results)
    if (r.name == name) return r;
  throw std::runtime_error("no result " + name);
}

// Position f of a (SY, SX, npt) float32 result equals `expected` as float32, bin for bin.
void expect_position(const Result& r, std::int64_t f, const std::vector<double>& expected) {
  ASSERT_EQ(r.data.shape(), (Shape{SY, SX, static_cast<std::int64_t>(expected.size())})) << r.name;
  const float* got = r.data.data<float>() + f * static_cast<std::int64_t>(expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k)
    ASSERT_EQ(got[k], static_cast<float>(expected[k])) << r.name << " position " << f << " bin " << k;
}

struct Case {
  BinFilter filter;
  ErrorModel error_model;
  Splitting splitting;
};

}  // namespace

class XrayScanFilter : public testing::TestWithParam<Case> {};

TEST_P(XrayScanFilter, EachPositionEqualsTheSingleImageResult) {
  const Case c = GetParam();
  const auto ai = make_integrator(c.splitting);
  const Array scan = noisy_scan();
  FrameCorrections corr;
  corr.error_model = c.error_model;
  const bool clip = c.filter.kind == BinFilter::Kind::sigma_clip;
  for (int threads : {1, 2}) {
    io::MemorySource source(scan);
    AzimuthalProfiles profiles(ai, corr, c.filter);
    engine::Analysis* analyses[] = {&profiles};
    engine::RunOptions options;
    options.threads = threads;
    options.block_frames = threads == 1 ? 5 : 2;
    engine::run(source, analyses, options);
    const std::vector<Result> r = profiles.results();
    ASSERT_EQ(r.size(), 2u + (c.error_model != ErrorModel::none ? 1u : 0u) + (clip ? 2u : 0u));
    EXPECT_EQ(r[0].provenance["filter"], describe(c.filter));
    for (std::int64_t f = 0; f < N; ++f) {
      FrameCorrections single = corr;
      single.keep_sums = true;  // the count comes with the sums
      const IntegrationResult one = clip ? ai->sigma_clip(frame_of(scan, f), single, c.filter.threshold,
                                                          c.filter.max_iter)
                                         : ai->median_filter(frame_of(scan, f), single,
                                                             c.filter.percentile_low / 100,
                                                             c.filter.percentile_high / 100);
      expect_position(named(r, "azimuthal_profiles"), f, one.intensity);
      if (c.error_model != ErrorModel::none) expect_position(named(r, "sigma_profiles"), f, one.sigma);
      if (clip) {
        expect_position(named(r, "std_profiles"), f, one.std_dev);
        expect_position(named(r, "count_profiles"), f, one.count);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Filters, XrayScanFilter,
    testing::Values(Case{BinFilter::quantile(50, 50), ErrorModel::none, Splitting::bbox},
                    Case{BinFilter::quantile(25, 75), ErrorModel::poisson, Splitting::full},
                    Case{BinFilter::quantile(10, 90), ErrorModel::azimuthal, Splitting::no},
                    Case{BinFilter::sigma_clipping(3, 5), ErrorModel::poisson, Splitting::no},
                    Case{BinFilter::sigma_clipping(2.5, 3), ErrorModel::azimuthal, Splitting::no},
                    Case{BinFilter::sigma_clipping(3, 5), ErrorModel::hybrid, Splitting::bbox}));

TEST(XrayScanFilter, SigmaClipRemovesZingersFromEveryPosition) {
  const auto ai = make_integrator(Splitting::no);
  const Array scan = noisy_scan();
  FrameCorrections corr;
  corr.error_model = ErrorModel::azimuthal;
  io::MemorySource source(scan);
  AzimuthalProfiles mean(ai, corr), clipped(ai, corr, BinFilter::sigma_clipping(3, 5));
  engine::Analysis* analyses[] = {&mean, &clipped};
  engine::run(source, analyses);
  const std::vector<Result> mean_results = mean.results(), clipped_results = clipped.results();
  const Result& m = named(mean_results, "azimuthal_profiles");
  const Result& c = named(clipped_results, "azimuthal_profiles");
  const Result& count = named(clipped_results, "count_profiles");
  // Bins of enough pixels: the zingers (30000 counts, 1 pixel in 53) pull most means far above
  // ~100 (corrected for polarization and solid angle), the clipped means all stay near it.
  int checked = 0, pulled = 0;
  for (std::int64_t i = 0; i < N * 20; ++i) {
    if (count.data.data<float>()[i] < 60) continue;
    EXPECT_LT(c.data.data<float>()[i], 150) << i;
    EXPECT_GT(c.data.data<float>()[i], 80) << i;
    pulled += m.data.data<float>()[i] > c.data.data<float>()[i] + 100 ? 1 : 0;
    ++checked;
  }
  EXPECT_GT(checked, N * 5);
  EXPECT_GT(pulled, checked / 2);
}

TEST(XrayScanFilter, CakesEqualSingleImageFilteredCakes) {
  const auto ai = make_integrator(Splitting::bbox, 6);
  const Array scan = noisy_scan();
  struct Sink : io::FrameSink {
    std::vector<float> values;
    void write_frames(std::int64_t, std::int64_t count, const std::byte* data) override {
      const auto* v = reinterpret_cast<const float*>(data);
      values.insert(values.end(), v, v + count * 6 * 20);
    }
  };
  FrameCorrections corr;
  corr.error_model = ErrorModel::poisson;
  for (const BinFilter& filter : {BinFilter::quantile(50, 50), BinFilter::sigma_clipping(3, 4)}) {
    io::MemorySource source(scan);
    Sink sink;
    AzimuthalCakes cakes(ai, sink, corr, filter);
    engine::Analysis* analyses[] = {&cakes};
    engine::RunOptions options;
    options.threads = 2;
    options.block_frames = 3;
    engine::run(source, analyses, options);
    ASSERT_EQ(sink.values.size(), static_cast<std::size_t>(N * 6 * 20));
    for (std::int64_t f = 0; f < N; ++f) {
      IntegrationResult one;
      integrate_filtered(*ai, frame_of(scan, f), corr, filter, one);
      for (std::size_t k = 0; k < one.intensity.size(); ++k)
        ASSERT_EQ(sink.values[static_cast<std::size_t>(f) * 120 + k], static_cast<float>(one.intensity[k])) << f;
    }
  }
}

TEST(XrayScanFilter, BadParametersAreRefused) {
  const auto ai = make_integrator(Splitting::no);
  FrameCorrections none, poisson;
  poisson.error_model = ErrorModel::poisson;
  EXPECT_THROW(AzimuthalProfiles(ai, none, BinFilter::sigma_clipping(3, 5)), InvalidArgument);  // no error model
  EXPECT_THROW(AzimuthalProfiles(ai, poisson, BinFilter::sigma_clipping(-1, 5)), InvalidArgument);
  EXPECT_THROW(AzimuthalProfiles(ai, poisson, BinFilter::sigma_clipping(NAN, 5)), InvalidArgument);
  EXPECT_THROW(AzimuthalProfiles(ai, poisson, BinFilter::sigma_clipping(3, 5000)), InvalidArgument);
  EXPECT_THROW(AzimuthalProfiles(ai, poisson, BinFilter::sigma_clipping(3, -1)), InvalidArgument);
  EXPECT_THROW(AzimuthalProfiles(ai, none, BinFilter::quantile(50, 150)), InvalidArgument);
  EXPECT_THROW(AzimuthalProfiles(ai, none, BinFilter::quantile(-5, 50)), InvalidArgument);
  EXPECT_THROW(AzimuthalProfiles(ai, none, BinFilter::quantile(NAN, 50)), InvalidArgument);
  struct NullSink : io::FrameSink {
    void write_frames(std::int64_t, std::int64_t, const std::byte*) override {}
  } sink;
  EXPECT_THROW(AzimuthalCakes(make_integrator(Splitting::no, 4), sink, none, BinFilter::sigma_clipping(3, 5)),
               InvalidArgument);
  try {
    AzimuthalProfiles(ai, none, BinFilter::sigma_clipping(3, 5));
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("error model"), std::string::npos) << e.what();
  }
  // Accepted: reversed percentiles (sorted when applied), sigma clipping without iterations.
  EXPECT_NO_THROW(AzimuthalProfiles(ai, none, BinFilter::quantile(75, 25)));
  EXPECT_NO_THROW(AzimuthalProfiles(ai, poisson, BinFilter::sigma_clipping(0, 0)));
}

TEST(XrayScanFilter, DescriptionsAndMetadata) {
  EXPECT_EQ(describe(BinFilter{}), "mean");
  EXPECT_EQ(describe(BinFilter::quantile(50, 50)), "quantile 50%");
  EXPECT_EQ(describe(BinFilter::quantile(25, 75.5)), "mean of quantiles 25%..75.5%");
  EXPECT_EQ(describe(BinFilter::sigma_clipping(3, 5)), "sigma clipping (sigma_clip_ng) threshold 3, at most 5 iterations");
  const Metadata q = filter_metadata(BinFilter::quantile(25, 75));
  EXPECT_EQ(q["percentile"][0], 25.0);
  EXPECT_EQ(q["percentile"][1], 75.0);
  const Metadata s = filter_metadata(BinFilter::sigma_clipping(2.5, 4));
  EXPECT_EQ(s["sigma_clip_threshold"], 2.5);
  EXPECT_EQ(s["max_iter"], 4);
  EXPECT_EQ(filter_metadata(BinFilter{}).size(), 1u);
}
