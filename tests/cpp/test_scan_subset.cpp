// Crop, thin and bin in R: ScanSubset and ScanBin frames, calibration, and an engine pass over them.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/scan_bin.hpp"
#include "scandiff/io/scan_subset.hpp"
#include "scandiff/stem/virtual_image.hpp"

using namespace scandiff;

namespace {

Array numbered_scan(std::int64_t sy, std::int64_t sx) {
  Array a(DType::u16, {sy, sx, 3, 4});
  std::mt19937 rng(1);
  std::uint16_t* p = a.data<std::uint16_t>();
  for (std::int64_t i = 0; i < a.size(); ++i) p[i] = static_cast<std::uint16_t>(rng() % 60000);
  return a;
}

}  // namespace

TEST(ScanSubset, CropsAndThinsScanPositions) {
  const Array data = numbered_scan(9, 11);
  Calibration cal;
  cal.scan_pixel_size = 2.5;
  cal.scan_units = "nm";
  cal.origin_qy_map = Array(DType::f64, {9, 11});
  for (std::int64_t i = 0; i < 99; ++i) cal.origin_qy_map.data<double>()[i] = static_cast<double>(i);
  auto inner = std::make_shared<io::MemorySource>(data, cal);
  io::ScanSubset sub(inner, 1, 8, 2, 11, 3);  // rows 1, 4, 7; columns 2, 5, 8
  const io::DatasetInfo& info = sub.info();
  ASSERT_EQ(info.scan_y, 3);
  ASSERT_EQ(info.scan_x, 3);
  EXPECT_DOUBLE_EQ(info.calibration.scan_pixel_size, 7.5);
  EXPECT_EQ(info.calibration.scan_units, "nm");
  EXPECT_DOUBLE_EQ((info.calibration.origin_qy_map.view<const double, 2>()(2, 1)), 7 * 11 + 5);
  EXPECT_EQ(info.metadata["scan_subset"]["step"], 3);

  Array out(DType::u16, {3, 3, 3, 4});
  sub.read(0, 9, out.bytes());
  auto o = out.view<const std::uint16_t, 4>();
  auto d = data.view<const std::uint16_t, 4>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int qy = 0; qy < 3; ++qy)
        for (int qx = 0; qx < 4; ++qx) ASSERT_EQ(o(i, j, qy, qx), d(1 + 3 * i, 2 + 3 * j, qy, qx));
  // A partial range, starting mid-row.
  Array part(DType::u16, {4, 3, 4});
  sub.read(4, 4, part.bytes());
  EXPECT_EQ(std::memcmp(part.bytes(), out.bytes() + 4 * 12 * 2, 4 * 12 * 2), 0);
  EXPECT_THROW(sub.read(8, 2, part.bytes()), InvalidArgument);
}

TEST(ScanSubset, EnginePassOverACropMatchesTheCropOfTheFullPass) {
  const Array data = numbered_scan(10, 12);
  auto inner = std::make_shared<io::MemorySource>(data);
  const auto det = stem::Detector::circle(3, 4, 1, 1.5, 1.6);
  stem::VirtualImage full("vi", det), part("vi", det);
  engine::Analysis* a[] = {&full};
  engine::run(*inner, a);
  io::ScanSubset sub(inner, 2, 9, 0, 12);  // whole rows: one inner read per block
  engine::Analysis* b[] = {&part};
  engine::RunOptions o;
  o.block_frames = 5;
  engine::run(sub, b, o);
  auto f = full.image().view<const double, 2>();
  auto p = part.image().view<const double, 2>();
  ASSERT_EQ(part.image().shape(), (Shape{7, 12}));
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 12; ++j) EXPECT_EQ(p(i, j), f(i + 2, j));
}

