// Preparation stages: exact crop/bin/pad/repair, dtype promotion without overflow, calibration
// mapping, the analyses seeing the prepared frames, thread-count invariance, memory plan.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "frame_stage_test_util.hpp"
#include "scandiff/engine/bin_q.hpp"
#include "scandiff/engine/crop_q.hpp"
#include "scandiff/engine/pad_q.hpp"
#include "scandiff/engine/pixel_repair.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"

using namespace scandiff;

namespace {

template <class T>
Array random_scan(std::int64_t sy, std::int64_t sx, std::int64_t fy, std::int64_t fx, unsigned seed, double top) {
  Array a(dtype_v<T>, {sy, sx, fy, fx});
  std::mt19937_64 rng(seed);
  T* p = a.data<T>();
  for (std::int64_t i = 0; i < a.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      p[i] = static_cast<T>(std::uniform_real_distribution<double>(-top, top)(rng));
    else
      p[i] = static_cast<T>(std::uniform_real_distribution<double>(0, top + 1)(rng));
  }
  return a;
}

using test::apply_stage;

bool bitwise_equal(const Array& a, const Array& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

}  // namespace

TEST(BinQ, SumsExactlyAndPromotesUint16WithoutOverflow) {
  // Values near the top of uint16: a 4x4 sum reaches 16 * 65535, far beyond uint16.
  const Array scan = random_scan<std::uint16_t>(2, 3, 18, 21, 1, 65535);  // 18 = 4*4 + 2, 21 = 4*5 + 1
  engine::BinQ bin(4);
  io::DatasetInfo info;
  const Array out = apply_stage(bin, scan, &info);
  ASSERT_EQ(out.dtype(), DType::u32);
  ASSERT_EQ(out.shape(), (Shape{2, 3, 4, 5}));  // remainder rows/columns dropped
  auto in = scan.view<const std::uint16_t, 4>();
  auto o = out.view<const std::uint32_t, 4>();
  std::uint32_t largest = 0;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 5; ++j) {
          std::uint64_t s = 0;
          for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) s += in(y, x, 4 * i + a, 4 * j + b);
          ASSERT_EQ(o(y, x, i, j), s) << y << x << i << j;
          largest = std::max(largest, o(y, x, i, j));
        }
  EXPECT_GT(largest, 65535u * 8);  // would have wrapped in uint16
}

TEST(BinQ, MaximalUint16SumFitsUint32AtFactor256) {
  Array scan(DType::u16, {1, 1, 256, 256});
  std::fill_n(scan.data<std::uint16_t>(), scan.size(), std::uint16_t{65535});
  engine::BinQ bin(256);
  const Array out = apply_stage(bin, scan);
  EXPECT_EQ(out.data<std::uint32_t>()[0], 65535u * 65536u);
}

