// ResampleQ: bilinear resampling of every pattern (py4DSTEM resample_data_diffraction "bilinear",
// scipy.ndimage.zoom order=1, mode="nearest", grid_mode=True) and its calibration.
#include <gtest/gtest.h>

#include <cmath>

#include "frame_stage_test_util.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/resample_q.hpp"
#include "scandiff/io/memory_source.hpp"

using namespace scandiff;

using test::apply_stage;

TEST(ResampleQ, FactorOneIsTheIdentity) {
  Array scan(DType::u16, {1, 2, 5, 7});
  for (std::int64_t i = 0; i < scan.size(); ++i) scan.data<std::uint16_t>()[i] = static_cast<std::uint16_t>(i * 37 % 1000);
  engine::ResampleQ stage(1.0);
  io::DatasetInfo info;
  const Array out = apply_stage(stage, scan, &info);
  ASSERT_EQ(info.dtype, DType::f32);
  ASSERT_EQ(out.shape(), scan.shape());
  for (std::int64_t i = 0; i < scan.size(); ++i)
    ASSERT_EQ(out.data<float>()[i], static_cast<float>(scan.data<std::uint16_t>()[i]));
}

TEST(ResampleQ, UpsamplingALinearRampIsExactAwayFromTheEdges) {
  // f(y, x) = 3 y + 2 x + 1 on an 8×8 frame, resampled ×2 to 16×16: output pixel o samples
  // input coordinate (o + 0.5)/2 − 0.5, so away from the clamped edges out = f(c_y, c_x).
  Array scan(DType::f64, {1, 1, 8, 8});
  auto in = scan.view<double, 4>();
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) in(0, 0, y, x) = 3 * y + 2 * x + 1;
  engine::ResampleQ stage(2.0);
  const Array out = apply_stage(stage, scan);
  ASSERT_EQ(out.shape(), (Shape{1, 1, 16, 16}));
  auto o = out.view<const float, 4>();
  for (int i = 1; i < 15; ++i)
    for (int j = 1; j < 15; ++j) {
      const double cy = (i + 0.5) / 2 - 0.5, cx = (j + 0.5) / 2 - 0.5;
      ASSERT_NEAR(o(0, 0, i, j), 3 * cy + 2 * cx + 1, 1e-5) << i << "," << j;
    }
  // Edges clamp to the first / last input pixel (mode "nearest").
  EXPECT_FLOAT_EQ(o(0, 0, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(o(0, 0, 15, 15), 3 * 7 + 2 * 7 + 1);
}

TEST(ResampleQ, DownsamplingByHalfAveragesPixelPairsOnTheGrid) {
  // ×0.5: output o samples input 2o + 0.5, the mean of pixels 2o and 2o + 1 on each axis.
  Array scan(DType::u8, {1, 1, 4, 6});
  for (std::int64_t i = 0; i < scan.size(); ++i) scan.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 7 % 50);
  engine::ResampleQ stage(0.5);
  const Array out = apply_stage(stage, scan);
  ASSERT_EQ(out.shape(), (Shape{1, 1, 2, 3}));
  auto in = scan.view<const std::uint8_t, 4>();
  auto o = out.view<const float, 4>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      const double mean = (in(0, 0, 2 * i, 2 * j) + in(0, 0, 2 * i, 2 * j + 1) + in(0, 0, 2 * i + 1, 2 * j) +
                           in(0, 0, 2 * i + 1, 2 * j + 1)) / 4.0;
      EXPECT_NEAR(o(0, 0, i, j), mean, 1e-5);
    }
  engine::ResampleQ conserve(0.5, true);
  const Array summed = apply_stage(conserve, scan);
  const float expected = 4 * o(0, 0, 1, 2);
  EXPECT_NEAR((summed.view<const float, 4>()(0, 0, 1, 2)), expected, 1e-4);
}

TEST(ResampleQ, CalibrationFollowsThePixels) {
  Array scan(DType::u16, {1, 1, 16, 16});
  Calibration cal;
  cal.detector_pixel_size = 0.01;
  cal.detector_units = "A^-1";
  cal.origin_qy_px = 7.5;
  cal.origin_qx_px = 3.0;
  cal.ellipse = Ellipse{6, 4, 0.3};
  io::MemorySource src(scan, cal);
  engine::ResampleQ stage(2.0);
  const io::DatasetInfo out = stage.prepare(src.info());
  EXPECT_EQ(out.frame_y, 32);
  EXPECT_DOUBLE_EQ(out.calibration.detector_pixel_size, 0.005);
  // q' = (q + 0.5)/s − 0.5 with s = 0.5.
  EXPECT_DOUBLE_EQ(*out.calibration.origin_qy_px, 15.5);
  EXPECT_DOUBLE_EQ(*out.calibration.origin_qx_px, 6.5);
  EXPECT_DOUBLE_EQ(out.calibration.ellipse->a_px, 12);
  EXPECT_DOUBLE_EQ(out.calibration.ellipse->b_px, 8);
}

TEST(ResampleQ, RefusesAbsurdFactorsAndUnequalAxisScales) {
  EXPECT_THROW(engine::ResampleQ(0), InvalidArgument);
  EXPECT_THROW(engine::ResampleQ(-2), InvalidArgument);
  EXPECT_THROW(engine::ResampleQ(100), InvalidArgument);
  EXPECT_THROW(engine::ResampleQ(std::nan("")), InvalidArgument);
  // 0.5 of a 5×8 frame: 3×4 (round half to even is not used: llround(2.5) = 3), scales 5/3 and 2.
  Array scan(DType::u16, {1, 1, 5, 8});
  io::MemorySource src(scan);
  engine::ResampleQ half(0.5);
  EXPECT_THROW(half.prepare(src.info()), InvalidArgument);
  engine::ResampleQ tiny(1.0 / 64);
  Array small(DType::u16, {1, 1, 16, 16});
  io::MemorySource small_src(small);
  EXPECT_THROW(tiny.prepare(small_src.info()), InvalidArgument);
}
