// Every public Merlin sample in ../shared/data/mib reads with the frame counts, shapes,
// total counts, maxima and per-frame sums that data/README.md lists (file order, no flip).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scandiff/io/mib.hpp"
#include "scandiff/io/open.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

const fs::path mib_data = fs::path(SCANDIFF_SHARED_DATA) / "mib";

#define REQUIRE_MIB_DATA()                                                                          \
  if (!fs::is_directory(mib_data)) GTEST_SKIP() << "real Merlin files not found at " << mib_data \
                                                << " (../shared/data beside the checkout)"

// All frames of a source, widened to uint64 values, in scan order.
struct Frames {
  std::int64_t count = 0, fy = 0, fx = 0;
  std::vector<std::uint64_t> v;
  std::uint64_t total() const {
    std::uint64_t s = 0;
    for (auto x : v) s += x;
    return s;
  }
  std::uint64_t max() const {
    std::uint64_t m = 0;
    for (auto x : v) m = std::max(m, x);
    return m;
  }
  std::uint64_t frame_sum(std::int64_t f) const {
    std::uint64_t s = 0;
    for (std::int64_t i = 0; i < fy * fx; ++i) s += v[static_cast<std::size_t>(f * fy * fx + i)];
    return s;
  }
  std::uint64_t at(std::int64_t f, std::int64_t y, std::int64_t x) const {
    return v[static_cast<std::size_t>((f * fy + y) * fx + x)];
  }
};

Frames read_all(io::Source& src) {
  const auto& info = src.info();
  Frames out{info.frame_count(), info.frame_y, info.frame_x, {}};
  std::vector<std::byte> buf(info.total_bytes());
  src.read(0, info.frame_count(), buf.data());
  out.v.resize(static_cast<std::size_t>(info.frame_count() * info.frame_pixels()));
  visit_dtype(info.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = reinterpret_cast<const T*>(buf.data());
    for (std::size_t i = 0; i < out.v.size(); ++i) out.v[i] = static_cast<std::uint64_t>(p[i]);
  });
  return out;
}

struct Fact {
  const char* file;
  std::int64_t frames, fy, fx;
  DType dtype;
  std::uint64_t total;
  std::int64_t max;  // -1: not listed
};

