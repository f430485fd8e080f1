// SXDM datasets: scan sources from position tables and MDA records, background subtraction,
// framesets (manifest, io::open, aligned sums), alignment by phase correlation, rocking curves.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scandiff/core/array.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/open.hpp"
#include "scandiff/io/tiff.hpp"
#include "scandiff/sxdm/alignment.hpp"
#include "scandiff/sxdm/background.hpp"
#include "scandiff/sxdm/frameset.hpp"
#include "scandiff/sxdm/frameset_scan.hpp"
#include "scandiff/sxdm/rocking_curve.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

const fs::path shared_data = SCANDIFF_SHARED_DATA;

struct TempDir {
  fs::path path;
  TempDir() {
    const auto* t = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() / fmt::format("scandiff_sxdm_{}_{}_{}", ::getpid(), t->test_suite_name(), t->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Writes scan `name` of rows × cols float32 frames (fy × fx) under dir: frames "<name>_<n>.tif"
// numbered from 100, and a positions table "<name>.csv" in shuffled order with position jitter.
// frame(r, c) gives the frame at raster point (r, c).
void write_scan(const fs::path& dir, const std::string& name, std::int64_t rows, std::int64_t cols, std::int64_t fy,
                std::int64_t fx, const std::function<float(std::int64_t, std::int64_t, std::int64_t, std::int64_t)>& value,
                std::optional<double> theta = std::nullopt) {
  std::vector<std::string> lines;
  std::mt19937 rng(static_cast<unsigned>(rows * 131 + cols));
  std::uniform_real_distribution<double> jitter(-0.02, 0.02);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t number = 100 + r * cols + c;
      Array f(DType::f32, {fy, fx});
      auto v = f.view<float, 2>();
      for (std::int64_t i = 0; i < fy; ++i)
        for (std::int64_t j = 0; j < fx; ++j) v(i, j) = value(r, c, i, j);
      io::write_tiff(dir / fmt::format("{}_{}.tif", name, number), f);
      std::string line = fmt::format("{}, {:.4f}, {:.4f}", number, 5.0 + 0.5 * static_cast<double>(c) + jitter(rng),
                                     -3.0 + 0.5 * static_cast<double>(r) + jitter(rng));
      if (theta) line += fmt::format(", {}", *theta);
      lines.push_back(line);
    }
  std::shuffle(lines.begin(), lines.end(), rng);
  std::ofstream out(dir / (name + ".csv"));
  out << "# synthetic scan\nframe, x, y" << (theta ? ", theta" : "") << "\n";
  for (const auto& l : lines) out << l << "\n";
}

nlohmann::json scan_entry(const std::string& name, double theta) {
  return {{"name", name}, {"theta", theta}, {"positions", name + ".csv"}, {"images", name + "_{}.tif"}};
}

void write_manifest(const fs::path& path, const nlohmann::json& scans, const nlohmann::json& background = "none") {
  nlohmann::json j = {{"sxdm_frameset", 1}, {"name", "test"}, {"background", background}, {"scans", scans}};
  std::ofstream(path) << j.dump(2);
}

std::vector<float> read_all(io::Source& s) {
  std::vector<float> v(static_cast<std::size_t>(s.info().frame_count() * s.info().frame_pixels()));
  s.read(0, s.info().frame_count(), reinterpret_cast<std::byte*>(v.data()));
  return v;
}

double blob(double r, double c, double r0, double c0, double sigma) {
  return std::exp(-((r - r0) * (r - r0) + (c - c0) * (c - c0)) / (2 * sigma * sigma));
}

}  // namespace

// ---------------------------------------------------------------- scans

TEST(SxdmScan, TableRasterFromShuffledJitteredPositions) {
  TempDir t;
  write_scan(t.path, "a", 3, 4, 2, 3, [](auto r, auto c, auto i, auto j) { return float(100 * r + 10 * c + i + j); });
  sxdm::ScanSpec spec;
  spec.base = t.path;
  spec.positions = "a.csv";
  spec.images = "a_{}.tif";
  const auto layout = sxdm::read_scan_layout(spec);
  EXPECT_EQ(layout.rows, 3);
  EXPECT_EQ(layout.cols, 4);
  EXPECT_EQ(layout.frame_number[0], 100);
  EXPECT_EQ(layout.frame_number[5], 105);
  auto src = sxdm::open_scan(spec);
  EXPECT_EQ(src->info().scan_y, 3);
  EXPECT_EQ(src->info().scan_x, 4);
  EXPECT_EQ(src->info().dtype, DType::f32);
  const auto v = read_all(*src);
  for (std::int64_t r = 0; r < 3; ++r)
    for (std::int64_t c = 0; c < 4; ++c) EXPECT_EQ(v[static_cast<std::size_t>((r * 4 + c) * 6)], float(100 * r + 10 * c));
  // flip_rows (sxdm's MDA orientation): row 0 is the last row of the file's order.
  spec.orientation = sxdm::parse_scan_orientation("sxdm");
  auto flipped = sxdm::open_scan(spec);
  const auto w = read_all(*flipped);
  EXPECT_EQ(w[0], 200.0f);
  EXPECT_EQ(w[static_cast<std::size_t>(2 * 4 * 6)], 0.0f);
  spec.orientation = sxdm::ScanOrientation::rotate_180;
  EXPECT_EQ(read_all(*sxdm::open_scan(spec))[0], 230.0f);
  // Folder form: frames found by the number at the end of their names.
  spec.orientation = sxdm::ScanOrientation::file;
  spec.images = ".";
  EXPECT_EQ(read_all(*sxdm::open_scan(spec)), v);
}

TEST(SxdmScan, StackFramesByIndexInTableOrder) {
  TempDir t;
  // A 6-frame TIFF stack whose frame k holds the value 10·k; the table puts frame 5 - k at
  // raster point k (2 rows x 3 columns), listed in shuffled order.
  Array stack(DType::u16, {6, 2, 2});
  for (std::int64_t k = 0; k < 6; ++k)
    for (std::int64_t p = 0; p < 4; ++p) stack.data<std::uint16_t>()[k * 4 + p] = static_cast<std::uint16_t>(10 * k);
  io::write_tiff(t.path / "stack.tif", stack);
  std::ofstream(t.path / "p.txt") << "index x y\n2 0 1\n5 0 0\n0 2 1\n4 1 0\n1 1 1\n3 2 0\n";
  sxdm::ScanSpec spec;
  spec.base = t.path;
  spec.positions = "p.txt";
  spec.stack = "stack.tif";
  auto src = sxdm::open_scan(spec);
  EXPECT_EQ(src->info().dtype, DType::u16);
  std::vector<std::uint16_t> v(24);
  src->read(0, 6, reinterpret_cast<std::byte*>(v.data()));
  for (std::int64_t k = 0; k < 6; ++k) EXPECT_EQ(v[static_cast<std::size_t>(k * 4)], 10 * (5 - k)) << k;
  std::ofstream(t.path / "q.txt") << "index x y\n9 0 0\n";
  spec.positions = "q.txt";
  EXPECT_THROW((void)sxdm::open_scan(spec), InvalidArgument);
}

TEST(SxdmScan, MissingFrameNamesTheFile) {
  TempDir t;
  write_scan(t.path, "a", 2, 3, 2, 2, [](auto, auto, auto, auto) { return 1.0f; });
  fs::remove(t.path / "a_104.tif");
  sxdm::ScanSpec spec;
  spec.base = t.path;
  spec.positions = "a.csv";
  spec.images = "a_{}.tif";
  try {
    (void)sxdm::open_scan(spec);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("a_104.tif"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ry 1, rx 1"), std::string::npos) << e.what();
  }
  spec.images = ".";
  EXPECT_THROW((void)sxdm::open_scan(spec), IoError);
}

TEST(SxdmScan, IncompleteRasterAndBadTableAreClearErrors) {
  TempDir t;
  std::ofstream(t.path / "p.csv") << "frame,x,y\n0,0,0\n1,1,0\n2,0,1\n";
  sxdm::ScanSpec spec;
  spec.base = t.path;
  spec.positions = "p.csv";
  spec.images = "f_{}.tif";
  EXPECT_THROW((void)sxdm::read_scan_layout(spec), InvalidArgument);
  std::ofstream(t.path / "q.csv") << "frame x\n0 0\n";
  spec.positions = "q.csv";
  EXPECT_THROW((void)sxdm::read_scan_layout(spec), FormatError);
  std::ofstream(t.path / "r.csv") << "frame x y\n0 0 zero\n";
  spec.positions = "r.csv";
  EXPECT_THROW((void)sxdm::read_scan_layout(spec), FormatError);
}

// ---------------------------------------------------------------- background

TEST(SxdmBackground, EdgeFrameMeanTimesMultiplier) {
  TempDir t;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0, 100);
  std::vector<float> values(3 * 4 * 4);
  for (auto& x : values) x = std::round(u(rng));
  write_scan(t.path, "a", 3, 4, 2, 2, [&](auto r, auto c, auto i, auto j) {
    return values[static_cast<std::size_t>((r * 4 + c) * 4 + i * 2 + j)];
  });
  sxdm::ScanSpec spec;
  spec.base = t.path;
  spec.positions = "a.csv";
  spec.images = "a_{}.tif";
  std::shared_ptr<io::Source> raw = sxdm::open_scan(spec);
  const Array bg = sxdm::edge_frame_background(*raw, 3, 0.5);
  for (int p = 0; p < 4; ++p) {
    double s = 0;
    for (int f : {0, 1, 2, 9, 10, 11}) s += values[static_cast<std::size_t>(f * 4 + p)];
    EXPECT_NEAR(bg.data<double>()[p], 0.5 * s / 6, 1e-12);
  }
  // More edge frames than the scan holds: every frame once.
  const Array all = sxdm::edge_frame_background(*raw, 10, 1.0);
  double s0 = 0;
  for (int f = 0; f < 12; ++f) s0 += values[static_cast<std::size_t>(f * 4)];
  EXPECT_NEAR(all.data<double>()[0], s0 / 12, 1e-12);
  sxdm::BackgroundSubtracted sub(raw, bg);
  EXPECT_EQ(sub.info().dtype, DType::f32);
  const auto v = read_all(sub);
  for (std::size_t k = 0; k < v.size(); ++k)
    EXPECT_FLOAT_EQ(v[k], static_cast<float>(values[k] - bg.data<double>()[k % 4]));
  EXPECT_THROW((void)sxdm::edge_frame_background(*raw, 0, 1.0), InvalidArgument);
  // Given dark images: their mean times the multiplier.
  Array d1(DType::f32, {2, 2}), d2(DType::f32, {2, 2});
  for (int p = 0; p < 4; ++p) {
    d1.data<float>()[p] = float(p);
    d2.data<float>()[p] = float(3 * p + 2);
  }
  io::write_tiff(t.path / "d1.tif", d1);
  io::write_tiff(t.path / "d2.tif", d2);
  sxdm::BackgroundSpec spec_img;
  spec_img.kind = sxdm::BackgroundSpec::Kind::image;
  spec_img.images = {t.path / "d1.tif", t.path / "d2.tif"};
  spec_img.multiplier = 2;
  const Array dark = sxdm::scan_background(*raw, spec_img);
  for (int p = 0; p < 4; ++p) EXPECT_DOUBLE_EQ(dark.data<double>()[p], 2 * (p + 3 * p + 2) / 2.0);
  Array d3(DType::f32, {3, 2});
  std::fill_n(d3.data<float>(), 6, 1.0f);
  io::write_tiff(t.path / "d3.tif", d3);
  spec_img.images = {t.path / "d3.tif"};
  EXPECT_THROW((void)sxdm::scan_background(*raw, spec_img), InvalidArgument);
}

// ---------------------------------------------------------------- framesets

TEST(SxdmFrameset, AlignedSumWithIntegerShiftsAndOutOfFieldZero) {
  TempDir t;
  const std::int64_t rows = 4, cols = 5;
  for (int s = 0; s < 3; ++s)
    write_scan(t.path, fmt::format("s{}", s), rows, cols, 2, 2,
               [s](auto r, auto c, auto, auto) { return float(1000 * s + 10 * r + c); });
  const int dy[3] = {0, 1, -1}, dx[3] = {0, -2, 1};
  nlohmann::json scans = nlohmann::json::array();
  for (int s = 0; s < 3; ++s) {
    auto e = scan_entry(fmt::format("s{}", s), 10.0 + s);
    e["shift"] = {{"dy", dy[s]}, {"dx", dx[s] + (s == 2 ? 0.3 : 0.0)}};  // 0.3 rounds away
    scans.push_back(e);
  }
  write_manifest(t.path / "fs.json", scans);
  ASSERT_TRUE(sxdm::is_frameset_manifest(t.path / "fs.json"));
  auto src = io::open(t.path / "fs.json");
  EXPECT_EQ(src->info().format, "sxdm-frameset");
  EXPECT_EQ(src->info().dtype, DType::f32);
  EXPECT_EQ(src->info().scan_y, rows);
  EXPECT_EQ(src->info().scan_x, cols);
  EXPECT_EQ(src->info().metadata["sxdm_frameset"]["scans"].size(), 3u);
  const auto v = read_all(*src);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      float want = 0;
      for (int s = 0; s < 3; ++s) {
        const std::int64_t y = r + dy[s], x = c + dx[s];
        if (y >= 0 && y < rows && x >= 0 && x < cols) want += float(1000 * s + 10 * y + x);
      }
      EXPECT_EQ(v[static_cast<std::size_t>((r * cols + c) * 4)], want) << r << "," << c;
    }
  // Reading in odd blocks gives the same frames.
  std::vector<float> part(static_cast<std::size_t>(7 * 4));
  src->read(6, 7, reinterpret_cast<std::byte*>(part.data()));
  EXPECT_TRUE(std::equal(part.begin(), part.end(), v.begin() + 6 * 4));
  // One scan aligned on its own: zero frames out of field.
  const auto f = sxdm::read_frameset(t.path / "fs.json");
  auto one = sxdm::open_frameset_scan(f, 1);
  const auto w = read_all(*one);
  EXPECT_EQ(w[0], 0.0f);                                   // (0, 0) -> (1, -2): out of field
  EXPECT_EQ(w[static_cast<std::size_t>(2 * 4)], 1010.0f);  // (0, 2) -> (1, 0)
  EXPECT_EQ(w[static_cast<std::size_t>(3 * cols * 4)], 0.0f);  // row 3 + 1 is out of field
  const Array cover = sxdm::frameset_coverage(f, 1);
  const auto cv = cover.view<const std::uint8_t, 2>();
  EXPECT_EQ(cv(0, 1), 0);
  EXPECT_EQ(cv(0, 2), 1);
}