TEST(BinQ, DtypePromotionTableAndExactSumsForEveryDtype) {
  EXPECT_EQ(sum_dtype(DType::u8), DType::u32);
  EXPECT_EQ(sum_dtype(DType::u16), DType::u32);
  EXPECT_EQ(sum_dtype(DType::u32), DType::f64);
  EXPECT_EQ(sum_dtype(DType::i32), DType::f64);
  EXPECT_EQ(sum_dtype(DType::f32), DType::f32);
  EXPECT_EQ(sum_dtype(DType::f64), DType::f64);
  {  // uint32 near the top: the float64 sum is exact.
    const Array scan = random_scan<std::uint32_t>(1, 2, 6, 6, 2, 4294967295.0);
    engine::BinQ bin(3);
    const Array out = apply_stage(bin, scan);
    ASSERT_EQ(out.dtype(), DType::f64);
    auto in = scan.view<const std::uint32_t, 4>();
    auto o = out.view<const double, 4>();
    for (int x = 0; x < 2; ++x)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          std::uint64_t s = 0;
          for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) s += in(0, x, 3 * i + a, 3 * j + b);
          EXPECT_EQ(o(0, x, i, j), static_cast<double>(s));
          EXPECT_EQ(static_cast<std::uint64_t>(o(0, x, i, j)), s);  // exact, not rounded
        }
  }
  {  // int32 with negative values, uint8.
    Array scan(DType::i32, {1, 1, 2, 2});
    std::int32_t* p = scan.data<std::int32_t>();
    p[0] = -2147483647 - 1;
    p[1] = -2147483647 - 1;
    p[2] = 5;
    p[3] = -7;
    engine::BinQ bin(2);
    EXPECT_EQ(apply_stage(bin, scan).data<double>()[0], -4294967296.0 - 2.0);
    Array u8(DType::u8, {1, 1, 4, 4});
    std::fill_n(u8.data<std::uint8_t>(), 16, std::uint8_t{255});
    engine::BinQ bin4(4);
    EXPECT_EQ(apply_stage(bin4, u8).data<std::uint32_t>()[0], 255u * 16);
  }
  {  // float32: summed in float64, rounded once.
    const Array scan = random_scan<float>(1, 1, 4, 4, 3, 1000);
    engine::BinQ bin(2);
    const Array out = apply_stage(bin, scan);
    ASSERT_EQ(out.dtype(), DType::f32);
    auto in = scan.view<const float, 4>();
    double s = 0;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) s += in(0, 0, a, b);
    EXPECT_EQ(out.data<float>()[0], static_cast<float>(s));
  }
}

TEST(BinQ, CalibrationIsExpressedInBinnedPixels) {
  Array scan(DType::u16, {2, 2, 16, 16});
  Calibration cal;
  cal.detector_pixel_size = 0.01;
  cal.detector_units = "A^-1";
  cal.origin_qy_px = 7.5;
  cal.origin_qx_px = 9.0;
  cal.origin_qy_map = Array(DType::f64, {2, 2});
  std::fill_n(cal.origin_qy_map.data<double>(), 4, 7.5);
  cal.ellipse = Ellipse{6, 4, 0.3};
  io::MemorySource src(scan, cal);
  engine::BinQ bin(4);
  const io::DatasetInfo out = bin.prepare(src.info());
  EXPECT_DOUBLE_EQ(out.calibration.detector_pixel_size, 0.04);
  // Binned pixel I covers old pixels 4I..4I+3, centre 4I + 1.5: old 7.5 -> 1.5, old 9 -> 1.875.
  EXPECT_DOUBLE_EQ(*out.calibration.origin_qy_px, 1.5);
  EXPECT_DOUBLE_EQ(*out.calibration.origin_qx_px, 1.875);
  EXPECT_DOUBLE_EQ(out.calibration.origin_qy_map.data<double>()[3], 1.5);
  EXPECT_DOUBLE_EQ(out.calibration.ellipse->a_px, 1.5);
  EXPECT_DOUBLE_EQ(out.calibration.ellipse->b_px, 1.0);
  EXPECT_DOUBLE_EQ(out.calibration.ellipse->theta_rad, 0.3);
  EXPECT_DOUBLE_EQ(*cal.origin_qy_px, 7.5);  // the input is untouched
  EXPECT_DOUBLE_EQ(cal.origin_qy_map.data<double>()[3], 7.5);
  EXPECT_THROW(engine::BinQ(0), InvalidArgument);
  EXPECT_THROW(engine::BinQ(257), InvalidArgument);
  engine::BinQ big(17);
  EXPECT_THROW(big.prepare(src.info()), InvalidArgument);
}