// data/README.md, "mib/" table.
const Fact facts[] = {
    {"rsciio/Single_1_Frame_CounterDepth_1_Rows_256.mib", 1, 256, 256, DType::u8, 2398, 1},
    {"rsciio/Single_1_Frame_CounterDepth_6_Rows_256.mib", 1, 256, 256, DType::u8, 24336, 63},
    {"rsciio/Single_1_Frame_CounterDepth_12_Rows_256.mib", 1, 256, 256, DType::u16, 28911, 2239},
    {"rsciio/Single_1_Frame_CounterDepth_24_Rows_256.mib", 1, 256, 256, DType::u32, 29416, 2255},
    {"rsciio/Single_9_Frame_CounterDepth_1_Rows_256.mib", 9, 256, 256, DType::u8, 21614, -1},
    {"rsciio/Single_9_Frame_CounterDepth_6_Rows_256.mib", 9, 256, 256, DType::u8, 217684, -1},
    {"rsciio/Single_9_Frame_CounterDepth_12_Rows_256.mib", 9, 256, 256, DType::u16, 260753, -1},
    {"rsciio/Single_9_Frame_CounterDepth_24_Rows_256.mib", 9, 256, 256, DType::u32, 258156, -1},
    {"rsciio/Quad_1_Frame_CounterDepth_1_Rows_256.mib", 1, 512, 512, DType::u8, 10331, 1},
    {"rsciio/Quad_1_Frame_CounterDepth_6_Rows_256.mib", 1, 512, 512, DType::u8, 115263, 63},
    {"rsciio/Quad_1_Frame_CounterDepth_12_Rows_256.mib", 1, 512, 512, DType::u16, 845907, 4093},
    {"rsciio/Quad_1_Frame_CounterDepth_24_Rows_256.mib", 1, 512, 512, DType::u32, 778764, 4095},
    {"rsciio/Quad_9_Frame_CounterDepth_1_Rows_256.mib", 9, 512, 512, DType::u8, 92639, -1},
    {"rsciio/Quad_9_Frame_CounterDepth_6_Rows_256.mib", 9, 512, 512, DType::u8, 1032369, -1},
    {"rsciio/Quad_9_Frame_CounterDepth_12_Rows_256.mib", 9, 512, 512, DType::u16, 7229086, -1},
    {"rsciio/Quad_9_Frame_CounterDepth_24_Rows_256.mib", 9, 512, 512, DType::u32, 7285037, -1},
    {"rsciio/001_4x2_6bit.mib", 8, 256, 256, DType::u8, 3623664, 63},
    {"rsciio/002_4x2_6bit_roi128.mib", 8, 128, 256, DType::u8, 3263829, 63},
    {"rsciio/002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y.mib", 8, 128, 256, DType::u16, 79, 10},
    {"rsciio/003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y.mib", 8, 64, 256, DType::u16, 77, 15},
    {"epsic/test_1bit_notRAW_1frame.mib", 1, 512, 512, DType::u8, 0, 0},
    {"epsic/test_6bit_notRAW_1frame.mib", 1, 512, 512, DType::u8, 0, 0},
    {"epsic/test_12bit_notRAW_1frame.mib", 1, 512, 512, DType::u16, 0, 0},
    {"epsic/test_24bit_notRAW_1frame.mib", 1, 512, 512, DType::u32, 0, 0},
    {"merlintools/SingleMIB.mib", 1, 256, 256, DType::u16, 330512, 126},
    {"merlintools/probe_200kV_CL_100mm.mib", 1, 256, 256, DType::u16, 377584, 1518},
    {"merlintools/probe_300kV_CL_60mm.mib", 1, 256, 256, DType::u16, 208752, 203},
};

}  // namespace

TEST(MibReal, EveryNonRawFileMatchesTheReadme) {
  REQUIRE_MIB_DATA();
  for (const Fact& f : facts) {
    SCOPED_TRACE(f.file);
    auto src = io::open(mib_data / f.file);
    const auto& info = src->info();
    EXPECT_EQ(info.format, "mib");
    EXPECT_EQ(info.frame_count(), f.frames);
    EXPECT_EQ(info.frame_y, f.fy);
    EXPECT_EQ(info.frame_x, f.fx);
    EXPECT_EQ(info.dtype, f.dtype);
    const Frames all = read_all(*src);
    EXPECT_EQ(all.total(), f.total);
    if (f.max >= 0) {
      EXPECT_EQ(all.max(), static_cast<std::uint64_t>(f.max));
    }
  }
}

TEST(MibReal, PerFrameSums) {
  REQUIRE_MIB_DATA();
  {
    io::MibSource src(mib_data / "rsciio/Quad_9_Frame_CounterDepth_12_Rows_256.mib");
    const Frames all = read_all(src);
    EXPECT_EQ(all.frame_sum(0), 780796u);
    EXPECT_EQ(all.frame_sum(1), 828211u);
    EXPECT_EQ(all.frame_sum(2), 784649u);
  }
  {
    io::MibSource src(mib_data / "rsciio/001_4x2_6bit.mib");
    const Frames all = read_all(src);
    EXPECT_EQ(all.frame_sum(0), 448386u);
    EXPECT_EQ(all.frame_sum(1), 449671u);
    EXPECT_EQ(all.frame_sum(2), 452147u);
  }
}

