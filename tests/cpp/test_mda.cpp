// APS MDA scan files: a synthetic 2D scan written here, truncations and absurd counts, and the
// real APS 26-ID-C scan 294 (values checked with an independent struct-unpacking Python parse).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/mda.hpp"

namespace {

namespace fs = std::filesystem;
using namespace scandiff;

// XDR packing, as the sscan record's saveData writes it.
struct Xdr {
  std::vector<unsigned char> b;
  void i32(std::int64_t v) {
    const auto u = static_cast<std::uint32_t>(v);
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(u >> s));
  }
  void f32(float v) { i32(std::bit_cast<std::uint32_t>(v)); }
  void f64(double v) {
    const auto u = std::bit_cast<std::uint64_t>(v);
    i32(static_cast<std::uint32_t>(u >> 32));
    i32(static_cast<std::uint32_t>(u));
  }
  void counted(const std::string& s) {  // int n, then the XDR string when n > 0
    i32(static_cast<std::int64_t>(s.size()));
    if (s.empty()) return;
    i32(static_cast<std::int64_t>(s.size()));
    for (char c : s) b.push_back(static_cast<unsigned char>(c));
    while (b.size() % 4) b.push_back(0);
  }
  void set_i32(std::size_t at, std::int64_t v) {
    Xdr t;
    t.i32(v);
    std::copy(t.b.begin(), t.b.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
  }
};

// A record: rank, npts, cpt, [lower offsets], name, time, 1 positioner, `detectors` detectors,
// no triggers, data. Returns the position of the lower-offset table.
std::size_t record(Xdr& x, int rank, int npts, const std::string& name, const std::string& positioner, int detectors,
                   const std::vector<double>& positions, const std::vector<std::vector<float>>& values) {
  x.i32(rank);
  x.i32(npts);
  x.i32(npts);
  const std::size_t table = x.b.size();
  if (rank > 1)
    for (int i = 0; i < npts; ++i) x.i32(0);
  x.counted(name);
  x.counted("Jan 01, 2026 00:00:00");
  x.i32(1);
  x.i32(detectors);
  x.i32(0);
  x.i32(0);
  for (const std::string& s : {positioner, std::string("motor"), std::string("LINEAR"), std::string("\xB5m"),
                              std::string(), std::string(), std::string()})
    x.counted(s);
  for (int d = 0; d < detectors; ++d) {
    x.i32(d);
    x.counted("det" + std::to_string(d));
    x.counted("");
    x.counted("cts");
  }
  for (const double p : positions) x.f64(p);
  for (const auto& v : values)
    for (const float f : v) x.f32(f);
  return table;
}

// A 3 × 4 map: outer positioner y = 10 + i, inner x = 0.5·j, detector d value 100·d + 10·i + j.
std::vector<unsigned char> synthetic_map() {
  Xdr x;
  x.f32(1.3f);
  x.i32(7);
  x.i32(2);
  x.i32(3);
  x.i32(4);
  x.i32(1);
  x.i32(0);  // no extra PVs
  const std::size_t table = record(x, 2, 3, "ioc:scan2", "ioc:y", 0, {10, 11, 12}, {});
  for (int i = 0; i < 3; ++i) {
    x.set_i32(table + 4 * static_cast<std::size_t>(i), static_cast<std::int64_t>(x.b.size()));
    std::vector<std::vector<float>> v(2);
    for (int d = 0; d < 2; ++d)
      for (int j = 0; j < 4; ++j) v[static_cast<std::size_t>(d)].push_back(static_cast<float>(100 * d + 10 * i + j));
    record(x, 1, 4, "ioc:scan1", "ioc:x", 2, {0, 0.5, 1, 1.5}, v);
  }
  return x.b;
}

fs::path write_temp(const std::vector<unsigned char>& bytes, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("scandiff_test_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p;
}

TEST(Mda, SyntheticMapRoundTrip) {
  const fs::path p = write_temp(synthetic_map(), "map.mda");
  const io::MdaFile f = io::read_mda(p);
  EXPECT_NEAR(f.version, 1.3, 1e-6);
  EXPECT_EQ(f.scan_number, 7);
  EXPECT_EQ(f.dimensions, (std::vector<std::int64_t>({3, 4})));
  ASSERT_EQ(f.dims.size(), 2u);
  EXPECT_EQ(f.dims[0].positioners.at(0).name, "ioc:y");
  EXPECT_EQ(f.dims[0].positioners.at(0).units, "\xC2\xB5m") << "ISO-8859-1 micro sign as UTF-8";
  const auto y = f.dims[0].positions.at(0).view<double, 1>();
  EXPECT_EQ(y(2), 12.0);
  const io::MdaDimension& inner = f.dims[1];
  EXPECT_EQ(inner.shape, Shape({3, 4}));
  ASSERT_EQ(inner.detectors.size(), 2u);
  EXPECT_EQ(inner.detectors[1].units, "cts");
  const auto d1 = inner.values[1].view<float, 2>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(d1(i, j), static_cast<float>(100 + 10 * i + j));
  const auto x = inner.positions[0].view<double, 2>();
  EXPECT_EQ(x(2, 3), 1.5);
  fs::remove(p);
}

TEST(Mda, EveryTruncationIsAFormatError) {
  const auto bytes = synthetic_map();
  for (std::size_t n = 0; n < bytes.size(); n += 3) {
    const fs::path p = write_temp(std::vector<unsigned char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)),
                                  "cut.mda");
    EXPECT_THROW(io::read_mda(p), FormatError) << "cut at " << n;
    fs::remove(p);
  }
}

