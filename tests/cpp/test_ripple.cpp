// Ripple (.rpl/.raw) spectrum images: both record orders, byte orders, calibration keys, and
// malformed headers (the end-to-end test compares with RosettaSciIO's reader).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "scandiff/analysis/class_means.hpp"
#include "scandiff/analysis/dense_matrix.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/ripple.hpp"

namespace {

namespace fs = std::filesystem;
using namespace scandiff;

struct RippleFiles {
  fs::path rpl, raw;
  ~RippleFiles() {
    fs::remove(rpl);
    fs::remove(raw);
  }
};

// height 2, width 3, depth 4; value(y, x, e) = 100·y + 10·x + e as big-endian uint16.
std::unique_ptr<RippleFiles> write_ripple(const std::string& name, const std::string& record_by,
                                          const std::string& extra_header, std::size_t drop_bytes = 0) {
  auto f = std::make_unique<RippleFiles>();
  const fs::path base = fs::temp_directory_path() / ("scandiff_test_" + std::to_string(::getpid()) + "_" + name);
  f->rpl = fs::path(base.string() + ".rpl");
  f->raw = fs::path(base.string() + ".raw");
  std::ofstream(f->rpl) << ";File written by a test\nkey\tvalue\nwidth\t3\nheight\t2\ndepth\t4\noffset\t8\n"
                           "data-length\t2\ndata-type\tunsigned\nbyte-order\tbig-endian\nrecord-by\t"
                        << record_by << "\n" << extra_header;
  std::vector<unsigned char> bytes(8, 0xEE);  // the offset: 8 bytes before the data
  auto put = [&](int y, int x, int e) {
    const int v = 100 * y + 10 * x + e;
    bytes.push_back(static_cast<unsigned char>(v >> 8));
    bytes.push_back(static_cast<unsigned char>(v & 0xFF));
  };
  if (record_by == "vector") {
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        for (int e = 0; e < 4; ++e) put(y, x, e);
  } else {
    for (int e = 0; e < 4; ++e)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) put(y, x, e);
  }
  bytes.resize(bytes.size() - std::min(drop_bytes, bytes.size()));
  std::ofstream(f->raw, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                 static_cast<std::streamsize>(bytes.size()));
  return f;
}

TEST(Ripple, VectorAndImageOrdersGiveTheSameCube) {
  for (const std::string record : {"vector", "image"}) {
    const auto f = write_ripple("order_" + record, record, "ev-per-chan\t10\ndepth-origin\t-200\n");
    const Result r = io::read_ripple(f->rpl);
    ASSERT_EQ(r.data.shape(), (Shape{2, 3, 4})) << record;
    ASSERT_EQ(r.data.dtype(), DType::u16);
    const auto v = r.data.view<std::uint16_t, 3>();
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        for (int e = 0; e < 4; ++e) EXPECT_EQ(v(y, x, e), 100 * y + 10 * x + e) << record;
    EXPECT_EQ(r.axes[2].step, 10);
    EXPECT_EQ(r.axes[2].origin, -200);
    EXPECT_EQ(r.axes[2].units, "eV");
  }
}

TEST(Ripple, DepthScaleWinsOverEvPerChannel) {
  const auto f = write_ripple("scale", "vector", "ev-per-chan\t10\ndepth-scale\t0.01\ndepth-units\tkeV\n");
  const Result r = io::read_ripple(f->rpl);
  EXPECT_DOUBLE_EQ(r.axes[2].step, 0.01);
  EXPECT_EQ(r.axes[2].units, "keV");
}

TEST(Ripple, MalformedFilesAreFormatErrors) {
  EXPECT_THROW(io::read_ripple(write_ripple("short", "vector", "", 2)->rpl), FormatError);  // .raw too short
  {
    const auto f = write_ripple("huge", "vector", "");
    std::ofstream(f->rpl) << "width\t4000000000\nheight\t4000000000\ndepth\t4000000000\noffset\t0\ndata-length\t8\n"
                             "data-type\tfloat\nbyte-order\tlittle-endian\nrecord-by\tvector\n";
    EXPECT_THROW(io::read_ripple(f->rpl), FormatError);  // checked against the .raw size, nothing allocated
  }
  {
    const auto f = write_ripple("nokey", "vector", "");
    std::ofstream(f->rpl) << "width\t3\nheight\t2\n";
    EXPECT_THROW(io::read_ripple(f->rpl), FormatError);
  }
  {
    const auto f = write_ripple("badtype", "vector", "");
    std::ofstream(f->rpl) << "width\t3\nheight\t2\ndepth\t4\noffset\t8\ndata-length\t2\ndata-type\tcomplex\n"
                             "byte-order\tbig-endian\nrecord-by\tvector\n";
    EXPECT_THROW(io::read_ripple(f->rpl), FormatError);
  }
  {
    const auto f = write_ripple("notab", "vector", "width 3\n");
    EXPECT_THROW(io::read_ripple(f->rpl), FormatError);
  }
  EXPECT_THROW(io::read_ripple("/nonexistent/map.rpl"), IoError);
}

TEST(ClassMeans, MeanSpectraOfThresholdedMaps) {
  // 10 positions, 2 components: component 0 strong at positions 0..4, component 1 at 5..9.
  analysis::DenseMatrix w(10, 2);
  Array spectra(DType::u16, {10, 3});
  auto s = spectra.view<std::uint16_t, 2>();
  for (int i = 0; i < 10; ++i) {
    w(i, 0) = i < 5 ? 1.0 + i : 0.1;
    w(i, 1) = i < 5 ? 0.1 : 1.0 + i;
    for (int e = 0; e < 3; ++e) s(i, e) = static_cast<std::uint16_t>(i * 10 + e);
  }
  EXPECT_DOUBLE_EQ(analysis::quantile({0.1, 0.1, 0.1, 0.1, 0.1, 1, 2, 3, 4, 5}, 0.8), 3.2);
  const auto cm = analysis::threshold_class_means(w, spectra, 0.8);
  // 0.8 quantile of column 0 = 3.2: positions 3 and 4 (w = 4, 5); column 1 likewise positions 8, 9.
  EXPECT_EQ(cm.counts, (std::vector<std::int64_t>{2, 2}));
  EXPECT_DOUBLE_EQ(cm.means(0, 0), 35.0);
  EXPECT_DOUBLE_EQ(cm.means(1, 2), 87.0);
  EXPECT_THROW(analysis::threshold_class_means(w, Array(DType::u16, {9, 3}), 0.8), InvalidArgument);
}

}  // namespace