TEST(MibReal, ScanShapesAndTheirReasons) {
  REQUIRE_MIB_DATA();
  struct Case {
    const char* file;
    std::int64_t y, x;
    const char* source;
  } cases[] = {
      {"rsciio/001_4x2_6bit.mib", 2, 4, "timestamps"},     // pixel trigger, late line starts
      {"rsciio/002_4x2_6bit_roi128.mib", 2, 4, "timestamps"},
      {"rsciio/002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y.mib", 2, 4, "hdr ScanX/ScanY"},
      {"rsciio/003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y.mib", 2, 4, "hdr ScanX/ScanY"},
      {"rsciio/Quad_9_Frame_CounterDepth_12_Rows_256.mib", 1, 9, "flat"},  // free run, even intervals
      {"rsciio/Single_9_Frame_CounterDepth_1_Rows_256.mib", 1, 9, "flat"},  // FpT 9 = whole scan
      {"merlintools/SingleMIB.mib", 1, 1, "flat"},                          // no .hdr
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    io::MibSource src(mib_data / c.file);
    EXPECT_EQ(src.info().scan_y, c.y);
    EXPECT_EQ(src.info().scan_x, c.x);
    const Metadata& md = src.info().metadata.at("scan_shape");
    EXPECT_EQ(md.at("source"), c.source);
    EXPECT_EQ(md.at("shape"), Metadata({c.y, c.x}));
    EXPECT_FALSE(md.at("reason").get<std::string>().empty());
  }
}

TEST(MibReal, HotPixelAtX52Y39) {
  REQUIRE_MIB_DATA();
  for (const char* name : {"rsciio/002_merlin_test_roi_sig256x128_nav4x2_hot_pixel_52x_39y.mib",
                           "rsciio/003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y.mib"}) {
    SCOPED_TRACE(name);
    io::MibSource src(mib_data / name);
    const Frames all = read_all(src);
    // The pixel (qy 39, qx 52) holds the largest summed count, and counts in most frames.
    std::vector<std::uint64_t> sum(static_cast<std::size_t>(all.fy * all.fx));
    int frames_hit = 0;
    for (std::int64_t f = 0; f < all.count; ++f) {
      for (std::int64_t i = 0; i < all.fy * all.fx; ++i)
        sum[static_cast<std::size_t>(i)] += all.v[static_cast<std::size_t>(f * all.fy * all.fx + i)];
      frames_hit += all.at(f, 39, 52) > 0;
    }
    const auto hot = sum[static_cast<std::size_t>(39 * all.fx + 52)];
    for (std::size_t i = 0; i < sum.size(); ++i)
      if (i != static_cast<std::size_t>(39 * all.fx + 52)) {
        EXPECT_LT(sum[i], hot) << "pixel " << i;
      }
    EXPECT_GE(frames_hit, 4);
  }
}

TEST(MibReal, RawQuadMatchesTheNonRawAcquisition) {
  REQUIRE_MIB_DATA();
  io::MibSource raw(mib_data / "rsciio/Quad_1_Frame_CounterDepth_1_Rows_256RAW.mib");
  io::MibSource plain(mib_data / "rsciio/Quad_1_Frame_CounterDepth_1_Rows_256.mib");
  ASSERT_EQ(raw.info().frame_y, 512);
  ASSERT_EQ(raw.info().frame_x, 512);
  ASSERT_EQ(raw.info().dtype, DType::u8);
  EXPECT_TRUE(raw.first_header().raw());
  const Frames a = read_all(raw), b = read_all(plain);
  std::int64_t lit = 0, both = 0, rot_both = 0;
  for (std::int64_t y = 0; y < 512; ++y)
    for (std::int64_t x = 0; x < 512; ++x) {
      EXPECT_LE(a.at(0, y, x), 1u);
      if (b.at(0, y, x) == 0) continue;
      ++lit;
      both += a.at(0, y, x) != 0;
      rot_both += a.at(0, 511 - y, 511 - x) != 0;
    }
  EXPECT_EQ(lit, 10331);
  RecordProperty("coincident", static_cast<int>(both));
  RecordProperty("coincident_rotated", static_cast<int>(rot_both));
  EXPECT_GE(static_cast<double>(both), 0.98 * static_cast<double>(lit)) << both << " of " << lit;
  EXPECT_LT(static_cast<double>(rot_both), 0.7 * static_cast<double>(lit)) << "a 180-degree rotation must not fit";
}

