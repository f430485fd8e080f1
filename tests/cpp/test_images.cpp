// PNG/TIFF writers and readers, display scaling and colour maps.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/colormap.hpp"
#include "scandiff/io/image_scaling.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/io/tiff.hpp"
#include "temp_dir.hpp"

using namespace scandiff;
using namespace scandiff::io;
namespace fs = std::filesystem;

namespace {

// A fresh folder per test, removed afterwards.
class ImagesTest : public ::testing::Test {
 protected:
  scandiff_test::TempDir tmp_{"images"};
  const fs::path& dir_ = tmp_.path;

  // Names of everything in the folder (to check that failed writes leave nothing behind).
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
    return names;
  }
};

template <class T>
Array make_array(Shape shape, const std::function<T(std::int64_t)>& value) {
  Array a(dtype_v<T>, std::move(shape));
  T* p = a.data<T>();
  for (std::int64_t i = 0; i < a.size(); ++i) p[i] = value(i);
  return a;
}

bool same_bytes(const Array& a, const Array& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.copy().bytes(), b.copy().bytes(), a.nbytes()) == 0;
}

// Expects `f` to throw E with `needle` (usually the file name) in its message.
template <class E, class F>
void expect_error_naming(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one naming " << needle;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Collects log messages while alive.
struct LogCapture {
  std::vector<std::string> messages;
  LogSink previous;
  LogCapture() {
    previous = set_log_sink([this](LogLevel, std::string_view m) { messages.emplace_back(m); }, LogLevel::debug);
  }
  ~LogCapture() { set_log_sink(previous); }
};

// ---- A minimal TIFF writer independent of libtiff, for byte-order and malformed cases ----

class TiffBytes {
 public:
  explicit TiffBytes(bool big_endian) : be_(big_endian) {}

  struct Page {
    std::uint32_t width = 0, height = 0;
    std::uint16_t bits = 8, format = 1, spp = 1, photometric = 1;
    std::uint32_t tile = 0;                    // tile edge when tiled, else 0 (one strip)
    std::vector<std::vector<std::uint8_t>> chunks;  // strips or tiles, in the file's byte order
    std::vector<std::pair<std::uint16_t, std::uint32_t>> extra_longs;  // additional LONG tags
    bool colormap = false;
  };

  // Sample values of T in this file's byte order.
  template <class T>
  std::vector<std::uint8_t> encode(const std::vector<T>& values) const {
    std::vector<std::uint8_t> out;
    for (T v : values) {
      std::uint8_t b[sizeof(T)];
      std::memcpy(b, &v, sizeof(T));
      if (be_ != (std::endian::native == std::endian::big)) std::reverse(b, b + sizeof(T));
      out.insert(out.end(), b, b + sizeof(T));
    }
    return out;
  }

  void add(Page p) { pages_.push_back(std::move(p)); }

  // Layout per page: IFD, out-of-line tag values, then the pixel chunks, so cutting the file
  // short truncates pixel data while every header stays intact.
  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> out;
    out.push_back(be_ ? 'M' : 'I');
    out.push_back(be_ ? 'M' : 'I');
    put16(out, 42);
    std::size_t link = out.size();
    put32(out, 0);
    for (const auto& p : pages_) {
      struct Entry {
        std::uint16_t tag, type;
        std::uint32_t count;
        std::vector<std::uint8_t> value;
      };
      auto shorts = [&](std::uint16_t tag, std::vector<std::uint16_t> v) {
        std::vector<std::uint8_t> b;
        for (auto x : v) put16(b, x);
        return Entry{tag, 3, static_cast<std::uint32_t>(v.size()), b};
      };
      auto longs = [&](std::uint16_t tag, std::vector<std::uint32_t> v) {
        std::vector<std::uint8_t> b;
        for (auto x : v) put32(b, x);
        return Entry{tag, 4, static_cast<std::uint32_t>(v.size()), b};
      };
      const std::size_t nchunks = p.chunks.size();
      std::vector<std::uint32_t> counts;
      for (const auto& c : p.chunks) counts.push_back(static_cast<std::uint32_t>(c.size()));
      // Offsets are patched once the IFD size is known.
      std::vector<Entry> e = {
          longs(256, {p.width}),
          longs(257, {p.height}),
          shorts(258, std::vector<std::uint16_t>(p.spp, p.bits)),
          shorts(259, {1}),
          shorts(262, {p.photometric}),
          shorts(277, {p.spp}),
          shorts(339, std::vector<std::uint16_t>(p.spp, p.format)),
      };
      if (p.tile) {
        e.push_back(longs(322, {p.tile}));
        e.push_back(longs(323, {p.tile}));
        e.push_back(longs(324, std::vector<std::uint32_t>(nchunks, 0)));
        e.push_back(longs(325, counts));
      } else {
        e.push_back(longs(273, std::vector<std::uint32_t>(nchunks, 0)));
        e.push_back(longs(278, {p.height}));
        e.push_back(longs(279, counts));
      }
      if (p.colormap) e.push_back(shorts(320, std::vector<std::uint16_t>(3u << p.bits, 1000)));
      for (auto [tag, v] : p.extra_longs) e.push_back(longs(tag, {v}));
      std::sort(e.begin(), e.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });

      const std::size_t ifd = out.size() + (out.size() & 1);
      const std::size_t ifd_size = 2 + 12 * e.size() + 4;
      std::size_t blobs = 0;
      for (const auto& x : e)
        if (x.value.size() > 4) blobs += x.value.size() + (x.value.size() & 1);
      std::size_t data = ifd + ifd_size + blobs;
      std::vector<std::uint32_t> offsets;
      for (const auto& c : p.chunks) {
        offsets.push_back(static_cast<std::uint32_t>(data));
        data += c.size();
      }
      for (auto& x : e)
        if (x.tag == 273 || x.tag == 324) x = longs(x.tag, offsets);

      out.resize(ifd);
      patch32(out, link, static_cast<std::uint32_t>(ifd));
      put16(out, static_cast<std::uint16_t>(e.size()));
      std::size_t blob_at = ifd + ifd_size;
      std::vector<std::uint8_t> blob_bytes;
      for (const auto& x : e) {
        put16(out, x.tag);
        put16(out, x.type);
        put32(out, x.count);
        if (x.value.size() <= 4) {
          auto v = x.value;
          v.resize(4, 0);
          out.insert(out.end(), v.begin(), v.end());
        } else {
          put32(out, static_cast<std::uint32_t>(blob_at));
          blob_bytes.insert(blob_bytes.end(), x.value.begin(), x.value.end());
          if (x.value.size() & 1) blob_bytes.push_back(0);
          blob_at += x.value.size() + (x.value.size() & 1);
        }
      }
      link = out.size();
      put32(out, 0);
      out.insert(out.end(), blob_bytes.begin(), blob_bytes.end());
      for (const auto& c : p.chunks) out.insert(out.end(), c.begin(), c.end());
    }
    return out;
  }

 private:
  void put16(std::vector<std::uint8_t>& b, std::uint16_t v) const {
    if (be_) {
      b.push_back(static_cast<std::uint8_t>(v >> 8));
      b.push_back(static_cast<std::uint8_t>(v));
    } else {
      b.push_back(static_cast<std::uint8_t>(v));
      b.push_back(static_cast<std::uint8_t>(v >> 8));
    }
  }
  void put32(std::vector<std::uint8_t>& b, std::uint32_t v) const {
    std::vector<std::uint8_t> t;
    put16(t, static_cast<std::uint16_t>(be_ ? v >> 16 : v));
    put16(t, static_cast<std::uint16_t>(be_ ? v : v >> 16));
    b.insert(b.end(), t.begin(), t.end());
  }
  void patch32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) const {
    std::vector<std::uint8_t> t;
    put32(t, v);
    std::copy(t.begin(), t.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
  }

  bool be_;
  std::vector<Page> pages_;
};

