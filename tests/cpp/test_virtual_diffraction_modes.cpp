// Virtual diffraction beyond the plain mean/max: position selection and weights, origin shift
// by integer roll and by Fourier shift, and the exact median (one pass and many, within budget).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>

#include "scandiff/stem/median_diffraction.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "stem_test_util.hpp"

using namespace scandiff;

namespace {

constexpr std::int64_t SY = 5, SX = 6, FY = 12, FX = 10;

// The pattern at position k, as float64, times w, rolled by (sy, sx).
std::vector<double> pattern(const Array& scan, std::int64_t k, double w = 1, std::int64_t sy = 0, std::int64_t sx = 0) {
  std::vector<double> p;
  for (std::int64_t i = 0; i < scan.shape(2); ++i)
    for (std::int64_t j = 0; j < scan.shape(3); ++j) p.push_back(w * test::at(scan, k / scan.shape(1), k % scan.shape(1), i, j));
  return test::roll(p, scan.shape(2), scan.shape(3), sy, sx);
}

void expect_pattern(const Array& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), static_cast<std::int64_t>(want.size())) << what;
  for (std::size_t p = 0; p < want.size(); ++p)
    ASSERT_NEAR(got.data<double>()[p], want[p], tol * std::max(1.0, std::abs(want[p]))) << what << " pixel " << p;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Array scan_mask(const std::vector<double>& values) {
  Array m(DType::f64, {SY, SX});
  std::copy(values.begin(), values.end(), m.data<double>());
  return m;
}

}  // namespace

TEST(VirtualDiffractionModes, SelectionAndWeightsAsPy4dstem) {
  const Array scan = test::random_scan<std::uint16_t>(SY, SX, FY, FX, 51);
  std::vector<double> sel(SY * SX), w(SY * SX);
  std::mt19937 rng(3);
  for (std::size_t k = 0; k < sel.size(); ++k) {
    sel[k] = rng() % 3 == 0 ? 1 : 0;
    w[k] = k % 5 == 0 ? 0.0 : std::uniform_real_distribution<double>(-0.5, 2.0)(rng);
  }
  // Selection: mean and max over the selected positions only.
  stem::VirtualDiffraction vs({.positions = stem::ScanWeights::selection(scan_mask(sel))});
  // Weights: mean = Σ w·DP / Σ w; max over every position of w·DP (zero weights give zeros).
  stem::VirtualDiffraction vw({.positions = stem::ScanWeights::weights(scan_mask(w))});
  test::run_on(scan, {&vs, &vw}, {}, 2, 4);
  std::vector<double> sum(FY * FX, 0), mx(FY * FX, -1e300), wsum(FY * FX, 0), wmax(FY * FX, -1e300);
  double n = 0, wtotal = 0;
  for (std::int64_t k = 0; k < SY * SX; ++k) {
    const auto p = pattern(scan, k), q = pattern(scan, k, w[static_cast<std::size_t>(k)]);
    wtotal += w[static_cast<std::size_t>(k)];
    for (std::size_t i = 0; i < p.size(); ++i) {
      wsum[i] += q[i];
      wmax[i] = std::max(wmax[i], q[i]);
      if (sel[static_cast<std::size_t>(k)] != 0) {
        sum[i] += p[i];
        mx[i] = std::max(mx[i], p[i]);
      }
    }
    n += sel[static_cast<std::size_t>(k)];
  }
  for (auto& s : sum) s /= n;
  for (auto& s : wsum) s /= wtotal;
  expect_pattern(vs.mean(), sum, 0, "selection mean");
  expect_pattern(vs.max(), mx, 0, "selection max");
  expect_pattern(vw.mean(), wsum, 1e-12, "weighted mean");
  expect_pattern(vw.max(), wmax, 0, "weighted max");
}