TEST(MibReal, RawFilesOpenWithTheirGeometry) {
  REQUIRE_MIB_DATA();
  struct Case {
    const char* file;
    std::int64_t frames, f;
    DType dtype;
  } cases[] = {
      {"rsciio/Single_1_Frame_CounterDepth_1_Rows_256RAW.mib", 1, 256, DType::u8},
      {"rsciio/Single_9_Frame_CounterDepth_1_Rows_256RAW.mib", 9, 256, DType::u8},
      {"rsciio/Quad_1_Frame_CounterDepth_1_Rows_256RAW.mib", 1, 512, DType::u8},
      {"rsciio/Quad_9_Frame_CounterDepth_1_Rows_256RAW.mib", 9, 512, DType::u8},
      {"epsic/test_1bit_RAW_1frame.mib", 1, 512, DType::u8},   // 20-field headers (software 0.67)
      {"epsic/test_6bit_RAW_1frame.mib", 1, 512, DType::u8},
      {"epsic/test_12bit_RAW_1frame.mib", 1, 512, DType::u16},
      {"epsic/test_24bit_RAW_1frame.mib", 1, 512, DType::u32},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    io::MibSource src(mib_data / c.file);
    EXPECT_EQ(src.info().frame_count(), c.frames);
    EXPECT_EQ(src.info().frame_y, c.f);
    EXPECT_EQ(src.info().frame_x, c.f);
    EXPECT_EQ(src.info().dtype, c.dtype);
    const Frames all = read_all(src);
    if (std::string(c.file).starts_with("epsic")) {
      EXPECT_EQ(src.first_header().field_count, 19u);  // short header: thresholds and DACs left out
      EXPECT_LE(all.total(), 4096u);                   // dark frames
    } else {
      EXPECT_LE(all.max(), 1u);
      EXPECT_GT(all.total(), 0u);
    }
  }
  // The 9-frame single-chip RAW file sums like its non-RAW sibling, within acquisition noise.
  io::MibSource raw9(mib_data / "rsciio/Single_9_Frame_CounterDepth_1_Rows_256RAW.mib");
  const auto t = static_cast<double>(read_all(raw9).total());
  EXPECT_NEAR(t / 9, 21614.0 / 9, 0.1 * 21614.0 / 9);
}

TEST(MibReal, HeaderAndHdrMetadata) {
  REQUIRE_MIB_DATA();
  io::MibSource src(mib_data / "rsciio/Quad_1_Frame_CounterDepth_12_Rows_256.mib");
  const io::MibFrameHeader& h = src.first_header();
  EXPECT_EQ(h.header_bytes, 768u);
  EXPECT_EQ(h.chips, 4);
  EXPECT_EQ(h.layout, "2x2");
  EXPECT_EQ(h.counter_depth, 12);
  EXPECT_EQ(h.field_count, 138u);
  EXPECT_DOUBLE_EQ(h.exposure_s, 0.001);
  ASSERT_EQ(h.thresholds_keV.size(), 8u);
  EXPECT_DOUBLE_EQ(h.thresholds_keV[1], 511.0);
  EXPECT_EQ(h.timestamp, "2021-04-15T13:44:43.100924481Z");
  ASSERT_TRUE(src.acquisition_header().has_value());
  EXPECT_EQ(src.acquisition_header()->software_version, "0.77");
  EXPECT_EQ(src.acquisition_header()->assembly_size, "2x2");
  const Metadata& md = src.info().metadata;
  EXPECT_EQ(md.at("mib").at("pixel_type"), "U16");
  EXPECT_EQ(md.at("orientation").at("flip_ud"), false);
  EXPECT_EQ(md.at("hdr").at("Software Version"), "0.77");
  EXPECT_NO_THROW((void)md.dump());
}

TEST(MibReal, OpeningTheHdrOpensTheAcquisition) {
  REQUIRE_MIB_DATA();
  auto src = io::open(mib_data / "rsciio/001_4x2_6bit.hdr");
  EXPECT_EQ(src->info().frame_count(), 8);
  EXPECT_EQ(read_all(*src).total(), 3623664u);
}