TEST(CropQ, CopiesTheRectangleAndMovesTheOrigin) {
  const Array scan = random_scan<std::int32_t>(2, 2, 10, 12, 4, 1000);
  engine::CropQ crop(2, 7, 3, 12);
  io::DatasetInfo info;
  const Array out = apply_stage(crop, scan, &info);
  ASSERT_EQ(out.shape(), (Shape{2, 2, 5, 9}));
  auto in = scan.view<const std::int32_t, 4>();
  auto o = out.view<const std::int32_t, 4>();
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 9; ++j) ASSERT_EQ(o(y, x, i, j), in(y, x, i + 2, j + 3));
  Calibration cal;
  cal.origin_qy_px = 5;
  cal.origin_qx_px = 6;
  io::MemorySource src(scan, cal);
  const io::DatasetInfo moved = crop.prepare(src.info());
  EXPECT_DOUBLE_EQ(*moved.calibration.origin_qy_px, 3);
  EXPECT_DOUBLE_EQ(*moved.calibration.origin_qx_px, 3);
  engine::CropQ bad(0, 11, 0, 4), empty(3, 3, 0, 4);
  EXPECT_THROW(bad.prepare(src.info()), InvalidArgument);
  EXPECT_THROW(empty.prepare(src.info()), InvalidArgument);
}

TEST(PadQ, SurroundsTheFrameWithTheValue) {
  const Array scan = random_scan<std::uint16_t>(1, 2, 3, 4, 5, 100);
  engine::PadQ pad(1, 2, 3, 0, 7);
  const Array out = apply_stage(pad, scan);
  ASSERT_EQ(out.shape(), (Shape{1, 2, 6, 7}));
  auto in = scan.view<const std::uint16_t, 4>();
  auto o = out.view<const std::uint16_t, 4>();
  for (int x = 0; x < 2; ++x)
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 7; ++j) {
        const bool inside = i >= 1 && i < 4 && j >= 3;
        ASSERT_EQ(o(0, x, i, j), inside ? in(0, x, i - 1, j - 3) : 7);
      }
  engine::PadQ negative(-1, 0, 0, 0), unrepresentable(0, 0, 0, 1, 70000), fraction(0, 0, 0, 1, 0.5);
  io::MemorySource src(scan);
  EXPECT_THROW(negative.prepare(src.info()), InvalidArgument);
  EXPECT_THROW(unrepresentable.prepare(src.info()), InvalidArgument);
  EXPECT_THROW(fraction.prepare(src.info()), InvalidArgument);
}

TEST(RepairPixels, MedianOfTheGoodNeighbours) {
  // One 5x6 frame; bad pixels: (2, 2) (interior, neighbour (2, 3) also bad), (2, 3), (0, 0) (corner).
  Array scan(DType::u16, {1, 1, 5, 6});
  auto v = scan.view<std::uint16_t, 4>();
  std::uint16_t k = 1;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 6; ++j) v(0, 0, i, j) = static_cast<std::uint16_t>(10 * k++);
  v(0, 0, 2, 2) = 60000;
  v(0, 0, 2, 3) = 0;
  v(0, 0, 0, 0) = 50000;
  engine::RepairPixels repair({{2, 3}, {2, 2}, {0, 0}, {2, 2}});
  EXPECT_EQ(repair.pixels().size(), 3u);  // sorted, duplicates dropped
  const Array out = apply_stage(repair, scan);
  auto o = out.view<const std::uint16_t, 4>();
  // (2, 2): 3x3 minus itself and (2, 3): rows 1..3, cols 1..3 -> values 80 90 100 140 200 210 220
  // (the pixel (i, j) holds 10·(6i + j + 1)); median of 7 values = 140.
  EXPECT_EQ(o(0, 0, 2, 2), 140);
  // (2, 3): neighbours 90 100 110 170 210 220 230 (2,2 excluded): median 170.
  EXPECT_EQ(o(0, 0, 2, 3), 170);
  // (0, 0): neighbours (0,1)=20, (1,0)=70, (1,1)=80: median 70.
  EXPECT_EQ(o(0, 0, 0, 0), 70);
  // Everything else is untouched.
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 6; ++j)
      if (!((i == 2 && (j == 2 || j == 3)) || (i == 0 && j == 0))) {
        EXPECT_EQ(o(0, 0, i, j), v(0, 0, i, j));
      }
}

