// MIB pixel decoding, bit for bit, on synthetic files written by mib_test_writer.hpp
// (which encodes exactly by the format reference, independently of the decoder): RAW at
// 1/6/12/24 bit, single chip and quad, full and ROI; non-RAW U08/U16/U32 in 1x1, 2x2, Nx1;
// the optional up-down flip and 3-pixel gap cross; multi-file series.
#include <gtest/gtest.h>

#include <cstring>

#include "mib_test_util.hpp"
#include "mib_test_writer.hpp"
#include "scandiff/io/mib.hpp"
#include "scandiff/io/open.hpp"

using namespace scandiff;
using namespace scandiff_test;

namespace {

MibSpec raw_spec(int depth, bool quad, std::int64_t rows = 256) {
  MibSpec s;
  s.type = "R64";
  s.depth = depth;
  s.layout = quad ? "2x2" : "1x1";
  s.chips = quad ? 4 : 1;
  s.header_bytes = quad ? 768 : 384;
  s.frame_y = quad ? 2 * rows : rows;
  s.frame_x = quad ? 512 : 256;
  return s;
}

DType dtype_for_depth(int depth) { return depth <= 6 ? DType::u8 : depth == 12 ? DType::u16 : DType::u32; }

void expect_round_trip(const MibSpec& spec, int value_bits, const std::string& name, std::size_t frames = 3) {
  SCOPED_TRACE(name);
  TempDir dir("mib_" + name);
  const auto data = random_frames(frames, spec.frame_y * spec.frame_x, value_bits, 7);
  write_mib(dir / (name + ".mib"), spec, data);
  io::MibSource src(dir / (name + ".mib"), {.scan_shape = std::pair<std::int64_t, std::int64_t>{1, frames}});
  ASSERT_EQ(src.info().frame_y, spec.frame_y);
  ASSERT_EQ(src.info().frame_x, spec.frame_x);
  ASSERT_EQ(src.info().frame_count(), static_cast<std::int64_t>(frames));
  if (spec.raw()) {
    EXPECT_EQ(src.info().dtype, dtype_for_depth(spec.depth));
  }
  const auto got = read_values(src);
  const auto want = concat(data);
  ASSERT_EQ(got.size(), want.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) bad += got[i] != want[i];
  EXPECT_EQ(bad, 0u) << "of " << got.size() << " pixels differ";
  // Frames read one at a time and from the middle agree with the whole read.
  std::vector<std::byte> one(src.info().frame_bytes());
  src.read(static_cast<std::int64_t>(frames) - 1, 1, one.data());
  std::vector<std::byte> all(src.info().total_bytes());
  src.read(0, static_cast<std::int64_t>(frames), all.data());
  EXPECT_EQ(0, std::memcmp(one.data(), all.data() + (frames - 1) * one.size(), one.size()));
}

}  // namespace

TEST(MibDecode, RawAllDepthsSingleAndQuadBitExact) {
  for (int depth : {1, 6, 12, 24})
    for (bool quad : {false, true}) {
      const MibSpec spec = raw_spec(depth, quad);
      expect_round_trip(spec, depth, fmt::format("raw{}_{}", depth, quad ? "quad" : "single"));
    }
}

TEST(MibDecode, RawQuadRoiRows) {
  for (std::int64_t rows : {32, 64, 128})
    for (int depth : {1, 12}) expect_round_trip(raw_spec(depth, true, rows), depth, fmt::format("roi{}_{}", rows, depth));
}

TEST(MibDecode, RawShortHeadersOfSoftware067) {
  MibSpec spec = raw_spec(6, true);
  spec.short_header = true;
  expect_round_trip(spec, 6, "short6");
}