TEST(VirtualDiffractionModes, RefusesEmptySelectionsZeroWeightsAndWrongShapes) {
  const Array scan = test::random_scan<std::uint8_t>(SY, SX, FY, FX, 52);
  stem::VirtualDiffraction empty({.positions = stem::ScanWeights::selection(scan_mask(std::vector<double>(SY * SX, 0)))});
  EXPECT_THROW(test::run_on(scan, {&empty}), InvalidArgument);
  std::vector<double> w(SY * SX, 0);
  w[0] = 1;
  w[1] = -1;
  stem::VirtualDiffraction zero({.positions = stem::ScanWeights::weights(scan_mask(w))});
  EXPECT_THROW(test::run_on(scan, {&zero}), InvalidArgument);
  stem::VirtualDiffraction shape({.positions = stem::ScanWeights::selection(Array(DType::f64, {SX, SY}))});
  EXPECT_THROW(test::run_on(scan, {&shape}), InvalidArgument);
  stem::VirtualDiffraction no_origin({.shift = stem::CenterShift::integer});
  EXPECT_THROW(test::run_on(scan, {&no_origin}), InvalidArgument);
}

TEST(VirtualDiffractionModes, IntegerShiftRollsEachPatternOntoTheMeanOrigin) {
  // float data with negative values: the shifted max starts from 0, as py4DSTEM's.
  Array scan = test::random_scan<float>(SY, SX, FY, FX, 53);
  for (std::int64_t k = 0; k < scan.size(); ++k) scan.data<float>()[k] -= 70.0f;
  Calibration cal;
  test::set_origin_maps(cal, SY, SX, 5.5, 4.5, 11, 3.3);
  const double my = test::map_mean(cal.origin_qy_map), mx0 = test::map_mean(cal.origin_qx_map);
  std::vector<double> w(SY * SX);
  for (std::size_t k = 0; k < w.size(); ++k) w[k] = 0.25 + 0.1 * static_cast<double>(k % 7);
  stem::VirtualDiffraction vd({.shift = stem::CenterShift::integer});
  stem::VirtualDiffraction vw({.positions = stem::ScanWeights::weights(scan_mask(w)), .shift = stem::CenterShift::integer});
  test::run_on(scan, {&vd, &vw}, cal);
  std::vector<double> sum(FY * FX, 0), mx(FY * FX, 0.0), wsum(FY * FX, 0), wmx(FY * FX, 0.0);
  double wt = 0;
  for (std::int64_t k = 0; k < SY * SX; ++k) {
    const auto sy = static_cast<std::int64_t>(std::nearbyint(my - cal.origin_qy_map.data<double>()[k]));
    const auto sx = static_cast<std::int64_t>(std::nearbyint(mx0 - cal.origin_qx_map.data<double>()[k]));
    const double wk = w[static_cast<std::size_t>(k)];
    const auto p = pattern(scan, k, 1, sy, sx), q = pattern(scan, k, wk, sy, sx);
    wt += wk;
    for (std::size_t i = 0; i < p.size(); ++i) {
      sum[i] += p[i];
      mx[i] = std::max(mx[i], p[i]);
      wsum[i] += q[i];
      wmx[i] = std::max(wmx[i], q[i]);
    }
  }
  for (auto& s : sum) s /= SY * SX;
  for (auto& s : wsum) s /= wt;
  expect_pattern(vd.mean(), sum, 1e-12, "shifted mean");
  expect_pattern(vd.max(), mx, 0, "shifted max");
  expect_pattern(vw.mean(), wsum, 1e-12, "shifted weighted mean");
  expect_pattern(vw.max(), wmx, 0, "shifted weighted max");
  EXPECT_EQ(*std::min_element(vd.max().data<double>(), vd.max().data<double>() + vd.max().size()) >= 0, true);
}