TEST(RepairPixels, EvenCountRoundsAndClustersFallBackTo5x5) {
  // Edge pixel (0, 2) of a 3x5 frame: neighbours (0,1) (0,3) (1,1) (1,2) (1,3): 5 values.
  // Make (1, 2) bad too: 4 good values 1, 2, 3, 4 -> median 2.5 -> rounds to 3 (half away from zero).
  Array scan(DType::u8, {1, 1, 3, 5});
  auto v = scan.view<std::uint8_t, 4>();
  v(0, 0, 0, 1) = 1;
  v(0, 0, 0, 3) = 2;
  v(0, 0, 1, 1) = 3;
  v(0, 0, 1, 3) = 4;
  v(0, 0, 0, 2) = 255;
  v(0, 0, 1, 2) = 255;
  engine::RepairPixels repair({{0, 2}, {1, 2}});
  const Array out = apply_stage(repair, scan);
  EXPECT_EQ((out.view<const std::uint8_t, 4>()(0, 0, 0, 2)), 3);
  // float data keep the exact mean of the middle pair
  Array f = scan.astype(DType::f32);
  const Array fo = apply_stage(repair, f);
  EXPECT_FLOAT_EQ((fo.view<const float, 4>()(0, 0, 0, 2)), 2.5f);

  // A 3x3 block of bad pixels: the centre has no good 3x3 neighbour, so the 5x5 ring is used.
  Array big(DType::f64, {1, 1, 7, 7});
  auto b = big.view<double, 4>();
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 7; ++j) b(0, 0, i, j) = (i >= 2 && i <= 4 && j >= 2 && j <= 4) ? 1e9 : 5.0 + (i == 1 && j == 1);
  std::vector<engine::DetectorPixel> block;
  for (int i = 2; i <= 4; ++i)
    for (int j = 2; j <= 4; ++j) block.push_back({i, j});
  engine::RepairPixels cluster(block);
  const Array co = apply_stage(cluster, big);
  auto c = co.view<const double, 4>();
  EXPECT_EQ(c(0, 0, 3, 3), 5.0);  // 16 ring pixels, 15 of them 5
  EXPECT_EQ(c(0, 0, 2, 2), 5.0);
  engine::RepairPixels outside({{7, 0}});
  io::MemorySource src(big);
  EXPECT_THROW(outside.prepare(src.info()), InvalidArgument);
}

namespace {

struct StagedOutputs {
  Array mean, max, bf;
  engine::RunStats stats;
};

StagedOutputs run_staged(io::Source& src, int threads, std::int64_t block_frames = 0) {
  engine::RepairPixels repair({{3, 4}, {10, 10}});
  engine::CropQ crop(1, 23, 2, 22);  // 22 x 20
  engine::BinQ bin(2);               // 11 x 10, uint32
  stem::VirtualDiffraction vd;
  stem::VirtualImage bf("bf", stem::Detector::circle(11, 10, 5, 4.5, 3));
  engine::Analysis* list[] = {&vd, &bf};
  engine::RunOptions o;
  o.threads = threads;
  o.block_frames = block_frames;
  o.stages = {&repair, &crop, &bin};
  StagedOutputs out;
  out.stats = engine::run(src, list, o);
  out.mean = vd.mean();
  out.max = vd.max();
  out.bf = bf.image();
  return out;
}

}  // namespace

TEST(FrameStages, AnalysesSeeThePreparedFramesAndResultsMatchADirectComputation) {
  const Array data = random_scan<std::uint16_t>(7, 9, 24, 24, 11, 65535);
  io::MemorySource src(data);
  const StagedOutputs out = run_staged(src, 3, 5);
  ASSERT_EQ(out.mean.shape(), (Shape{11, 10}));

  // The same chain applied by hand, then the mean computed directly.
  engine::RepairPixels repair({{3, 4}, {10, 10}});
  engine::CropQ crop(1, 23, 2, 22);
  engine::BinQ bin(2);
  const Array binned = apply_stage(bin, apply_stage(crop, apply_stage(repair, data)));
  ASSERT_EQ(binned.dtype(), DType::u32);
  auto b = binned.view<const std::uint32_t, 4>();
  auto mean = out.mean.view<const double, 2>();
  auto max = out.max.view<const double, 2>();
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 10; ++j) {
      double s = 0, m = 0;
      for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 9; ++x) {
          s += b(y, x, i, j);
          m = std::max<double>(m, b(y, x, i, j));
        }
      ASSERT_DOUBLE_EQ(mean(i, j), s / 63);
      ASSERT_EQ(max(i, j), m);
    }
  EXPECT_GT(*std::max_element(out.max.data<double>(), out.max.data<double>() + out.max.size()), 65535.0);
}

