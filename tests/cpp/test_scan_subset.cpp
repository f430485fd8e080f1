// Crop and thin in R: ScanSubset frames, calibration, and an engine pass over it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
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