// A one-strip grayscale page of `values` (row-major, width x height).
template <class T>
TiffBytes::Page gray_page(const TiffBytes& t, std::uint32_t width, std::uint32_t height, const std::vector<T>& values) {
  TiffBytes::Page p;
  p.width = width;
  p.height = height;
  p.bits = sizeof(T) * 8;
  p.format = std::is_floating_point_v<T> ? 3 : std::is_signed_v<T> ? 2 : 1;
  p.chunks = {t.encode(values)};
  return p;
}

double luma(const Rgb8& c) { return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; }

// round(num / den) with halves rounded up, in exact integer arithmetic (num >= 0, den > 0).
std::int64_t round_div(std::int64_t num, std::int64_t den) { return (2 * num + den) / (2 * den); }

const fs::path shared_data = SCANDIFF_SHARED_DATA;

}  // namespace

// ---------------------------------------------------------------- scaling

TEST(ImageScaling, PercentileMatchesSortedReferenceAndIgnoresNonFinite) {
  std::mt19937 rng(7);
  std::normal_distribution<double> g(10, 3);
  std::vector<double> v(1001);
  for (auto& x : v) x = g(rng);
  v[5] = std::nan("");
  v[17] = std::numeric_limits<double>::infinity();
  v[99] = -std::numeric_limits<double>::infinity();
  std::vector<double> finite;
  for (double x : v)
    if (std::isfinite(x)) finite.push_back(x);
  std::sort(finite.begin(), finite.end());
  auto a = Array::borrow(v.data(), DType::f64, {7, 143});
  for (double p : {0.0, 0.1, 1.0, 25.0, 50.0, 77.7, 99.9, 100.0}) {
    const double h = p / 100 * double(finite.size() - 1);
    const auto k = static_cast<std::size_t>(std::floor(h));
    const double want = k + 1 < finite.size() ? finite[k] + (h - double(k)) * (finite[k + 1] - finite[k]) : finite[k];
    EXPECT_NEAR(finite_percentile(a, p), want, 1e-12) << "p=" << p;
  }
  EXPECT_THROW(finite_percentile(a, 101), InvalidArgument);
  std::vector<float> nans(4, std::nanf(""));
  EXPECT_TRUE(std::isnan(finite_percentile(Array::borrow(nans.data(), DType::f32, {2, 2}), 50)));
}

TEST(ImageScaling, OneHugeOutlierDoesNotFlattenTheRest) {
  // A 100x100 ramp 0..9999 with one pixel replaced by 1e12.
  auto img = make_array<double>({100, 100}, [](std::int64_t i) { return double(i); });
  const std::size_t outlier = 37 * 100 + 42;
  img.data<double>()[outlier] = 1e12;

  const auto levels = display_levels(img, DisplayRange{}, 255);  // 0.1 .. 99.9 percentiles
  std::set<std::uint16_t> used;
  std::uint16_t lo = 255, hi = 0;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i == outlier) continue;
    used.insert(levels[i]);
    lo = std::min(lo, levels[i]);
    hi = std::max(hi, levels[i]);
  }
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 255);
  EXPECT_EQ(used.size(), 256u);  // every level is used by the ramp
  EXPECT_EQ(levels[outlier], 255);
  const auto lim = display_limits(img, DisplayRange{});
  EXPECT_LT(lim.vmax, 10000.0);

  // Control: min/max scaling lets the outlier squash the whole ramp into level 0.
  DisplayRange full;
  full.low_percentile = 0;
  full.high_percentile = 100;
  const auto flat = display_levels(img, full, 255);
  for (std::size_t i = 0; i < flat.size(); ++i)
    if (i != outlier) {
      ASSERT_EQ(flat[i], 0) << i;
    }
}