TEST(MibDecode, RawQuadChipPlacementByHand) {
  // One lit pixel per chip, at known raw positions; the output position follows §4's table.
  MibSpec spec = raw_spec(12, true);
  std::vector<std::uint32_t> frame(512 * 512, 0);
  frame[10 * 512 + 3] = 1;             // chip 1: raw row 10, column 768 + 3
  frame[20 * 512 + 256 + 5] = 2;       // chip 2: raw row 20, column 512 + 5
  frame[(511 - 30) * 512 + 7] = 3;     // chip 3: raw row 30, column 511 - 7
  frame[(511 - 40) * 512 + 300] = 4;   // chip 4: raw row 40, column 511 - 300
  const std::string pixels = mib_pixels(spec, {frame});
  // The encoder put each value where the reference table says: read the 16-bit slot back.
  auto raw_at = [&](std::int64_t row, std::int64_t col) {
    const std::int64_t idx = row * 1024 + col, word = idx / 4, k = idx % 4;
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v = v << 8 | static_cast<unsigned char>(pixels[static_cast<std::size_t>(word * 8 + b)]);
    return static_cast<std::uint32_t>(v >> (16 * k) & 0xFFFF);
  };
  EXPECT_EQ(raw_at(10, 768 + 3), 1u);
  EXPECT_EQ(raw_at(20, 512 + 5), 2u);
  EXPECT_EQ(raw_at(30, 511 - 7), 3u);
  EXPECT_EQ(raw_at(40, 511 - 300), 4u);
  TempDir dir("mib_place");
  write_mib(dir / "p.mib", spec, {frame});
  io::MibSource src(dir / "p.mib");
  EXPECT_EQ(read_values(src), frame);
}

TEST(MibDecode, NonRawTypesAndLayouts) {
  struct Case {
    const char* type;
    const char* layout;
    int chips, depth, bits;
    std::int64_t fy, fx;
    std::size_t header;
  } cases[] = {
      {"U08", "1x1", 1, 6, 6, 256, 256, 384},   {"U08", "2x2", 4, 1, 1, 512, 512, 768},
      {"U16", "1x1", 1, 12, 12, 128, 256, 384}, {"U16", "2x2", 4, 12, 16, 512, 512, 768},
      {"U32", "1x1", 1, 24, 32, 64, 256, 384},  {"U32", "2x2", 4, 24, 24, 512, 512, 768},
      {"U16", "Nx1", 2, 12, 12, 256, 512, 512},
  };
  for (const Case& c : cases) {
    MibSpec s;
    s.type = c.type;
    s.layout = c.layout;
    s.chips = c.chips;
    s.depth = c.depth;
    s.frame_y = c.fy;
    s.frame_x = c.fx;
    s.header_bytes = c.header;
    expect_round_trip(s, c.bits, fmt::format("{}_{}_{}", c.type, c.layout, c.fy));
  }
}

TEST(MibDecode, FlipAndGapCrossAreExplicitAndRecorded) {
  MibSpec spec;
  spec.type = "U16";
  spec.layout = "2x2";
  spec.chips = 4;
  spec.frame_y = spec.frame_x = 512;
  spec.header_bytes = 768;
  TempDir dir("mib_flip");
  const auto data = random_frames(2, 512 * 512, 12, 3);
  write_mib(dir / "q.mib", spec, data);

  io::MibSource flipped(dir / "q.mib", {.flip_ud = true});
  EXPECT_EQ(flipped.info().metadata.at("orientation").at("flip_ud"), true);
  const auto f = read_values(flipped);
  for (std::int64_t k = 0; k < 2; ++k)
    for (std::int64_t y = 0; y < 512; y += 37)
      for (std::int64_t x = 0; x < 512; x += 41)
        ASSERT_EQ(f[static_cast<std::size_t>((k * 512 + y) * 512 + x)],
                  data[static_cast<std::size_t>(k)][static_cast<std::size_t>((511 - y) * 512 + x)]);

  io::MibSource gaps(dir / "q.mib", {.fill_gaps = true, .flip_ud = true});
  ASSERT_EQ(gaps.info().frame_y, 515);
  ASSERT_EQ(gaps.info().frame_x, 515);
  EXPECT_NE(gaps.info().metadata.at("gap_fill"), false);
  const auto g = read_values(gaps);
  std::uint64_t sum_g = 0, sum_f = 0;
  for (std::int64_t y = 0; y < 515; ++y)
    for (std::int64_t x = 0; x < 515; ++x) {
      const auto v = g[static_cast<std::size_t>(y * 515 + x)];
      sum_g += v;
      if ((y >= 256 && y <= 258) || (x >= 256 && x <= 258)) {
        ASSERT_EQ(v, 0u) << y << "," << x;
      }
      if (y < 256 && x < 256) {
        ASSERT_EQ(v, f[static_cast<std::size_t>(y * 512 + x)]);
      }
      if (y > 258 && x > 258) {
        ASSERT_EQ(v, f[static_cast<std::size_t>((y - 3) * 512 + x - 3)]);
      }
    }
  for (std::size_t i = 0; i < 512 * 512; ++i) sum_f += f[i];
  EXPECT_EQ(sum_g, sum_f);  // the cross adds no counts

  io::MibSource plain(dir / "q.mib");
  EXPECT_EQ(plain.info().metadata.at("orientation").at("flip_ud"), false);
  EXPECT_EQ(read_values(plain), concat(data));
}