TEST(Mda, AbsurdCountsAllocateNothing) {
  auto bytes = synthetic_map();
  struct Patch {
    std::size_t at;
    std::int64_t value;
  };
  // Offsets in the synthetic file: header 7 ints (28 bytes), then the outer record:
  // rank (28), npts (32), cpt (36), lower offsets (40, 44, 48).
  for (const Patch patch : {Patch{8, 1000000}, Patch{32, 0x7fffffff}, Patch{36, 0x7fffffff}, Patch{40, -5},
                            Patch{44, 0x7ffffff0}, Patch{16, 0x40000000}}) {
    auto b = bytes;
    Xdr x;
    x.b = b;
    x.set_i32(patch.at, patch.value);
    const fs::path p = write_temp(x.b, "absurd.mda");
    EXPECT_THROW(io::read_mda(p), FormatError) << "byte " << patch.at << " = " << patch.value;
    fs::remove(p);
  }
  EXPECT_THROW(io::read_mda("/nonexistent/scan.mda"), IoError);
}

// Scan 294 of APS 26-ID-C (sxdm's test data): a 34 × 27 raster, 65 detector channels.
TEST(Mda, RealSxdmScan294) {
  const fs::path file = fs::path(SCANDIFF_SHARED_DATA) / "sxdm" / "294.mda";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  const io::MdaFile f = io::read_mda(file);
  EXPECT_EQ(f.scan_number, 294);
  EXPECT_EQ(f.dimensions, (std::vector<std::int64_t>({34, 27})));
  ASSERT_EQ(f.dims.size(), 2u);
  const auto& outer = f.dims[0];
  EXPECT_EQ(outer.scan_name, "26idbSOFT:scan2");
  ASSERT_EQ(outer.positioners.size(), 1u);
  EXPECT_EQ(outer.positioners[0].name, "26idcnpi:Y_HYBRID_SP.VAL");
  EXPECT_EQ(outer.positioners[0].description, "Hybrid Piezo Y Setpoint");
  const auto y = outer.positions[0].view<double, 1>();
  EXPECT_EQ(y(0), -276.97);
  EXPECT_NEAR(y(33), -275.97, 1e-9);
  const auto& inner = f.dims[1];
  EXPECT_EQ(inner.positioners.at(0).name, "26idcnpi:X_HYBRID_SP.VAL");
  EXPECT_EQ(inner.shape, Shape({34, 27}));
  ASSERT_EQ(inner.detectors.size(), 65u);
  EXPECT_EQ(inner.detectors[0].name, "26idc:3820:scaler1.S2");
  EXPECT_EQ(inner.detectors[64].name, "S:SRcurrentAI");
  EXPECT_EQ(inner.detectors[64].units, "mA");
  EXPECT_EQ(inner.detectors[64].number, 69);
  const auto s2 = inner.values[0].view<float, 2>();
  EXPECT_EQ(s2(0, 0), 90368.0f);
  EXPECT_EQ(s2(33, 26), 89279.0f);
  double sum = 0;
  for (int i = 0; i < 34; ++i)
    for (int j = 0; j < 27; ++j) sum += s2(i, j);
  EXPECT_EQ(sum, 82864453.0);
  // The detector frame number runs over the 918 TIFF frames of the scan.
  const auto frame = inner.values[9].view<float, 2>();
  EXPECT_EQ(frame(0, 0), 176194.0f);
  EXPECT_EQ(frame(33, 26), 177111.0f);
  ASSERT_EQ(f.extra_pvs.size(), 4u);
  EXPECT_EQ(f.extra_pvs[1].name, "26idbSOFT:saveData_scanNumber");
  EXPECT_EQ(f.extra_pvs[1].value, "295");
}

}  // namespace