TEST(ImageScaling, ConstantImageMapsToZeroAndStretchesFollowTheirFormulas) {
  auto c = make_array<std::uint16_t>({3, 4}, [](std::int64_t) { return std::uint16_t{500}; });
  const auto lim = display_limits(c, {});
  EXPECT_EQ(lim.vmin, 500);
  EXPECT_EQ(lim.vmax, 500);
  const Array u = scale_to_unit(c);
  for (std::int64_t i = 0; i < u.size(); ++i) EXPECT_EQ(u.data<float>()[i], 0.0f);

  using S = DisplayRange::Stretch;
  EXPECT_DOUBLE_EQ(display_value(9, {0, 99}, S::log), 0.5);  // log1p(9) / log1p(99) = ln 10 / ln 100
  EXPECT_DOUBLE_EQ(display_value(25, {0, 100}, S::sqrt), 0.5);
  EXPECT_DOUBLE_EQ(display_value(30, {10, 50}, S::linear), 0.5);
  EXPECT_EQ(display_value(-5, {10, 50}, S::log), 0.0);  // clipped below
  EXPECT_EQ(display_value(1e9, {10, 50}, S::sqrt), 1.0);  // clipped above
  EXPECT_EQ(display_value(std::nan(""), {10, 50}, S::linear), 0.0);
}

TEST(ImageScaling, StridedInputAndArgumentChecks) {
  // A 3x4 float matrix seen transposed (4x3) through byte strides.
  std::vector<float> m(12);
  for (int i = 0; i < 12; ++i) m[i] = float(i);
  auto t = Array::borrow(m.data(), DType::f32, {4, 3}, {4, 16});
  DisplayRange r;
  r.vmin = 0;
  r.vmax = 11;
  const Array u = scale_to_unit(t, r);
  ASSERT_EQ(u.shape(), (Shape{4, 3}));
  auto uv = u.view<float, 2>();
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 3; ++x) EXPECT_FLOAT_EQ(uv(y, x), float(x * 4 + y) / 11.0f);

  Array cube(DType::f32, {2, 2, 2});
  EXPECT_THROW(display_limits(cube, {}), InvalidArgument);
  DisplayRange bad;
  bad.vmin = 5;
  bad.vmax = 1;
  EXPECT_THROW(display_limits(t, bad), InvalidArgument);
  bad = {};
  bad.low_percentile = 60;
  bad.high_percentile = 40;
  EXPECT_THROW(display_limits(t, bad), InvalidArgument);
}

// ---------------------------------------------------------------- colour maps

TEST(Colormap, TablesAndNames) {
  for (auto name : colormap_names()) EXPECT_EQ(colormap(name).size(), 256u) << name;
  const auto gray = colormap("gray");
  for (int i = 0; i < 256; ++i) EXPECT_EQ(gray[i], (Rgb8{std::uint8_t(i), std::uint8_t(i), std::uint8_t(i)}));
  // Published end points: viridis #440154 .. #FDE725, inferno/magma #000004 .. #FCFFA4/#FCFDBF.
  EXPECT_EQ(colormap("viridis").front(), (Rgb8{0x44, 0x01, 0x54}));
  EXPECT_EQ(colormap("viridis").back(), (Rgb8{0xFD, 0xE7, 0x25}));
  EXPECT_EQ(colormap("inferno").front(), (Rgb8{0x00, 0x00, 0x04}));
  EXPECT_EQ(colormap("inferno").back(), (Rgb8{0xFC, 0xFF, 0xA4}));
  EXPECT_EQ(colormap("magma").back(), (Rgb8{0xFC, 0xFD, 0xBF}));
  expect_error_naming<InvalidArgument>([] { colormap("jet"); }, "viridis");
  expect_error_naming<InvalidArgument>([] { colormap("jet"); }, "'jet'");
}

// ---------------------------------------------------------------- PNG

TEST_F(ImagesTest, Png8BitGrayRoundTripHasTheExpectedLevels) {
  // Values -20..259 over 7x40 pixels, displayed on [0, 200]: clipping at both ends.
  auto img = make_array<std::int32_t>({7, 40}, [](std::int64_t i) { return std::int32_t(i - 20); });
  PngOptions o;
  o.range.vmin = 0;
  o.range.vmax = 200;
  const auto file = dir_ / "gray8.png";
  write_png(file, img, o);
  const Array back = read_png(file);
  ASSERT_EQ(back.dtype(), DType::u8);
  ASSERT_EQ(back.shape(), (Shape{7, 40}));
  const auto* px = back.data<std::uint8_t>();
  for (std::int64_t i = 0; i < img.size(); ++i) {
    const std::int64_t v = std::clamp<std::int64_t>(i - 20, 0, 200);
    ASSERT_EQ(px[i], round_div(v * 255, 200)) << "pixel " << i;
  }
  EXPECT_EQ(listing(), (std::set<std::string>{"gray8.png"}));  // no temporary left
}

