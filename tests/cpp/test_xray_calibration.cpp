// Geometry calibration: calibrant files, and recovery of a known geometry from a synthetic ring
// image (Gaussian rings at the calibrant's 2θ) starting from a perturbed geometry.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "scandiff/core/error.hpp"
#include "scandiff/xray/calibration.hpp"

namespace fs = std::filesystem;
using namespace scandiff;
using namespace scandiff::xray;

namespace {

PoniGeometry truth() {
  PoniGeometry p;
  p.distance_m = 0.1;
  p.pixel1_m = p.pixel2_m = 1e-4;
  p.poni1_m = 0.0312;
  p.poni2_m = 0.0287;
  p.rot1_rad = 0.012;
  p.rot2_rad = -0.018;
  p.rot3_rad = 0.1;
  p.wavelength_m = 0.5e-10;
  p.orientation = 2;
  return p;
}

// CeO2's first reflections (NIST SRM 674b, a = 5.411651 Å), d in Å.
const std::vector<double> d_ceo2 = {3.12441816, 2.70582550, 1.91331795, 1.63169903, 1.56220908,
                                    1.35291275, 1.24152693, 1.21008389, 1.10465189, 1.04147272};

Array ring_image(const PoniGeometry& p, std::int64_t rows, std::int64_t cols) {
  const DetectorGeometry g(p, rows, cols);
  const std::vector<double> tth = g.center_map(Quantity::two_theta);
  const std::vector<double> rings = ring_two_theta(d_ceo2, p.wavelength_m);
  const double sigma = 0.06 * M_PI / 180;
  Array img(DType::f32, {rows, cols});
  float* v = img.data<float>();
  for (std::size_t k = 0; k < tth.size(); ++k) {
    double s = 10;
    for (double t : rings) s += 1000 * std::exp(-0.5 * (tth[k] - t) * (tth[k] - t) / (sigma * sigma));
    v[k] = static_cast<float>(s);
  }
  return img;
}

}  // namespace

TEST(XrayCalibration, RingAnglesAndUnreachableRings) {
  const auto t = ring_two_theta({2.0, 0.1}, 1e-10);
  EXPECT_NEAR(t[0], 2 * std::asin(0.25), 1e-15);
  EXPECT_TRUE(std::isnan(t[1]));  // λ / 2d = 5
}

TEST(XrayCalibration, RecoversASyntheticGeometry) {
  const PoniGeometry p = truth();
  const std::int64_t rows = 620, cols = 580;
  const Array img = ring_image(p, rows, cols);
  PoniGeometry start = p;
  start.distance_m *= 1.01;
  start.poni1_m += 3 * p.pixel1_m;
  start.poni2_m -= 2 * p.pixel2_m;
  start.rot1_rad += 0.004;
  const RefineResult r = calibrate(img, start, d_ceo2);
  EXPECT_NEAR(r.geometry.distance_m / p.distance_m, 1.0, 1e-4);
  EXPECT_NEAR(r.geometry.poni1_m / p.pixel1_m, p.poni1_m / p.pixel1_m, 0.1);
  EXPECT_NEAR(r.geometry.poni2_m / p.pixel2_m, p.poni2_m / p.pixel2_m, 0.1);
  EXPECT_NEAR(r.geometry.rot1_rad, p.rot1_rad, 2e-4);
  EXPECT_NEAR(r.geometry.rot2_rad, p.rot2_rad, 2e-4);
  // The covariance: 5 parameters, positive standard errors, |correlations| <= 1, and the known
  // geometry within a few standard errors in the PONI.
  ASSERT_EQ(r.parameters(), 5);
  for (int k = 0; k < 5; ++k) EXPECT_GT(r.std_error(k), 0) << k;
  EXPECT_LE(std::abs(r.correlation(2, 3)), 1.0 + 1e-9);
  EXPECT_LT(r.std_error(1) / p.pixel1_m, 0.5);
  EXPECT_EQ(r.geometry.rot3_rad, p.rot3_rad);
  EXPECT_LT(r.rms_residual_rad, 1e-4);
}

TEST(XrayCalibration, TooFewPointsIsAClearError) {
  EXPECT_THROW(refine_geometry(truth(), 100, 100, {{1, 1, 0}, {2, 2, 0}}, d_ceo2), InvalidArgument);
}