TEST(SxdmFrameset, BadManifestsAreClearErrors) {
  TempDir t;
  const auto expect_format_error = [&](const std::string& text, const std::string& needle) {
    std::ofstream(t.path / "m.json") << text;
    try {
      (void)sxdm::read_frameset(t.path / "m.json");
      ADD_FAILURE() << "expected FormatError for " << text;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_format_error("{\"sxdm_frameset\": 1, ", "not valid JSON");
  expect_format_error("{\"frames\": []}", "not an SXDM frameset manifest");
  expect_format_error("{\"sxdm_frameset\": 1, \"scans\": [{\"name\": \"a\", \"positions\": \"a.csv\", \"theta\": 1}, "
                      "{\"name\": \"a\", \"positions\": \"b.csv\", \"theta\": 2}]}",
                      "used twice");
  expect_format_error("{\"sxdm_frameset\": 1, \"scans\": []}", "scans");
  expect_format_error("{\"sxdm_frameset\": 1, \"scans\": [{\"positions\": \"a.csv\", \"mda\": \"a.mda\"}]}", "exactly one");
  expect_format_error("{\"sxdm_frameset\": 1, \"scans\": [{\"positions\": \"a.csv\", \"theta\": \"x\"}]}", "theta");
  expect_format_error("{\"sxdm_frameset\": 1, \"scans\": [{\"positions\": \"a.csv\", \"theta\": 1, \"shift\": {\"dy\": 1e300}}]}",
                      "shift");
  expect_format_error("{\"sxdm_frameset\": 1, \"background\": 3, \"scans\": [{\"positions\": \"a.csv\", \"theta\": 1}]}",
                      "background");
  // A missing theta falls back to the table, which must exist.
  std::ofstream(t.path / "m.json") << "{\"sxdm_frameset\": 1, \"scans\": [{\"positions\": \"nope.csv\"}]}";
  EXPECT_THROW((void)sxdm::read_frameset(t.path / "m.json"), IoError);
  // Not a manifest: io::open falls through to its other readers.
  std::ofstream(t.path / "x.json") << "{\"a\": 1}";
  EXPECT_FALSE(sxdm::is_frameset_manifest(t.path / "x.json"));
  EXPECT_THROW((void)io::open(t.path / "x.json"), FormatError);
}

TEST(SxdmFrameset, ThetaFromTableAndShiftsWrittenBack) {
  TempDir t;
  write_scan(t.path, "a", 2, 2, 2, 2, [](auto, auto, auto, auto) { return 1.0f; }, 12.5);
  write_scan(t.path, "b", 2, 2, 2, 2, [](auto, auto, auto, auto) { return 2.0f; }, 12.75);
  nlohmann::json scans = {{{"positions", "a.csv"}, {"images", "a_{}.tif"}},
                          {{"positions", "b.csv"}, {"images", "b_{}.tif"}, {"shift", {{"dy", 1}, {"dx", 0}, {"manual", true}}}}};
  write_manifest(t.path / "fs.json", scans, {{"frames", 1}, {"multiplier", 0.5}});
  auto f = sxdm::read_frameset(t.path / "fs.json");
  EXPECT_DOUBLE_EQ(f.scans[0].theta, 12.5);
  EXPECT_DOUBLE_EQ(f.scans[1].theta, 12.75);
  EXPECT_TRUE(f.scans[1].shift.manual);
  EXPECT_EQ(f.background.kind, sxdm::BackgroundSpec::Kind::edge_frames);
  EXPECT_DOUBLE_EQ(f.background.multiplier, 0.5);
  sxdm::write_frameset_shifts(t.path / "fs.json", {{0, 0, false}, {-1.25, 2.5, false}});
  f = sxdm::read_frameset(t.path / "fs.json");
  EXPECT_DOUBLE_EQ(f.scans[1].shift.dy, -1.25);
  EXPECT_DOUBLE_EQ(f.scans[1].shift.dx, 2.5);
  EXPECT_EQ(f.scans[1].spec.images, "b_{}.tif");  // other keys kept
}

// ---------------------------------------------------------------- alignment

TEST(SxdmAlignment, PhaseCorrelationIntegerExactAndSubpixel) {
  const std::int64_t n = 32;
  const auto map = [&](double r0, double c0) {
    Array a(DType::f64, {n, n});
    auto v = a.view<double, 2>();
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t c = 0; c < n; ++c)
        v(r, c) = blob(double(r), double(c), r0, c0, 2.5) + 0.5 * blob(double(r), double(c), r0 + 6, c0 - 4, 1.5);
    return a;
  };
  const Array ref = map(14, 15);
  for (auto [dy, dx] : {std::pair{3, -2}, std::pair{-5, 4}, std::pair{0, 1}}) {
    const auto pc = sxdm::phase_correlation(ref, map(14 + dy, 15 + dx), 1);
    EXPECT_EQ(pc.dy, dy);
    EXPECT_EQ(pc.dx, dx);
    const auto up = sxdm::phase_correlation(ref, map(14 + dy, 15 + dx), 20);
    EXPECT_NEAR(up.dy, dy, 1e-9);
    EXPECT_NEAR(up.dx, dx, 1e-9);
  }
  for (auto [dy, dx] : {std::pair{0.3, -0.45}, std::pair{-2.7, 1.2}, std::pair{1.55, 0.05}}) {
    const auto pc = sxdm::phase_correlation(ref, map(14 + dy, 15 + dx), 20);
    EXPECT_NEAR(pc.dy, dy, 0.1);
    EXPECT_NEAR(pc.dx, dx, 0.1);
    const auto cc = sxdm::phase_correlation(ref, map(14 + dy, 15 + dx), 50, false);
    EXPECT_NEAR(cc.dy, dy, 0.1);
    EXPECT_NEAR(cc.dx, dx, 0.1);
  }
  EXPECT_THROW((void)sxdm::phase_correlation(ref, Array(DType::f64, {n, n + 1})), InvalidArgument);
}

TEST(SxdmAlignment, FramesetShiftsRecoveredFromRoiMaps) {
  TempDir t;
  const std::int64_t rows = 12, cols = 14;
  const int dy[3] = {0, 2, -1}, dx[3] = {0, -3, 2};
  nlohmann::json scans = nlohmann::json::array();
  for (int s = 0; s < 3; ++s) {
    // The sample feature sits at (5.5, 6.5) in the reference, at + shift in scan s; its
    // diffraction spot is detector pixel (1, 2); a flat detector background of 5 everywhere.
    write_scan(t.path, fmt::format("s{}", s), rows, cols, 4, 4, [&, s](auto r, auto c, auto i, auto j) {
      const double m = blob(double(r), double(c), 5.5 + dy[s], 6.5 + dx[s], 1.3);
      return float(5.0 + (i == 1 && j == 2 ? 1000.0 * m : 0.0));
    });
    scans.push_back(scan_entry(fmt::format("s{}", s), 8.0 + 0.1 * s));
  }
  scans[2]["shift"] = {{"dy", 7}, {"dx", 7}, {"manual", true}};
  write_manifest(t.path / "fs.json", scans, {{"frames", 3}, {"multiplier", 1.0}});
  const auto f = sxdm::read_frameset(t.path / "fs.json");
  const auto maps = sxdm::frameset_maps(f, sxdm::parse_alignment_map("roi:2,1,3,2"));
  ASSERT_EQ(maps.size(), 3u);
  std::vector<sxdm::PhaseCorrelation> details;
  const auto shifts = sxdm::estimate_shifts(f, maps, 1, true, &details);
  EXPECT_EQ(shifts[0].dy, 0);
  EXPECT_EQ(shifts[1].dy, 2);
  EXPECT_EQ(shifts[1].dx, -3);
  EXPECT_EQ(shifts[2].dy, 7);  // manual: kept
  EXPECT_EQ(details[2].dy, -1);
  EXPECT_EQ(details[2].dx, 2);
  const auto fine = sxdm::estimate_shifts(f, maps, 20, true);
  EXPECT_NEAR(fine[1].dy, 2, 0.1);
  EXPECT_NEAR(fine[1].dx, -3, 0.1);
  EXPECT_THROW((void)sxdm::parse_alignment_map("roi:3,1,2,2"), InvalidArgument);
  EXPECT_EQ(sxdm::parse_alignment_map("mda:D05").channel, "D05");
}

// ---------------------------------------------------------------- rocking curves

TEST(SxdmRocking, GaussianCurveCentreAndWidthRecovered) {
  TempDir t;
  const double centre = 10.37, sigma = 0.21, fwhm = 2.3548200450309493 * sigma;
  nlohmann::json scans = nlohmann::json::array();
  std::vector<double> thetas;
  for (int s = 0; s < 9; ++s) thetas.push_back(9.6 + 0.2 * s);
  std::shuffle(thetas.begin(), thetas.end(), std::mt19937(5));  // manifest order is not θ order
  for (std::size_t s = 0; s < thetas.size(); ++s) {
    const double g = std::exp(-(thetas[s] - centre) * (thetas[s] - centre) / (2 * sigma * sigma));
    write_scan(t.path, fmt::format("s{}", s), 3, 3, 6, 6, [g](auto r, auto c, auto i, auto j) {
      return float(2.0 + ((i >= 2 && i < 4 && j >= 1 && j < 3) ? 400.0 * g * double(1 + r + c) : 0.0));
    });
    scans.push_back(scan_entry(fmt::format("s{}", s), thetas[s]));
  }
  write_manifest(t.path / "fs.json", scans);
  const auto f = sxdm::read_frameset(t.path / "fs.json");
  const auto curve = sxdm::rocking_curve(f, sxdm::DetectorBox{1, 2, 3, 4}, std::nullopt);
  ASSERT_EQ(curve.points.size(), 9u);
  for (std::size_t i = 1; i < curve.points.size(); ++i) EXPECT_LT(curve.points[i - 1].theta, curve.points[i].theta);
  ASSERT_TRUE(curve.fit.ok) << curve.fit.message;
  EXPECT_NEAR(curve.fit.centre, centre, 1e-4);
  EXPECT_NEAR(curve.fit.fwhm, fwhm, 1e-4);
  // Σ over 9 positions of 4 pixels · 400 · (1 + r + c) = 4 · 400 · 27 = 43200; offset 9 · 4 · 2 = 72.
  EXPECT_NEAR(curve.fit.amplitude, 43200, 0.5);
  EXPECT_NEAR(curve.fit.offset, 72, 0.5);
  // FOV: one position (rx 2, ry 1): 4 · 400 · 4 = 6400 at the peak.
  const auto one = sxdm::rocking_curve(f, sxdm::DetectorBox{1, 2, 3, 4}, sxdm::DetectorBox{2, 1, 3, 2});
  EXPECT_EQ(one.points[0].positions, 1);
  EXPECT_NEAR(one.fit.amplitude, 6400, 0.1);
  EXPECT_THROW((void)sxdm::rocking_curve(f, sxdm::DetectorBox{0, 0, 7, 2}, std::nullopt), InvalidArgument);
}

TEST(SxdmRocking, GaussianFitNeedsThreePointsAndSkipsNaN) {
  const std::vector<double> x = {1, 2, 3}, y = {1, 4, 1};
  const auto f3 = sxdm::fit_gaussian(x, y);
  EXPECT_TRUE(f3.ok);
  EXPECT_NEAR(f3.centre, 2, 1e-9);
  const std::vector<double> x2 = {1, 2, 3}, y2 = {1, std::nan(""), 1};
  EXPECT_FALSE(sxdm::fit_gaussian(x2, y2).ok);
}

// ---------------------------------------------------------------- real data (APS 26-ID-C)

TEST(SxdmRealData, Mda294PositionsFrameNumbersAndTheOneShippedFrame) {
  const fs::path dir = shared_data / "sxdm";
  if (!fs::exists(dir / "294.mda")) GTEST_SKIP() << "real data not found at " << dir;
  sxdm::ScanSpec spec;
  spec.base = dir;
  spec.mda = "294.mda";
  spec.images = "scan_294_img_{}.tif";
  spec.theta_channel = "D56";
  const auto l = sxdm::read_scan_layout(spec);  // frame channel found by name: D10 FileNumber_RBV
  EXPECT_EQ(l.rows, 34);
  EXPECT_EQ(l.cols, 27);
  EXPECT_EQ(l.frame_number.front(), 176194);
  EXPECT_EQ(l.frame_number.back(), 177111);
  EXPECT_NEAR(l.x.front(), 64.61, 1e-6);
  EXPECT_NEAR(l.y.front(), -276.97, 1e-6);
  EXPECT_NEAR(*l.theta, 8.2, 1e-5);
  EXPECT_EQ(l.position_units, "um");
  spec.frame_channel = "D10";
  EXPECT_EQ(sxdm::read_scan_layout(spec).frame_number[1], 176195);
  const fs::path frame = sxdm::locate_frame(dir, spec.images, l.frame_number.front());
  EXPECT_EQ(frame.filename(), "scan_294_img_176194.tif");
  EXPECT_EQ(sxdm::locate_frame(dir, ".", 176194).filename(), "scan_294_img_176194.tif");
  // The rest of scan 294 is not shipped: opening it names the first missing frame.
  try {
    (void)sxdm::open_scan(spec);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("scan_294_img_176195.tif"), std::string::npos) << e.what();
  }
  // sxdm's orientation: rows reversed.
  spec.orientation = sxdm::ScanOrientation::flip_rows;
  EXPECT_EQ(sxdm::read_scan_layout(spec).frame_number.front(), 176194 + 33 * 27);
  const Array fluo = sxdm::read_mda_channel_map(spec, "D05");
  EXPECT_EQ(fluo.shape(0), 34);
  EXPECT_EQ(fluo.shape(1), 27);
  spec.frame_channel = "D99";
  EXPECT_THROW((void)sxdm::read_scan_layout(spec), InvalidArgument);
}