TEST_F(ImagesTest, Png16BitGrayRoundTripHasTheExpectedLevels) {
  auto img = make_array<float>({25, 40}, [](std::int64_t i) { return float(i); });  // 0..999
  PngOptions o;
  o.bit_depth = 16;
  o.range.vmin = 100;
  o.range.vmax = 900;
  const auto file = dir_ / "gray16.png";
  write_png(file, img, o);
  const Array back = read_png(file);
  ASSERT_EQ(back.dtype(), DType::u16);
  ASSERT_EQ(back.shape(), (Shape{25, 40}));
  const auto* px = back.data<std::uint16_t>();
  for (std::int64_t i = 0; i < img.size(); ++i) {
    const std::int64_t v = std::clamp<std::int64_t>(i - 100, 0, 800);
    ASSERT_EQ(px[i], round_div(v * 65535, 800)) << "pixel " << i;
  }
}

TEST_F(ImagesTest, PngViridisRampReproducesTheTable) {
  auto ramp = make_array<std::uint8_t>({1, 256}, [](std::int64_t i) { return std::uint8_t(i); });
  PngOptions o;
  o.colormap = "viridis";
  o.range.vmin = 0;
  o.range.vmax = 255;
  const auto file = dir_ / "viridis.png";
  write_png(file, ramp, o);
  const Array back = read_png(file);
  ASSERT_EQ(back.dtype(), DType::u8);
  ASSERT_EQ(back.shape(), (Shape{1, 256, 3}));
  const auto table = colormap("viridis");
  auto px = [&](int i) {
    const auto* p = back.data<std::uint8_t>() + 3 * i;
    return Rgb8{p[0], p[1], p[2]};
  };
  EXPECT_EQ(px(0), table.front());
  EXPECT_EQ(px(255), table.back());
  for (int i = 0; i < 256; ++i) ASSERT_EQ(px(i), table[i]) << i;
  // Luminance rises along the ramp: never down by more than 8-bit rounding, strictly up over
  // every 16 entries, and by far overall.
  for (int i = 1; i < 256; ++i) EXPECT_GE(luma(px(i)) - luma(px(i - 1)), -1.0) << i;
  for (int i = 16; i < 256; i += 16) EXPECT_GT(luma(px(i)), luma(px(i - 16))) << i;
  EXPECT_GT(luma(px(255)) - luma(px(0)), 150.0);
}

TEST_F(ImagesTest, PngNanAndInfinitePixelsDoNotBreakScaling) {
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {nan, 0, 1, 2, 3, inf, -inf, 4, nan, 5, 6, 7};
  auto img = Array::borrow(v.data(), DType::f32, {3, 4});
  for (const char* map : {"gray", "magma"}) {
    PngOptions o;
    o.colormap = map;
    o.range.low_percentile = 0;
    o.range.high_percentile = 100;  // finite values only: limits [0, 7]
    const auto file = dir_ / (std::string(map) + ".png");
    write_png(file, img, o);
    const Array back = read_png(file);
    const auto table = colormap(map);
    const int ch = back.rank() == 3 ? 3 : 1;
    auto level_of = [&](int i) {  // index of the pixel's colour in the table
      const auto* p = back.data<std::uint8_t>() + ch * i;
      for (int k = 0; k < 256; ++k)
        if (table[k][0] == p[0] && (ch == 1 || (table[k][1] == p[1] && table[k][2] == p[2]))) return k;
      return -1;
    };
    EXPECT_EQ(level_of(0), 0) << map;    // NaN
    EXPECT_EQ(level_of(8), 0) << map;    // NaN
    EXPECT_EQ(level_of(5), 255) << map;  // +inf clips high
    EXPECT_EQ(level_of(6), 0) << map;    // -inf clips low
    EXPECT_EQ(level_of(11), 255) << map; // 7 = vmax
    EXPECT_EQ(level_of(4), round_div(3 * 255, 7)) << map;
  }
  std::vector<double> all_nan(6, std::nan(""));
  const auto f = dir_ / "nan.png";
  write_png(f, Array::borrow(all_nan.data(), DType::f64, {2, 3}));
  const Array back = read_png(f);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(back.data<std::uint8_t>()[i], 0);
}

TEST_F(ImagesTest, PngRejectsBadOptionsWithoutCreatingFiles) {
  Array img(DType::u16, {4, 4});
  PngOptions o;
  o.bit_depth = 12;
  EXPECT_THROW(write_png(dir_ / "a.png", img, o), InvalidArgument);
  o.bit_depth = 16;
  o.colormap = "viridis";
  EXPECT_THROW(write_png(dir_ / "a.png", img, o), InvalidArgument);
  o = {};
  o.colormap = "nope";
  expect_error_naming<InvalidArgument>([&] { write_png(dir_ / "a.png", img, o); }, "inferno");
  EXPECT_THROW(write_png(dir_ / "a.png", Array(DType::u8, {2, 2, 2})), InvalidArgument);
  EXPECT_THROW(write_png(dir_ / "a.png", Array(DType::u8, {0, 5})), InvalidArgument);
  EXPECT_TRUE(listing().empty());
}

// ---------------------------------------------------------------- TIFF round trips

template <class T>
Array tiff_test_values(Shape shape) {
  // Spans the type's range, including its extremes (and NaN/inf/-0 for floats).
  using L = std::numeric_limits<T>;
  return make_array<T>(std::move(shape), [](std::int64_t i) -> T {
    switch (i % 11) {
      case 0: return L::lowest();
      case 1: return L::max();
      case 2: return T(0);
      case 3:
        if constexpr (std::is_floating_point_v<T>) return L::quiet_NaN();
        else return T(1);
      case 4:
        if constexpr (std::is_floating_point_v<T>) return -L::infinity();
        else return T(L::max() / 3);
      case 5:
        if constexpr (std::is_floating_point_v<T>) return T(-0.0);
        else return T(L::max() - 1);
      default:
        if constexpr (std::is_floating_point_v<T>) return T(std::sin(double(i)) * 1e5);
        else return T(i * 2654435761ULL % (std::uint64_t(L::max()) + 1));
    }
  });
}