TEST(ScanSubset, RejectsBadRanges) {
  auto inner = std::make_shared<io::MemorySource>(numbered_scan(4, 5));
  EXPECT_THROW(io::ScanSubset(inner, 0, 5, 0, 5), InvalidArgument);
  EXPECT_THROW(io::ScanSubset(inner, 2, 2, 0, 5), InvalidArgument);
  EXPECT_THROW(io::ScanSubset(inner, 0, 4, -1, 5), InvalidArgument);
  EXPECT_THROW(io::ScanSubset(inner, 0, 4, 0, 5, 0), InvalidArgument);
  EXPECT_THROW(io::ScanSubset(nullptr, 0, 4, 0, 5), InvalidArgument);
  io::ScanSubset thin(inner, 0, 4, 0, 5, 2);
  EXPECT_EQ(thin.info().scan_y, 2);
  EXPECT_EQ(thin.info().scan_x, 3);
}

TEST(ScanBin, SumsBlocksOfPositionsWithPromotionAndAveragesOrigins) {
  const Array data = numbered_scan(7, 9);  // uint16 up to 60000: sums of 4 overflow uint16
  Calibration cal;
  cal.scan_pixel_size = 2.0;
  cal.origin_qx_map = Array(DType::f64, {7, 9});
  for (std::int64_t i = 0; i < 63; ++i) cal.origin_qx_map.data<double>()[i] = static_cast<double>(i);
  auto inner = std::make_shared<io::MemorySource>(data, cal);
  io::ScanBin bin(inner, 2);
  const io::DatasetInfo& info = bin.info();
  ASSERT_EQ(info.scan_y, 3);
  ASSERT_EQ(info.scan_x, 4);
  ASSERT_EQ(info.dtype, DType::u32);
  EXPECT_DOUBLE_EQ(info.calibration.scan_pixel_size, 4.0);
  // Block (1, 2) holds inner (2..3, 4..5): origins 22, 23, 31, 32 -> mean 27.
  EXPECT_DOUBLE_EQ((info.calibration.origin_qx_map.view<const double, 2>()(1, 2)), 27.0);
  EXPECT_EQ(info.metadata["scan_bin"]["factor"], 2);

  Array out(DType::u32, {3, 4, 3, 4});
  bin.read(0, 12, out.bytes());
  auto o = out.view<const std::uint32_t, 4>();
  auto d = data.view<const std::uint16_t, 4>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int qy = 0; qy < 3; ++qy)
        for (int qx = 0; qx < 4; ++qx) {
          const std::uint32_t sum = std::uint32_t{d(2 * i, 2 * j, qy, qx)} + d(2 * i, 2 * j + 1, qy, qx) +
                                    d(2 * i + 1, 2 * j, qy, qx) + d(2 * i + 1, 2 * j + 1, qy, qx);
          ASSERT_EQ(o(i, j, qy, qx), sum);
        }
  // A range starting mid-row and crossing rows reads the same frames.
  Array part(DType::u32, {5, 3, 4});
  bin.read(3, 5, part.bytes());
  EXPECT_EQ(std::memcmp(part.bytes(), out.bytes() + 3 * 12 * 4, 5 * 12 * 4), 0);
  EXPECT_THROW(bin.read(10, 3, part.bytes()), InvalidArgument);
}

TEST(ScanBin, FloatDataSumsInDoubleAndBadFactorsAreRefused) {
  Array data(DType::f32, {2, 2, 1, 1});
  const float values[] = {1e8f, 1.0f, 1.0f, -1e8f};
  std::memcpy(data.bytes(), values, sizeof values);
  auto inner = std::make_shared<io::MemorySource>(data);
  io::ScanBin bin(inner, 2);
  ASSERT_EQ(bin.info().dtype, DType::f32);
  float out = -1;
  bin.read(0, 1, reinterpret_cast<std::byte*>(&out));
  EXPECT_EQ(out, 2.0f);  // float32 accumulation in this order would give 0 or 1
  EXPECT_THROW(io::ScanBin(inner, 3), InvalidArgument);
  EXPECT_THROW(io::ScanBin(inner, 0), InvalidArgument);
  EXPECT_THROW(io::ScanBin(nullptr, 1), InvalidArgument);
}
