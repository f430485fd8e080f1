// Scan-shape rules (reference §8) on synthetic acquisitions: the order of the rules, the
// fly-back detection (leading frames, irregular starts, dropped column, jitter), frames per
// trigger, the timestamp rule and its refusal of isolated hiccups, and the frames each
// scan position maps to.
#include <gtest/gtest.h>

#include <random>

#include "mib_test_util.hpp"
#include "mib_test_writer.hpp"
#include "scandiff/io/mib.hpp"

using namespace scandiff;
using namespace scandiff_test;

namespace {

std::vector<io::MibFrameTiming> timings(const std::vector<double>& exposure, const std::vector<std::int64_t>& t = {}) {
  std::vector<io::MibFrameTiming> out;
  for (std::size_t i = 0; i < exposure.size(); ++i)
    out.push_back({exposure[i], t.empty() ? static_cast<std::int64_t>(i) * 1'000'000 : t[i]});
  return out;
}

io::MibScanShape decide(const std::vector<io::MibFrameTiming>& t, const io::MibOptions& o = {},
                        const io::MibAcquisitionHeader* hdr = nullptr) {
  return io::decide_mib_scan_shape(static_cast<std::int64_t>(t.size()), o, hdr, [&] { return t; }, "test.mib");
}

// Exposures of a fly-back scan: `lead` junk frames, `lines` lines of one fly-back frame
// (10 ms) + `x` frames (1 ms +- 5 us jitter), then `tail` extra frames.
std::vector<double> flyback_exposures(int lead, int lines, int x, int tail, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-5e-6, 5e-6);
  std::vector<double> e;
  for (int i = 0; i < lead; ++i) e.push_back(0.001 + jitter(rng));
  for (int l = 0; l < lines; ++l) {
    e.push_back(0.010);
    for (int i = 0; i < x; ++i) e.push_back(0.001 + jitter(rng));
  }
  for (int i = 0; i < tail; ++i) e.push_back(0.001 + jitter(rng));
  return e;
}

}  // namespace

TEST(MibScanShape, FlybackLinesWithLeadingFramesAndDroppedColumn) {
  const auto s = decide(timings(flyback_exposures(3, 6, 7, 2)));
  EXPECT_EQ(s.source, "flyback");
  EXPECT_EQ(s.scan_y, 6);
  EXPECT_EQ(s.scan_x, 7);            // the fly-back column is dropped
  EXPECT_EQ(s.first_frame, 3 + 1);   // after the leading frames and the first fly-back frame
  EXPECT_EQ(s.line_stride, 8);
  EXPECT_EQ(s.details.at("frames_unused_at_end"), 2);
  EXPECT_EQ(s.details.at("dropped_frames_per_line"), 1);
}

TEST(MibScanShape, FlybackWithIrregularStartUsesTheLastRegularRun) {
  // Fly-back at 0, 3 (a short false start), then every 6 frames from 5.
  std::vector<double> e(5 + 6 * 4, 0.001);
  for (int i : {0, 3, 5, 11, 17, 23}) e[static_cast<std::size_t>(i)] = 0.01;
  const auto s = decide(timings(e));
  EXPECT_EQ(s.source, "flyback");
  EXPECT_EQ(s.line_stride, 6);
  EXPECT_EQ(s.first_frame, 6);
  EXPECT_EQ(s.scan_y, 4);
  EXPECT_EQ(s.scan_x, 5);
}

TEST(MibScanShape, RuleOrder) {
  const auto t = timings(flyback_exposures(0, 4, 5, 0));  // 24 frames, fly-back every 6
  io::MibAcquisitionHeader hdr;
  hdr.path = "t.hdr";
  hdr.scan_x = 6;
  hdr.scan_y = 4;
  hdr.frames_per_trigger = 3;
  // The user's shape beats everything.
  EXPECT_EQ(decide(t, {.scan_shape = std::pair<std::int64_t, std::int64_t>{2, 12}}, &hdr).source, "user");
  // Then .hdr ScanX/ScanY (fly-back frames included, as the detector recorded them).
  const auto h = decide(t, {}, &hdr);
  EXPECT_EQ(h.source, "hdr ScanX/ScanY");
  EXPECT_EQ(h.scan_y, 4);
  EXPECT_EQ(h.scan_x, 6);
  // --flyback on: detection wins over the .hdr shape.
  EXPECT_EQ(decide(t, {.flyback = io::MibFlyback::on}, &hdr).source, "flyback");
  // Without ScanX/ScanY: fly-back before frames per trigger...
  hdr.scan_x.reset();
  hdr.scan_y.reset();
  EXPECT_EQ(decide(t, {}, &hdr).source, "flyback");
  // ...and frames per trigger when fly-back detection is off.
  const auto f = decide(t, {.flyback = io::MibFlyback::off}, &hdr);
  EXPECT_EQ(f.source, "frames per trigger");
  EXPECT_EQ(f.scan_y, 8);
  EXPECT_EQ(f.scan_x, 3);
  // FpT equal to all frames is a whole-scan trigger: not a line length.
  hdr.frames_per_trigger = 24;
  const std::vector<double> flat(24, 0.001);
  const auto g = decide(timings(flat), {}, &hdr);
  EXPECT_EQ(g.source, "flat");
  EXPECT_EQ(g.scan_y, 1);
  EXPECT_EQ(g.scan_x, 24);
  EXPECT_GE(g.details.at("rules_tried").size(), 2u);
}