TEST_F(ImagesTest, TiffRoundTripEveryDtype2DAnd3DExactly) {
  for (auto comp : {TiffOptions::Compression::none, TiffOptions::Compression::deflate}) {
    TiffOptions opt;
    opt.compression = comp;
    for (DType t : {DType::u8, DType::u16, DType::u32, DType::i32, DType::f32, DType::f64}) {
      visit_dtype(t, [&](auto tag) {
        using T = decltype(tag);
        const std::string label = std::string(name_of(t)) + (comp == TiffOptions::Compression::deflate ? "-z" : "");
        // Odd sizes: several strips per page with a short last one.
        const Array img = tiff_test_values<T>({301, 257});
        const auto f2 = dir_ / (label + "-2d.tif");
        write_tiff(f2, img, opt);
        const Array back2 = read_tiff(f2);
        EXPECT_TRUE(same_bytes(img, back2)) << label;

        const Array stack = tiff_test_values<T>({3, 97, 1031});
        const auto f3 = dir_ / (label + "-3d.tif");
        write_tiff(f3, stack, opt);
        const Array back3 = read_tiff(f3);
        EXPECT_EQ(back3.shape(), (Shape{3, 97, 1031})) << label;
        EXPECT_TRUE(same_bytes(stack, back3)) << label;
      });
    }
  }
  // Deflate actually compresses a smooth image.
  auto smooth = make_array<std::uint16_t>({256, 256}, [](std::int64_t i) { return std::uint16_t(i / 256 + i % 256); });
  TiffOptions z;
  z.compression = TiffOptions::Compression::deflate;
  write_tiff(dir_ / "raw.tif", smooth);
  write_tiff(dir_ / "z.tif", smooth, z);
  EXPECT_LT(fs::file_size(dir_ / "z.tif") * 4, fs::file_size(dir_ / "raw.tif"));
  EXPECT_TRUE(same_bytes(smooth, read_tiff(dir_ / "z.tif")));
}

TEST_F(ImagesTest, TiffWritesStridedInputAndSinglePageStacks) {
  std::vector<std::int32_t> m(6 * 5);
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = std::int32_t(i) - 7;
  const auto before = m;
  const auto t = Array::borrow(m.data(), DType::i32, {5, 6}, {4, 20});  // a 6x5 matrix transposed
  TiffOptions z;
  z.compression = TiffOptions::Compression::deflate;  // the predictor works in place: not on our data
  write_tiff(dir_ / "t.tif", t, z);
  const Array back = read_tiff(dir_ / "t.tif");
  EXPECT_TRUE(same_bytes(t.copy(), back));
  EXPECT_EQ(m, before);  // the caller's memory is not modified
  const auto c = Array::borrow(m.data(), DType::i32, {6, 5});  // contiguous: written without a copy
  write_tiff(dir_ / "c.tif", c, z);
  EXPECT_EQ(m, before);
  EXPECT_TRUE(same_bytes(c, read_tiff(dir_ / "c.tif")));

  // A one-page stack reads back as 2D (one page is one image).
  const Array one = tiff_test_values<float>({1, 4, 5});
  write_tiff(dir_ / "one.tif", one);
  const Array r = read_tiff(dir_ / "one.tif");
  EXPECT_EQ(r.shape(), (Shape{4, 5}));
  EXPECT_EQ(std::memcmp(r.bytes(), one.bytes(), one.nbytes()), 0);

  EXPECT_THROW(write_tiff(dir_ / "x.tif", Array(DType::u8, {7})), InvalidArgument);
  EXPECT_THROW(write_tiff(dir_ / "x.tif", Array(DType::u8, {0, 3})), InvalidArgument);
  TiffOptions bad;
  bad.compression = TiffOptions::Compression::deflate;
  bad.deflate_level = 12;
  EXPECT_THROW(write_tiff(dir_ / "x.tif", Array(DType::u8, {2, 3}), bad), InvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "x.tif"));
}

// ---------------------------------------------------------------- TIFF from independent bytes

TEST_F(ImagesTest, TiffReadsBothByteOrdersOfEveryType) {
  for (bool be : {false, true}) {
    const std::string order = be ? "big-endian" : "little-endian";
    auto check = [&](auto values, DType want) {
      using T = typename decltype(values)::value_type;
      TiffBytes t(be);
      t.add(gray_page<T>(t, 3, 2, values));
      const auto f = dir_ / ("order-" + order + ".tif");
      write_bytes(f, t.bytes());
      const Array a = read_tiff(f);
      ASSERT_EQ(a.dtype(), want) << order;
      ASSERT_EQ(a.shape(), (Shape{2, 3})) << order;
      for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(a.data<T>()[i], values[i]) << order << " " << i;
    };
    check(std::vector<std::uint8_t>{0, 1, 127, 128, 200, 255}, DType::u8);
    check(std::vector<std::uint16_t>{1, 258, 65535, 4660, 0, 43981}, DType::u16);
    check(std::vector<std::uint32_t>{1, 0x01020304u, 0xffffffffu, 7, 0, 0x80000000u}, DType::u32);
    check(std::vector<std::int32_t>{-1, -2, 2147483647, -2147483647 - 1, 0, 621698}, DType::i32);
    check(std::vector<float>{1.5f, -2.25f, 3.4e38f, 1e-40f, 0.f, -7.f}, DType::f32);
    check(std::vector<double>{1.5, -2.25, 1e300, -1e-310, 0., 6.02214076e23}, DType::f64);
  }
}