TEST(FrameStages, BitIdenticalForAnyThreadCount) {
  const Array data = random_scan<std::uint16_t>(16, 12, 24, 24, 12, 4000);
  io::MemorySource src(data);
  const StagedOutputs one = run_staged(src, 1);
  for (int threads : {2, 4, 8}) {
    const StagedOutputs many = run_staged(src, threads);
    EXPECT_EQ(one.stats.block_frames, many.stats.block_frames);
    EXPECT_TRUE(bitwise_equal(one.mean, many.mean)) << threads;
    EXPECT_TRUE(bitwise_equal(one.max, many.max)) << threads;
    EXPECT_TRUE(bitwise_equal(one.bf, many.bf)) << threads;
  }
}

TEST(FrameStages, PrepareStagesRecordsProvenanceAndCalibration) {
  Calibration cal;
  cal.origin_qy_px = 12;
  cal.origin_qx_px = 11;
  io::MemorySource src(Array(DType::u8, {2, 2, 24, 24}), cal);
  engine::CropQ crop(2, 22, 1, 23);
  engine::BinQ bin(2);
  engine::FrameStage* stages[] = {&crop, &bin};
  const io::DatasetInfo out = engine::prepare_stages(src.info(), stages);
  EXPECT_EQ(out.frame_y, 10);
  EXPECT_EQ(out.frame_x, 11);
  EXPECT_EQ(out.dtype, DType::u32);
  EXPECT_EQ(out.scan_y, 2);
  // crop: (10, 10); bin 2: (10 - 0.5) / 2 = 4.75.
  EXPECT_DOUBLE_EQ(*out.calibration.origin_qy_px, 4.75);
  EXPECT_DOUBLE_EQ(*out.calibration.origin_qx_px, 4.75);
  ASSERT_TRUE(out.metadata["preparation"].is_array());
  ASSERT_EQ(out.metadata["preparation"].size(), 2u);
  EXPECT_EQ(out.metadata["preparation"][0]["stage"], "crop_q");
  EXPECT_EQ(out.metadata["preparation"][1]["parameters"]["factor"], 2);
}

TEST(FrameStages, MemoryPlanCountsTheStageBuffers) {
  // 64x64 uint8 frames padded to 512x512: each frame needs 4 KiB as read but 256 KiB prepared.
  const Array data(DType::u8, {4, 4, 64, 64});
  io::MemorySource src(data);
  stem::VirtualImage bf64("bf", stem::Detector::circle(64, 64, 32, 32, 10));
  stem::VirtualImage bf("bf", stem::Detector::circle(512, 512, 256, 256, 10));
  engine::Analysis* plain[] = {&bf64};
  engine::Analysis* list[] = {&bf};
  engine::PadQ pad(224, 224, 224, 224);
  engine::RunOptions o;
  o.threads = 1;
  o.memory_budget = 200 * 1024;  // enough for a raw frame, not for one prepared frame
  EXPECT_NO_THROW(engine::run(src, plain, o)) << "without stages the pass fits";
  o.stages = {&pad};
  EXPECT_THROW(engine::run(src, list, o), BudgetError);
  o.memory_budget = 2 << 20;
  const engine::RunStats stats = engine::run(src, list, o);
  // Per frame: 4 KiB read + 256 KiB stage buffer; block <= a quarter of the budget.
  EXPECT_LE(stats.block_frames * (4096 + 262144), (2 << 20) / 4);
  EXPECT_GE(stats.block_frames, 1);
}