TEST(MibDecode, MultiFileSeriesInSequenceOrder) {
  MibSpec spec;
  spec.type = "U16";
  spec.frame_y = 16;
  spec.frame_x = 256;
  TempDir dir("mib_series");
  const auto data = random_frames(12, 16 * 256, 12, 9);
  auto part = [&](std::size_t a, std::size_t b) { return std::vector(data.begin() + a, data.begin() + b); };
  // Names sort differently from the acquisition order: scan_2 < scan_10 < scan_9 by name.
  write_mib(dir / "scan_9.mib", spec, part(0, 4), {}, {}, 1);
  write_mib(dir / "scan_10.mib", spec, part(4, 8), {}, {}, 5);
  write_mib(dir / "scan_2.mib", spec, part(8, 12), {}, {}, 9);
  write_mib(dir / "scan_2RAW.mib", spec, part(0, 1), {}, {}, 1);  // not a member: no digits-only suffix
  write_hdr(dir / "scan_.hdr", {{"Frames in Acquisition (Number)", "12"}, {"Frames per Trigger (Number)", "4"}});

  auto via_hdr = io::open(dir / "scan_.hdr");
  EXPECT_EQ(via_hdr->info().scan_y, 3);  // Frames per Trigger 4 = line length
  EXPECT_EQ(via_hdr->info().scan_x, 4);
  EXPECT_EQ(read_values(*via_hdr), concat(data));
  EXPECT_EQ(via_hdr->info().metadata.at("mib").at("files").size(), 3u);

  io::MibSource via_mib(dir / "scan_10.mib", {.series = true});
  EXPECT_EQ(read_values(via_mib), concat(data));
  // Blocks that straddle files.
  std::vector<std::byte> two(2 * via_mib.info().frame_bytes());
  via_mib.read(3, 2, two.data());
  std::vector<std::uint16_t> v(two.size() / 2);
  std::memcpy(v.data(), two.data(), two.size());
  EXPECT_EQ(v[0], data[3][0]);
  EXPECT_EQ(v[16 * 256], data[4][0]);

  io::MibSource alone(dir / "scan_10.mib");  // without --series: that file only
  EXPECT_EQ(alone.info().frame_count(), 4);
  EXPECT_EQ(read_values(alone), concat(part(4, 8)));
}

TEST(MibDecode, SeriesWithMissingFramesWarns) {
  MibSpec spec;
  spec.type = "U08";
  spec.frame_y = 8;
  spec.frame_x = 256;
  TempDir dir("mib_gap_series");
  const auto data = random_frames(4, 8 * 256, 6, 2);
  write_mib(dir / "s1.mib", spec, {data[0], data[1]}, {}, {}, 1);
  write_mib(dir / "s2.mib", spec, {data[2], data[3]}, {}, {}, 4);  // frame 3 is missing
  CaptureLog log;
  io::MibSource src(dir / "s1.mib", {.scan_shape = std::pair<std::int64_t, std::int64_t>{2, 2}, .series = true});
  EXPECT_TRUE(log.contains("does not follow")) << (log.lines.empty() ? "" : log.lines[0]);
}

TEST(MibDecode, SingleFrameViewsOfUint8Frames) {
  MibSpec spec;
  spec.type = "U08";
  spec.frame_y = spec.frame_x = 256;
  TempDir dir("mib_view");
  const auto data = random_frames(3, 256 * 256, 6, 5);
  write_mib(dir / "v.mib", spec, data);
  io::MibSource src(dir / "v.mib");
  const std::byte* p = src.view(1, 1);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(static_cast<std::uint32_t>(p[1000]), data[1][1000]);
  src.release(1, 1);
  EXPECT_EQ(src.view(0, 2), nullptr);  // two frames are not contiguous
  io::MibSource flipped(dir / "v.mib", {.flip_ud = true});
  EXPECT_EQ(flipped.view(0, 1), nullptr);
}