TEST_F(ImagesTest, TiffReadsTiledAndMultiPageFiles) {
  // 20x40 u16 in 16x16 tiles (2 rows x 3 columns of tiles, padded at the edges), big-endian.
  TiffBytes t(true);
  const std::uint32_t h = 20, w = 40, e = 16;
  auto value = [](std::uint32_t y, std::uint32_t x) { return std::uint16_t(y * 1000 + x); };
  TiffBytes::Page p;
  p.width = w;
  p.height = h;
  p.bits = 16;
  p.tile = e;
  for (std::uint32_t ty = 0; ty < h; ty += e)
    for (std::uint32_t tx = 0; tx < w; tx += e) {
      std::vector<std::uint16_t> tile(e * e, 0xdead);
      for (std::uint32_t y = 0; y < e; ++y)
        for (std::uint32_t x = 0; x < e; ++x)
          if (ty + y < h && tx + x < w) tile[y * e + x] = value(ty + y, tx + x);
      p.chunks.push_back(t.encode(tile));
    }
  t.add(p);
  write_bytes(dir_ / "tiled.tif", t.bytes());
  const Array a = read_tiff(dir_ / "tiled.tif");
  ASSERT_EQ(a.shape(), (Shape{h, w}));
  auto v = a.view<std::uint16_t, 2>();
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) ASSERT_EQ(v(y, x), value(y, x)) << y << "," << x;

  // Three pages become a (3, H, W) stack.
  TiffBytes m(false);
  for (int k = 0; k < 3; ++k) m.add(gray_page<float>(m, 2, 2, {float(k), 1.f, 2.f, 3.f + float(k)}));
  write_bytes(dir_ / "pages.tif", m.bytes());
  const Array s = read_tiff(dir_ / "pages.tif");
  ASSERT_EQ(s.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ((s.view<float, 3>()(2, 0, 0)), 2.f);
  EXPECT_EQ((s.view<float, 3>()(2, 1, 1)), 5.f);
}

TEST_F(ImagesTest, TiffRejectsUnsupportedLayoutsClearly) {
  auto expect_format = [&](const TiffBytes& t, const std::string& file, const std::string& what) {
    write_bytes(dir_ / file, t.bytes());
    expect_error_naming<FormatError>([&] { read_tiff(dir_ / file); }, file);
    expect_error_naming<FormatError>([&] { read_tiff(dir_ / file); }, what);
  };
  {  // RGB
    TiffBytes t(false);
    auto p = gray_page<std::uint8_t>(t, 2, 1, {1, 2, 3, 4, 5, 6});
    p.spp = 3;
    p.photometric = 2;
    t.add(p);
    expect_format(t, "rgb.tif", "samples per pixel");
  }
  {  // palette
    TiffBytes t(false);
    auto p = gray_page<std::uint8_t>(t, 2, 2, {0, 1, 2, 3});
    p.photometric = 3;
    p.colormap = true;
    t.add(p);
    expect_format(t, "palette.tif", "palette");
  }
  {  // a sample type without a DType
    TiffBytes t(true);
    t.add(gray_page<std::int16_t>(t, 2, 2, {-1, 2, -3, 4}));
    expect_format(t, "int16.tif", "16-bit signed integer");
  }
  {  // pages of different shapes
    TiffBytes t(false);
    t.add(gray_page<std::uint16_t>(t, 3, 2, {1, 2, 3, 4, 5, 6}));
    t.add(gray_page<std::uint16_t>(t, 2, 3, {1, 2, 3, 4, 5, 6}));
    expect_format(t, "mixed.tif", "page 1");
  }
  {  // pages of different types
    TiffBytes t(false);
    t.add(gray_page<std::uint16_t>(t, 2, 2, {1, 2, 3, 4}));
    t.add(gray_page<float>(t, 2, 2, {1, 2, 3, 4}));
    expect_format(t, "mixedtype.tif", "float32");
  }
}

// ---------------------------------------------------------------- malformed input and failed writes