TEST(VirtualDiffractionModes, SubpixelShiftIsTheFourierShift) {
  const Array scan = test::random_scan<std::uint16_t>(3, 4, 6, 8, 54);
  Calibration cal;
  test::set_origin_maps(cal, 3, 4, 2.5, 3.5, 13, 1.7);
  const double my = test::map_mean(cal.origin_qy_map), mx0 = test::map_mean(cal.origin_qx_map);
  stem::VirtualDiffraction vd({.shift = stem::CenterShift::subpixel});
  test::run_on(scan, {&vd}, cal);
  // Direct DFT: DP' = Re IDFT( DFT(DP) · exp(−2πi (fy·dy + fx·dx)) ), fftfreq frequencies.
  using cplx = std::complex<double>;
  const double pi = std::numbers::pi;
  auto freq = [](std::int64_t k, std::int64_t n) { return static_cast<double>(k < (n + 1) / 2 ? k : k - n) / static_cast<double>(n); };
  std::vector<double> sum(48, 0), mx(48, 0.0);
  for (std::int64_t k = 0; k < 12; ++k) {
    const double dy = my - cal.origin_qy_map.data<double>()[k], dx = mx0 - cal.origin_qx_map.data<double>()[k];
    const auto p = pattern(scan, k);
    std::vector<cplx> F(48);
    for (int u = 0; u < 6; ++u)
      for (int v = 0; v < 8; ++v) {
        cplx s = 0;
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 8; ++j) s += p[static_cast<std::size_t>(i * 8 + j)] * std::polar(1.0, -2 * pi * (u * i / 6.0 + v * j / 8.0));
        F[static_cast<std::size_t>(u * 8 + v)] = s * std::polar(1.0, -2 * pi * (freq(u, 6) * dy + freq(v, 8) * dx));
      }
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 8; ++j) {
        cplx s = 0;
        for (int u = 0; u < 6; ++u)
          for (int v = 0; v < 8; ++v) s += F[static_cast<std::size_t>(u * 8 + v)] * std::polar(1.0, 2 * pi * (u * i / 6.0 + v * j / 8.0));
        const double val = s.real() / 48;
        sum[static_cast<std::size_t>(i * 8 + j)] += val;
        mx[static_cast<std::size_t>(i * 8 + j)] = std::max(mx[static_cast<std::size_t>(i * 8 + j)], val);
      }
  }
  for (auto& s : sum) s /= 12;
  expect_pattern(vd.mean(), sum, 1e-10, "Fourier-shifted mean");
  expect_pattern(vd.max(), mx, 1e-10, "Fourier-shifted max");

  // Whole-pixel shifts: the Fourier shift is the roll.
  Calibration whole;
  whole.origin_qy_map = Array(DType::f64, {3, 4});
  whole.origin_qx_map = Array(DType::f64, {3, 4});
  for (std::int64_t k = 0; k < 12; ++k) {
    whole.origin_qy_map.data<double>()[k] = static_cast<double>(k % 3) - 1;
    whole.origin_qx_map.data<double>()[k] = 2.0 * static_cast<double>(k % 2) - 1;  // mean 0: whole shifts
  }
  stem::VirtualDiffraction fourier({.shift = stem::CenterShift::subpixel}), roll({.shift = stem::CenterShift::integer});
  test::run_on(scan, {&fourier, &roll}, whole);
  for (std::int64_t p = 0; p < 48; ++p) {
    EXPECT_NEAR(fourier.mean().data<double>()[p], roll.mean().data<double>()[p], 1e-9);
    EXPECT_NEAR(fourier.max().data<double>()[p], roll.max().data<double>()[p], 1e-9);
  }
}