TEST(MibScanShape, FlybackOnWithoutFlybackFramesIsAnError) {
  EXPECT_THROW(decide(timings(std::vector<double>(20, 0.001)), {.flyback = io::MibFlyback::on}), FormatError);
}

TEST(MibScanShape, TimestampRuleNeedsEveryLineStartLate) {
  // 3 lines of 5 frames, 1 ms period, line starts 30 us late, +-1 us jitter.
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> jitter(-1000, 1000);
  std::vector<std::int64_t> t;
  std::int64_t now = 0;
  for (int i = 0; i < 15; ++i) {
    now += 1'000'000 + jitter(rng) + (i > 0 && i % 5 == 0 ? 30'000 : 0);
    t.push_back(now);
  }
  const std::vector<double> e(15, 0.001);
  const auto s = decide(timings(e, t));
  EXPECT_EQ(s.source, "timestamps");
  EXPECT_EQ(s.scan_y, 3);
  EXPECT_EQ(s.scan_x, 5);

  // A single hiccup in a free-running acquisition is not a line.
  std::vector<std::int64_t> u;
  for (int i = 0; i < 15; ++i) u.push_back(i * 1'000'000 + (i >= 7 ? 50'000 : 0));
  EXPECT_EQ(decide(timings(e, u)).source, "flat");
  // Even intervals: nothing to learn.
  std::vector<std::int64_t> v;
  for (int i = 0; i < 15; ++i) v.push_back(i * 1'000'000);
  EXPECT_EQ(decide(timings(e, v)).source, "flat");
}

TEST(MibScanShape, FramesMapToTheirScanPositions) {
  // Each frame's pixels carry its acquisition index; fly-back frames carry 999.
  MibSpec spec;
  spec.type = "U16";
  spec.frame_y = 4;
  spec.frame_x = 256;
  const auto e = flyback_exposures(2, 3, 4, 1);
  std::vector<std::vector<std::uint32_t>> frames;
  for (std::size_t i = 0; i < e.size(); ++i)
    frames.emplace_back(4 * 256, e[i] > 0.005 ? 999u : static_cast<std::uint32_t>(i));
  TempDir dir("mib_flyback");
  write_mib(dir / "f.mib", spec, frames, e);
  io::MibSource src(dir / "f.mib");
  ASSERT_EQ(src.info().scan_y, 3);
  ASSERT_EQ(src.info().scan_x, 4);
  EXPECT_EQ(src.info().metadata.at("scan_shape").at("source"), "flyback");
  // The per-frame header values are available without reading pixels.
  const auto t = src.frame_timings();
  ASSERT_EQ(t.size(), e.size());
  EXPECT_NEAR(t[2].exposure_s, 0.010, 1e-12);
  const auto v = read_values(src);
  for (std::int64_t ry = 0; ry < 3; ++ry)
    for (std::int64_t rx = 0; rx < 4; ++rx) {
      const auto value = v[static_cast<std::size_t>((ry * 4 + rx) * 4 * 256)];
      EXPECT_EQ(value, static_cast<std::uint32_t>(2 + ry * 5 + 1 + rx)) << ry << "," << rx;
    }
  // With fly-back detection off, every frame is kept (flat here: no .hdr, even timestamps).
  CaptureLog log;
  io::MibSource all(dir / "f.mib", {.flyback = io::MibFlyback::off});
  EXPECT_EQ(all.info().frame_count(), static_cast<std::int64_t>(e.size()));
  EXPECT_TRUE(log.contains("scan shape unknown"));
}