TEST_F(ImagesTest, MissingNonImageAndTruncatedFilesGiveNamedErrors) {
  const auto missing = dir_ / "missing.tif";
  expect_error_naming<IoError>([&] { read_tiff(missing); }, "missing.tif");
  expect_error_naming<IoError>([&] { read_png(dir_ / "missing.png"); }, "missing.png");
  expect_error_naming<IoError>([&] { read_tiff(dir_); }, dir_.string());
  expect_error_naming<IoError>([&] { read_png(dir_); }, dir_.string());

  const auto text = dir_ / "notes.tif";
  write_bytes(text, {'h', 'e', 'l', 'l', 'o', ' ', 't', 'i', 'f', 'f', '\n'});
  expect_error_naming<FormatError>([&] { read_tiff(text); }, "notes.tif");
  expect_error_naming<FormatError>([&] { read_png(text); }, "notes.tif");
  write_bytes(dir_ / "empty.tif", {});
  expect_error_naming<FormatError>([&] { read_tiff(dir_ / "empty.tif"); }, "empty.tif");
  // A TIFF header with a directory offset pointing nowhere.
  write_bytes(dir_ / "header.tif", {'I', 'I', 42, 0, 0xff, 0xff, 0, 0});
  expect_error_naming<FormatError>([&] { read_tiff(dir_ / "header.tif"); }, "header.tif");

  // A page whose "next page" link points back at itself (a loop: libtiff stops there with a
  // warning, as tifffile does) and one pointing past the end of the file (an error).
  {
    TiffBytes t(false);
    t.add(gray_page<std::uint8_t>(t, 2, 2, {1, 2, 3, 4}));
    auto b = t.bytes();
    const std::uint32_t ifd = b[4] | b[5] << 8 | b[6] << 16 | std::uint32_t(b[7]) << 24;
    const std::size_t link = ifd + 2 + 12 * std::size_t(b[ifd] | b[ifd + 1] << 8);
    std::memcpy(&b[link], &b[4], 4);  // little-endian host and file: copy the offset bytes
    write_bytes(dir_ / "loop.tif", b);
    LogCapture log;
    const Array one = read_tiff(dir_ / "loop.tif");
    EXPECT_EQ(one.shape(), (Shape{2, 2}));
    EXPECT_EQ(one.data<std::uint8_t>()[3], 4);
    bool warned = false;
    for (const auto& m : log.messages) warned = warned || (m.find("loop") != std::string::npos);
    EXPECT_TRUE(warned);
    const std::uint8_t far[4] = {0, 0, 0, 0x10};
    std::memcpy(&b[link], far, 4);
    write_bytes(dir_ / "dangling.tif", b);
    expect_error_naming<FormatError>([&] { read_tiff(dir_ / "dangling.tif"); }, "dangling.tif");
  }

  // Header intact, pixel data cut short.
  TiffBytes t(false);
  std::vector<std::uint16_t> px(64 * 64, 7);
  t.add(gray_page<std::uint16_t>(t, 64, 64, px));
  auto bytes = t.bytes();
  bytes.resize(bytes.size() - 100);
  write_bytes(dir_ / "cut.tif", bytes);
  expect_error_naming<FormatError>([&] { read_tiff(dir_ / "cut.tif"); }, "cut.tif");
  expect_error_naming<FormatError>([&] { read_tiff(dir_ / "cut.tif"); }, "strip 0");

  // libtiff puts the directory last: a cut file written by write_tiff loses it (and deflate data).
  TiffOptions z;
  z.compression = TiffOptions::Compression::deflate;
  write_tiff(dir_ / "full.tif", tiff_test_values<float>({2, 64, 64}), z);
  auto full = read_bytes(dir_ / "full.tif");
  for (double frac : {0.3, 0.6, 0.95}) {
    std::vector<std::uint8_t> part(full.begin(), full.begin() + std::ptrdiff_t(double(full.size()) * frac));
    write_bytes(dir_ / "part.tif", part);
    expect_error_naming<FormatError>([&] { read_tiff(dir_ / "part.tif"); }, "part.tif");
  }

  // PNG cut short.
  write_png(dir_ / "full.png", tiff_test_values<std::uint16_t>({50, 60}));
  auto png = read_bytes(dir_ / "full.png");
  png.resize(png.size() / 2);
  write_bytes(dir_ / "cut.png", png);
  expect_error_naming<FormatError>([&] { read_png(dir_ / "cut.png"); }, "cut.png");
}

TEST_F(ImagesTest, UnwritableOutputsGiveNamedErrorsAndLeaveNothing) {
  const Array img = tiff_test_values<std::uint16_t>({8, 8});
  fs::create_directories(dir_ / "folder.tif");
  fs::create_directories(dir_ / "folder.png");
  expect_error_naming<IoError>([&] { write_tiff(dir_ / "folder.tif", img); }, "folder.tif");
  expect_error_naming<IoError>([&] { write_png(dir_ / "folder.png", img); }, "folder.png");
  expect_error_naming<IoError>([&] { write_tiff(dir_ / "nowhere" / "a.tif", img); }, "a.tif");
  expect_error_naming<IoError>([&] { write_png(dir_ / "nowhere" / "a.png", img); }, "a.png");
  EXPECT_EQ(listing(), (std::set<std::string>{"folder.png", "folder.tif"}));
  EXPECT_TRUE(fs::is_empty(dir_ / "folder.tif"));
}

