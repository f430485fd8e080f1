// Malformed Merlin input gives a scandiff error naming the file and what was expected, or
// a documented warning — never a crash: truncated frames, corrupt headers, absurd sizes,
// inconsistent .hdr files, scan shapes that do not fit the frame count.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "mib_test_util.hpp"
#include "mib_test_writer.hpp"
#include "scandiff/io/mib.hpp"
#include "scandiff/io/open.hpp"

using namespace scandiff;
using namespace scandiff_test;
namespace fs = std::filesystem;

namespace {

MibSpec small_u16() {
  MibSpec s;
  s.type = "U16";
  s.frame_y = 8;
  s.frame_x = 256;
  return s;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

// The message of the scandiff::Error of type E that `f` throws ("" if none).
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

TEST(MibMalformed, TruncatedFiles) {
  TempDir dir("mib_trunc");
  const MibSpec spec = small_u16();
  write_mib(dir / "a.mib", spec, random_frames(3, 8 * 256, 12, 1));
  const std::string all = read_file(dir / "a.mib");

  // A partial last frame: the complete frames are read, with a warning.
  write_file(dir / "partial.mib", all.substr(0, all.size() - 100));
  {
    CaptureLog log;
    io::MibSource src(dir / "partial.mib", {.scan_shape = std::pair<std::int64_t, std::int64_t>{1, 2}});
    EXPECT_EQ(src.info().frame_count(), 2);
    EXPECT_TRUE(log.contains("partial frame")) << (log.lines.empty() ? "" : log.lines[0]);
  }
  // Less than one frame, less than a header, nothing at all.
  for (std::size_t n : {spec.frame_bytes() - 1, std::size_t{200}, std::size_t{10}, std::size_t{0}}) {
    SCOPED_TRACE(n);
    write_file(dir / "short.mib", all.substr(0, n));
    const std::string m = error_of<Error>([&] { io::MibSource src(dir / "short.mib"); });
    EXPECT_NE(m.find("short.mib"), std::string::npos) << m;
  }
}

TEST(MibMalformed, CorruptFrameInTheMiddleIsReportedOnRead) {
  TempDir dir("mib_corrupt");
  const MibSpec spec = small_u16();
  write_mib(dir / "a.mib", spec, random_frames(4, 8 * 256, 12, 2));
  std::string bytes = read_file(dir / "a.mib");
  bytes[2 * spec.frame_bytes()] = 'X';  // frame 2 loses its magic
  write_file(dir / "a.mib", bytes);
  io::MibSource src(dir / "a.mib", {.scan_shape = std::pair<std::int64_t, std::int64_t>{2, 2}});
  std::vector<std::byte> buf(src.info().total_bytes());
  EXPECT_NO_THROW(src.read(0, 2, buf.data()));
  const std::string m = error_of<FormatError>([&] { src.read(0, 4, buf.data()); });
  EXPECT_NE(m.find("frame 2"), std::string::npos) << m;
  EXPECT_NE(m.find("MQ1"), std::string::npos) << m;
  // When the scan-shape rules need every header, the corrupt one stops the open.
  const std::string m2 = error_of<FormatError>([&] { io::MibSource s2(dir / "a.mib"); });
  EXPECT_NE(m2.find("a.mib frame 2"), std::string::npos) << m2;
}

TEST(MibMalformed, HeaderFieldsAreValidated) {
  const MibSpec spec = small_u16();
  const std::string good = mib_header(spec, 1, 0.001, 50'000'000'000'000);
  ASSERT_NO_THROW(io::parse_mib_header(bytes_of(good), "good"));
  auto with = [&](std::size_t offset, const std::string& text) {
    std::string h = good;
    h.replace(offset, text.size(), text);
    return h;
  };
  struct Case {
    std::string header, expect;
  } cases[] = {
      {with(0, "MQ2"), "MQ1"},
      {with(4, "00a001"), "field 1"},
      {with(11, "99999"), "header size"},
      {with(11, "00010"), "header size"},
      {with(17, "00"), "field 3"},
      {with(20, "0000"), "field 4"},
      {with(20, "99x9"), "field 4"},
      {with(25, "-001"), "field 5"},
      {with(30, "U64"), "not supported"},
      {with(30, "F32"), "pixel type"},
      {with(34, "   3x3"), "layout"},
      {with(34, "   2x2"), "layout 2x2 with 1 chips"},
      {with(44, "2021-13-15"), "timestamp"},
      {with(44, "0020"), "timestamp"},  // found by the fuzzer: ns since 1970 overflowed
      {with(71, "0.0x1000"), "exposure"},
      {with(82, "7"), "colour mode"},
      {with(84, "9"), "gain mode"},
      {with(86, "2.0Q0000E+0"), "threshold"},
      {good.substr(0, 60) + std::string(good.size() - 60, '\0'), "fields"},
      {with(100, std::string(1, '\x01')), "expected text"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expect);
    const std::string m = error_of<FormatError>([&] { io::parse_mib_header(bytes_of(c.header), "hdr.mib"); });
    EXPECT_NE(m.find("hdr.mib"), std::string::npos) << m;
    EXPECT_NE(m.find(c.expect), std::string::npos) << m;
  }
  // The extension: counter depth, exposure, timestamp.
  const std::size_t ext = good.find("MQ1A");
  ASSERT_NE(ext, std::string::npos);
  for (const auto& [bad, expect] : std::vector<std::pair<std::string, std::string>>{
           {"MQ1A,2021-04-15T13:53:20.000000000Z,1000000ns,7,", "counter depth"},
           {"MQ1A,2021-04-15T13:53:20.000000000Z,1000000s,12,", "exposure"},
           {"MQ1A,2021-04-15 13:53:20.000000000,1000000ns,12,", "extension timestamp"},
           {"MQ1A,1000000ns,12,", "MQ1A extension"}}) {
    std::string h = good.substr(0, ext) + bad;
    h.resize(good.size(), '\0');
    const std::string m = error_of<FormatError>([&] { io::parse_mib_header(bytes_of(h), "x"); });
    EXPECT_NE(m.find(expect), std::string::npos) << bad << " -> " << m;
  }
  // A header that declares more bytes than given.
  EXPECT_NE(error_of<FormatError>([&] { io::parse_mib_header(bytes_of(good.substr(0, 300)), "x"); }).find("declares"),
            std::string::npos);
}

TEST(MibMalformed, AbsurdSizesAreRejectedBeforeAllocation) {
  MibSpec spec = small_u16();
  spec.type = "U32";
  spec.frame_y = 9999;
  spec.frame_x = 9999;  // 100 M pixels > the 64 Mi pixel limit
  const std::string h = mib_header(spec, 1, 0.001, 50'000'000'000'000);
  const std::string m = error_of<FormatError>([&] { io::parse_mib_header(bytes_of(h), "big.mib"); });
  EXPECT_NE(m.find("exceeds the limit"), std::string::npos) << m;

  // A plausible header on a tiny file: no frame, no allocation of the frame size.
  TempDir dir("mib_absurd");
  spec.frame_y = 4096;
  spec.frame_x = 4096;
  write_file(dir / "tiny.mib", mib_header(spec, 1, 0.001, 50'000'000'000'000) + "xx");
  const std::string m2 = error_of<FormatError>([&] { io::MibSource s(dir / "tiny.mib"); });
  EXPECT_NE(m2.find("no complete frame"), std::string::npos) << m2;
}

TEST(MibMalformed, UnsupportedRawLayoutsAreRefused) {
  MibSpec spec;
  spec.type = "R64";
  spec.depth = 12;
  spec.layout = "Nx1";
  spec.chips = 2;
  spec.frame_y = 256;
  spec.frame_x = 512;
  spec.header_bytes = 512;
  const std::string m = error_of<FormatError>(
      [&] { io::parse_mib_header(bytes_of(mib_header(spec, 1, 0.001, 50'000'000'000'000)), "nx1.mib"); });
  EXPECT_NE(m.find("not supported"), std::string::npos) << m;
  // RAW without MQ1A and without a .hdr depth.
  spec.layout = "1x1";
  spec.chips = 1;
  spec.frame_x = 256;
  spec.header_bytes = 384;
  spec.extension = false;
  const std::string h = mib_header(spec, 1, 0.001, 50'000'000'000'000);
  EXPECT_NE(error_of<FormatError>([&] { io::parse_mib_header(bytes_of(h), "x"); }).find("counter depth"),
            std::string::npos);
  EXPECT_EQ(io::parse_mib_header(bytes_of(h), "x", 12).dtype, DType::u16);  // depth from the .hdr
}

TEST(MibMalformed, MixedLayoutsInOneSeriesAreRefused) {
  TempDir dir("mib_mixed");
  MibSpec a = small_u16(), b = small_u16();
  b.type = "U08";
  write_mib(dir / "m1.mib", a, random_frames(2, 8 * 256, 12, 1), {}, {}, 1);
  write_mib(dir / "m2.mib", b, random_frames(2, 8 * 256, 6, 1), {}, {}, 3);
  const std::string m = error_of<FormatError>([&] { io::MibSource s(dir / "m1.mib", {.series = true}); });
  EXPECT_NE(m.find("differs from"), std::string::npos) << m;
}

TEST(MibMalformed, InconsistentHdrGivesWarningsAndFrameHeadersWin) {
  TempDir dir("mib_hdr");
  const MibSpec spec = small_u16();
  const auto data = random_frames(8, 8 * 256, 12, 4);
  write_mib(dir / "acq.mib", spec, data);
  write_hdr(dir / "acq.hdr", {{"Assembly Size (NX1, 2X2)", "   2x2"},
                              {"Counter Depth (number)", "6"},
                              {"Frames in Acquisition (Number)", "100"},
                              {"Frames per Trigger (Number)", "lots"},
                              {"ScanX", "3"},
                              {"ScanY", "5"}});
  CaptureLog log;
  io::MibSource src(dir / "acq.mib");
  EXPECT_TRUE(log.contains("Assembly Size"));
  EXPECT_TRUE(log.contains("Counter Depth 6 differs"));
  EXPECT_TRUE(log.contains("Frames in Acquisition is 100"));
  EXPECT_TRUE(log.contains("'Frames per Trigger (Number)' is 'lots'"));
  // ScanX 3 x ScanY 5 = 15 > 8 frames: an interrupted scan keeps its 2 complete lines.
  EXPECT_TRUE(log.contains("complete line"));
  EXPECT_EQ(src.info().scan_y, 2);
  EXPECT_EQ(src.info().scan_x, 3);
  EXPECT_EQ(src.info().dtype, DType::u16);
  EXPECT_EQ(read_values(src), concat(std::vector(data.begin(), data.begin() + 6)));

  // A .hdr that is not one: ignored with a warning when found beside the .mib...
  write_file(dir / "acq.hdr", "garbage\n");
  CaptureLog log2;
  io::MibSource src2(dir / "acq.mib", {.scan_shape = std::pair<std::int64_t, std::int64_t>{2, 4}});
  EXPECT_TRUE(log2.contains("expected 'HDR,'"));
  // ...but an error when it is the file asked for (it is not recognised as Merlin at all).
  EXPECT_THROW(io::open(dir / "acq.hdr"), FormatError);
}

TEST(MibMalformed, ScanShapesThatDoNotFit) {
  TempDir dir("mib_fit");
  write_mib(dir / "s.mib", small_u16(), random_frames(6, 8 * 256, 12, 3));
  using Shape2 = std::pair<std::int64_t, std::int64_t>;
  const std::string m = error_of<InvalidArgument>([&] { io::MibSource s(dir / "s.mib", {.scan_shape = Shape2{3, 3}}); });
  EXPECT_NE(m.find("needs 9 frames"), std::string::npos) << m;
  EXPECT_NE(m.find("has 6"), std::string::npos) << m;
  EXPECT_THROW(io::MibSource(dir / "s.mib", {.scan_shape = Shape2{0, 3}}), InvalidArgument);
  EXPECT_THROW(io::MibSource(dir / "s.mib", {.skip_frames = 6}), InvalidArgument);
  EXPECT_THROW(io::MibSource(dir / "s.mib", {.skip_frames = -1}), InvalidArgument);
  EXPECT_THROW(io::MibSource(dir / "s.mib", {.scan_shape = Shape2{2, 2}, .flyback = io::MibFlyback::on}),
               InvalidArgument);
  EXPECT_THROW(io::MibSource(dir / "s.mib", {.fill_gaps = true}), InvalidArgument);  // not a quad
  {
    CaptureLog log;  // surplus frames at the end: a warning
    io::MibSource s(dir / "s.mib", {.scan_shape = Shape2{2, 2}, .skip_frames = 1});
    EXPECT_TRUE(log.contains("1 frame(s) at the end unused"));
    EXPECT_EQ(s.acquisition_index(0), 1);
    EXPECT_EQ(s.info().metadata.at("scan_shape").at("frames_skipped_at_start"), 1);
  }
}

TEST(MibMalformed, ColourAndTwoCounterModesAreRefusedByName) {
  TempDir dir("mib_modes");
  const MibSpec spec = small_u16();
  const fs::path path = dir / "modes.mib";
  write_mib(path, spec, random_frames(4, 8 * 256, 12, 3));
  const std::string good = read_file(path);
  // Field 11 (counter) sits at byte 80 and field 12 (colour mode) at byte 82 of every header.
  ASSERT_EQ(good.substr(79, 5), ",0,0,");
  std::string colour = good;
  colour[82] = '1';
  write_file(path, colour);
  std::string m = error_of<FormatError>([&] { io::MibSource src(path); });
  EXPECT_NE(m.find("colour mode"), std::string::npos) << m;
  EXPECT_NE(m.find(path.string()), std::string::npos) << m;

  std::string two = good;  // frames 2 and 4 from counter 1
  for (std::size_t f : {1u, 3u}) two[f * spec.frame_bytes() + 80] = '1';
  write_file(path, two);
  m = error_of<FormatError>([&] { io::MibSource src(path); });
  EXPECT_NE(m.find("two-counter readout"), std::string::npos) << m;
  EXPECT_NE(m.find("counters 0 and 1"), std::string::npos) << m;

  // Continuous read/write (Active Counters: Alternating) is ordinary data.
  write_hdr(dir / "modes.hdr", {{"Active Counters", "Alternating"}, {"Counter Depth (number)", "12"}});
  EXPECT_EQ(io::MibSource(path).info().frame_count(), 4);
  write_file(path, good);
  EXPECT_EQ(io::MibSource(path).info().frame_count(), 4);
}