TEST(MedianDiffraction, ExactMedianOfAllSelectedAndWeightedPositions) {
  for (int kind = 0; kind < 2; ++kind) {
    const Array scan = kind == 0 ? test::random_scan<std::uint16_t>(SY, SX, FY, FX, 61)
                                 : test::random_scan<float>(SY, SX, FY, FX, 62);
    std::vector<double> sel(SY * SX, 0), w(SY * SX);
    for (std::size_t k = 0; k < sel.size(); ++k) {
      sel[k] = k % 3 == 1 ? 1 : 0;  // 10 positions: an even count
      w[k] = k % 4 == 0 ? 0 : 0.3 + 0.05 * static_cast<double>(k);
    }
    const stem::ScanWeights cases[] = {stem::ScanWeights(), stem::ScanWeights::selection(scan_mask(sel)),
                                       stem::ScanWeights::weights(scan_mask(w))};
    for (const auto& positions : cases) {
      io::MemorySource src(scan);
      const Result r = stem::median_diffraction(src, {.positions = positions});
      EXPECT_EQ(r.name, "median_diffraction");
      EXPECT_EQ(r.provenance["passes"], 1);
      for (std::int64_t p = 0; p < FY * FX; ++p) {
        std::vector<double> v;
        for (std::int64_t k = 0; k < SY * SX; ++k)
          if (positions.included(k)) v.push_back(positions.weight(k) * test::at(scan, k / SX, k % SX, p / FX, p % FX));
        ASSERT_EQ(r.data.data<double>()[p], median_of(v)) << "pixel " << p << " kind " << kind;
      }
    }
  }
}

TEST(MedianDiffraction, ManyPassesWithinASmallBudgetGiveTheSameMedian) {
  const Array scan = test::random_scan<std::uint16_t>(9, 8, 16, 14, 63);
  Calibration cal;
  test::set_origin_maps(cal, 9, 8, 7.5, 6.5, 17, 2.8);
  for (const auto shift : {stem::CenterShift::none, stem::CenterShift::integer}) {
    io::MemorySource src(scan, cal);
    const Result one = stem::median_diffraction(src, {.shift = shift});
    engine::RunOptions small;
    // 72 positions x 2 B = 144 B per pixel; half the budget for the tile: 40 pixels, 6 passes of 224 pixels.
    small.memory_budget = 2 * 144 * 40;
    small.threads = 2;
    std::int64_t last = 0, total = 0;
    small.progress = [&](std::int64_t done, std::int64_t t, std::string_view) {
      EXPECT_GT(done, last);
      last = done;
      total = t;
      return true;
    };
    const Result many = stem::median_diffraction(src, {.shift = shift}, small);
    EXPECT_EQ(many.provenance["passes"], 6);
    EXPECT_EQ(total, 6 * 72);
    EXPECT_EQ(last, total);
    EXPECT_EQ(std::memcmp(one.data.bytes(), many.data.bytes(), one.data.nbytes()), 0);
    if (shift == stem::CenterShift::none) continue;
    const double my = test::map_mean(cal.origin_qy_map), mx = test::map_mean(cal.origin_qx_map);
    std::vector<std::vector<double>> rolled;
    for (std::int64_t k = 0; k < 72; ++k)
      rolled.push_back(pattern(scan, k, 1, static_cast<std::int64_t>(std::nearbyint(my - cal.origin_qy_map.data<double>()[k])),
                               static_cast<std::int64_t>(std::nearbyint(mx - cal.origin_qx_map.data<double>()[k]))));
    for (std::size_t p = 0; p < 16 * 14; ++p) {
      std::vector<double> v;
      for (const auto& r : rolled) v.push_back(r[p]);
      ASSERT_EQ(one.data.data<double>()[p], median_of(v)) << "pixel " << p;
    }
  }
}

TEST(MedianDiffraction, RefusesSubpixelShiftsAndBudgetsBelowOnePixel) {
  const Array scan = test::random_scan<std::uint16_t>(4, 4, 8, 8, 64);
  Calibration cal;
  test::set_origin_maps(cal, 4, 4, 4, 4, 1);
  io::MemorySource src(scan, cal);
  EXPECT_THROW(stem::median_diffraction(src, {.shift = stem::CenterShift::subpixel}), InvalidArgument);
  engine::RunOptions tiny;
  tiny.memory_budget = 40;
  EXPECT_THROW(stem::median_diffraction(src, {}, tiny), BudgetError);
}