TEST_F(ImagesTest, WriteFailingHalfwayLeavesNoFile) {
  // Cap the size of files this process may write, so the writers fail mid-file (EFBIG).
  struct Limit {
    rlimit old{};
    void (*old_handler)(int) = nullptr;
    Limit() {
      getrlimit(RLIMIT_FSIZE, &old);
      old_handler = std::signal(SIGXFSZ, SIG_IGN);
      rlimit lim = old;
      lim.rlim_cur = 20000;
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    ~Limit() {
      setrlimit(RLIMIT_FSIZE, &old);
      std::signal(SIGXFSZ, old_handler);
    }
  };
  const Array big = tiff_test_values<float>({4, 100, 100});  // 160 kB
  std::mt19937 rng(3);
  auto noise = make_array<std::uint16_t>({300, 300}, [&](std::int64_t) { return std::uint16_t(rng()); });
  {
    Limit limit;
    expect_error_naming<IoError>([&] { write_tiff(dir_ / "big.tif", big); }, "big.tif");
    PngOptions o;
    o.bit_depth = 16;
    expect_error_naming<IoError>([&] { write_png(dir_ / "big.png", noise, o); }, "big.png");
  }
  EXPECT_TRUE(listing().empty()) << *listing().begin();
  // And the same writes succeed without the cap.
  write_tiff(dir_ / "big.tif", big);
  EXPECT_TRUE(same_bytes(big, read_tiff(dir_ / "big.tif")));
}

TEST_F(ImagesTest, LibtiffWarningsGoToTheLogNotStderr) {
  TiffBytes t(false);
  auto p = gray_page<std::uint8_t>(t, 2, 2, {1, 2, 3, 4});
  p.extra_longs = {{65000, 1234}};  // a private tag libtiff does not know
  t.add(p);
  write_bytes(dir_ / "private.tif", t.bytes());
  LogCapture log;
  testing::internal::CaptureStderr();
  const Array a = read_tiff(dir_ / "private.tif");
  EXPECT_THROW(read_tiff(dir_ / "header-missing.tif"), IoError);
  write_bytes(dir_ / "bad.tif", {'M', 'M', 0, 42, 0, 0, 0xff, 0xff});
  EXPECT_THROW(read_tiff(dir_ / "bad.tif"), FormatError);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  EXPECT_EQ(a.data<std::uint8_t>()[3], 4);
  bool warned = false;
  for (const auto& m : log.messages)
    if (m.find("65000") != std::string::npos && m.find("private.tif") != std::string::npos) warned = true;
  EXPECT_TRUE(warned) << "no warning about tag 65000 in " << log.messages.size() << " log messages";
}

// ---------------------------------------------------------------- real detector data

TEST(ImagesRealData, PilatusCeO2) {
  const auto file = shared_data / "xray/dioptas/CeO2_Pilatus1M.tif";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  const Array a = read_tiff(file);
  ASSERT_EQ(a.dtype(), DType::i32);
  ASSERT_EQ(a.shape(), (Shape{1043, 981}));
  const auto* p = a.data<std::int32_t>();
  std::int64_t sum = 0, gaps = 0, bad = 0;
  std::int32_t lo = p[0], hi = p[0];
  for (std::int64_t i = 0; i < a.size(); ++i) {
    sum += p[i];
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
    gaps += p[i] == -1;
    bad += p[i] == -2;
  }
  // Facts checked with tifffile and PIL (numpy): min, max, sum, and the Pilatus markers.
  EXPECT_EQ(lo, -2);
  EXPECT_EQ(hi, 621698);
  EXPECT_EQ(sum, 126770499);
  // -1 marks the gaps between the 2x5 modules of 487x195 pixels: every non-module pixel.
  EXPECT_EQ(gaps, 981 * 1043 - 10 * 487 * 195);
  EXPECT_EQ(gaps, 73533);
  EXPECT_EQ(bad, 27);  // -2: defective pixels
  auto v = a.view<std::int32_t, 2>();
  EXPECT_EQ(v(0, 0), 34);
  EXPECT_EQ(v(500, 500), 110);
  EXPECT_EQ(v(463, 742), 621698);
  EXPECT_EQ(v(12, 287), -2);
  for (int y = 195; y < 212; ++y) ASSERT_EQ(v(y, 100), -1) << y;  // the gap below the first module row
  for (int x = 487; x < 494; ++x) ASSERT_EQ(v(100, x), -1) << x;  // the gap between module columns

  // Round trip through our writer, compressed, and a truncated copy.
  const auto dir = fs::temp_directory_path() / ("scandiff-real-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TiffOptions z;
  z.compression = TiffOptions::Compression::deflate;
  write_tiff(dir / "ceo2.tif", a, z);
  EXPECT_TRUE(same_bytes(a, read_tiff(dir / "ceo2.tif")));
  auto bytes = read_bytes(file);
  bytes.resize(2000000);  // the directory sits before the pixels in this file: it survives
  write_bytes(dir / "ceo2-cut.tif", bytes);
  expect_error_naming<FormatError>([&] { read_tiff(dir / "ceo2-cut.tif"); }, "ceo2-cut.tif");
  // A display PNG with a log stretch: gaps and defective pixels land at level 0.
  PngOptions o;
  o.colormap = "inferno";
  o.range.stretch = DisplayRange::Stretch::log;
  write_png(dir / "ceo2.png", a, o);
  const Array png = read_png(dir / "ceo2.png");
  EXPECT_EQ(png.shape(), (Shape{1043, 981, 3}));
  const auto* px = png.data<std::uint8_t>() + 3 * (200 * 981 + 100);  // in a gap
  EXPECT_EQ((Rgb8{px[0], px[1], px[2]}), colormap("inferno").front());
  fs::remove_all(dir);
}

TEST(ImagesRealData, SxdmAreaDetectorFrame) {
  const auto file = shared_data / "sxdm/scan_294_img_176194.tif";
  if (!fs::exists(file)) GTEST_SKIP() << "real data not found: " << file;
  LogCapture log;  // the file carries private tags 65000..65003: libtiff warns, we log
  testing::internal::CaptureStderr();
  const Array a = read_tiff(file);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(a.dtype(), DType::i32);
  ASSERT_EQ(a.shape(), (Shape{516, 516}));
  const auto* p = a.data<std::int32_t>();
  std::int64_t sum = 0, nonzero = 0;
  for (std::int64_t i = 0; i < a.size(); ++i) {
    sum += p[i];
    nonzero += p[i] != 0;
  }
  // Checked with tifffile and PIL: a sparse frame summing to 2164 counts, peak 901 at (45, 293).
  EXPECT_EQ(sum, 2164);
  EXPECT_EQ(nonzero, 805);
  EXPECT_EQ(*std::min_element(p, p + a.size()), 0);
  EXPECT_EQ(*std::max_element(p, p + a.size()), 901);
  EXPECT_EQ((a.view<std::int32_t, 2>()(45, 293)), 901);
}
