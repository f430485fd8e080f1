// EDF, CBF and TIFF detector images: decoding, format detection by content, image series as a
// Source, masks, and malformed input (truncation, absurd headers, corrupt streams).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "scandiff/core/error.hpp"
#include "scandiff/io/cbf.hpp"
#include "scandiff/io/edf.hpp"
#include "scandiff/io/image_file.hpp"
#include "scandiff/io/image_mask.hpp"
#include "scandiff/io/image_series.hpp"
#include "scandiff/io/open.hpp"
#include "scandiff/io/tiff.hpp"
#include "temp_dir.hpp"

using namespace scandiff;
using namespace scandiff::io;
namespace fs = std::filesystem;

namespace {

class ImageFilesTest : public ::testing::Test {
 protected:
  scandiff_test::TempDir tmp_{"imgfiles"};
  const fs::path& dir_ = tmp_.path;
};

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// An EDF frame: header padded to 512 bytes, then `data`.
std::string edf_frame(const std::string& keys, const std::string& data) {
  std::string h = "{\n" + keys;
  while ((h.size() + 2) % 512 != 0) h += ' ';
  h += "}\n";
  return h + data;
}

template <class T>
std::string le_bytes(const std::vector<T>& v) {
  std::string out(v.size() * sizeof(T), '\0');
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

template <class T>
std::string be_bytes(const std::vector<T>& v) {
  std::string out = le_bytes(v);
  for (std::size_t i = 0; i < v.size(); ++i) std::reverse(out.begin() + i * sizeof(T), out.begin() + (i + 1) * sizeof(T));
  return out;
}

template <class T>
std::vector<T> values(const Array& a) {
  EXPECT_EQ(a.dtype(), dtype_v<T>);
  std::vector<T> v(static_cast<std::size_t>(a.size()));
  std::memcpy(v.data(), a.bytes(), a.nbytes());
  return v;
}

// A string of the given byte values (string literals stop at the first NUL).
std::string raw(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

// Byte-offset encoding as the CBF definition gives it (int8, then int16, int32 escapes).
std::string byte_offset_encode(const std::vector<std::int32_t>& v) {
  std::string out;
  std::int64_t prev = 0;
  for (auto x : v) {
    const std::int64_t d = x - prev;
    prev = x;
    if (d > -128 && d < 128) {
      out += static_cast<char>(static_cast<std::int8_t>(d));
    } else if (d > -32768 && d < 32768) {
      out += '\x80';
      const auto s = static_cast<std::int16_t>(d);
      out.append(reinterpret_cast<const char*>(&s), 2);
    } else if (d > std::numeric_limits<std::int32_t>::min() && d <= std::numeric_limits<std::int32_t>::max()) {
      out += raw({0x80, 0x00, 0x80});
      const auto s = static_cast<std::int32_t>(d);
      out.append(reinterpret_cast<const char*>(&s), 4);
    } else {
      out += raw({0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80});
      out.append(reinterpret_cast<const char*>(&d), 8);
    }
  }
  return out;
}

std::string cbf_file(const std::string& stream, std::int64_t rows, std::int64_t cols,
                     const std::string& type = "signed 32-bit integer", std::int64_t claimed_size = -1) {
  std::string s = "###CBF: VERSION 1.5\r\ndata_test\r\n_array_data.data\r\n;\r\n--CIF-BINARY-FORMAT-SECTION--\r\n"
                  "Content-Type: application/octet-stream;\r\n     conversions=\"x-CBF_BYTE_OFFSET\"\r\n"
                  "Content-Transfer-Encoding: BINARY\r\n";
  s += "X-Binary-Size: " + std::to_string(claimed_size < 0 ? static_cast<std::int64_t>(stream.size()) : claimed_size) +
       "\r\n";
  s += "X-Binary-ID: 1\r\nX-Binary-Element-Type: \"" + type + "\"\r\nX-Binary-Element-Byte-Order: LITTLE_ENDIAN\r\n";
  // (An absurd header's element count is written as 0: the product would overflow.)
  const bool absurd = rows > 1000000 || cols > 1000000;
  s += "X-Binary-Number-of-Elements: " + std::to_string(absurd ? 0 : rows * cols) + "\r\n";
  s += "X-Binary-Size-Fastest-Dimension: " + std::to_string(cols) + "\r\n";
  s += "X-Binary-Size-Second-Dimension: " + std::to_string(rows) + "\r\nX-Binary-Size-Padding: 4095\r\n\r\n";
  s += "\x0c\x1a\x04\xd5";
  s += stream;
  s += std::string(16, '\0') + "\r\n--CIF-BINARY-FORMAT-SECTION----\r\n;\r\n";
  return s;
}

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Values that need every byte-offset width, including negative steps and the int32 extremes.
std::vector<std::int32_t> tricky_values() {
  return {0, 1, -1, 127, -128, 200, -300, 32767, -32768, 40000, -2, 2147483647, -2147483647 - 1, 5, 0, 100000, -7};
}

}  // namespace

// ---- EDF ----

TEST_F(ImageFilesTest, EdfLittleEndianInt32RoundTrip) {
  const std::vector<std::int32_t> v{-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 2000000000};
  write_bytes(dir_ / "a.edf", edf_frame("ByteOrder = LowByteFirst ;\nDataType = SignedInteger ;\nDim_1 = 4 ;\n"
                                        "Dim_2 = 3 ;\nSize = 48 ;\n",
                                        le_bytes(v)));
  const Array a = read_image(dir_ / "a.edf");
  EXPECT_EQ(a.shape(), (Shape{3, 4}));
  EXPECT_EQ(values<std::int32_t>(a), v);
}

TEST_F(ImageFilesTest, EdfBigEndianAndWidenedTypes) {
  const std::vector<std::uint16_t> u{1, 256, 65535, 4660, 0, 7};
  write_bytes(dir_ / "u.edf", edf_frame("ByteOrder = HighByteFirst ;\nDataType = UnsignedShort ;\nDim_1 = 3 ;\n"
                                        "Dim_2 = 2 ;\n",
                                        be_bytes(u)));
  EXPECT_EQ(values<std::uint16_t>(read_image(dir_ / "u.edf")), u);

  const std::vector<std::int16_t> s{-32768, -1, 0, 1, 32767, 12};
  write_bytes(dir_ / "s.edf",
              edf_frame("DataType = SignedShort ;\nDim_1 = 2 ;\nDim_2 = 3 ;\nSize = 12 ;\n", le_bytes(s)));
  const Array sa = read_image(dir_ / "s.edf");
  EXPECT_EQ(sa.shape(), (Shape{3, 2}));
  EXPECT_EQ(values<std::int32_t>(sa), (std::vector<std::int32_t>{-32768, -1, 0, 1, 32767, 12}));

  const std::vector<float> f{0.5f, -1.25f, 3e9f, 1e-20f};
  write_bytes(dir_ / "f.edf", edf_frame("DataType = FloatValue ;\nByteOrder = HighByteFirst ;\nDim_1 = 2 ;\n"
                                        "Dim_2 = 2 ;\n",
                                        be_bytes(f)));
  EXPECT_EQ(values<float>(read_image(dir_ / "f.edf")), f);

  const std::vector<double> d{0.1, -2.5, 1e300, 4};
  write_bytes(dir_ / "d.edf", edf_frame("DataType = DoubleValue ;\nDim_1 = 4 ;\nDim_2 = 1 ;\n", le_bytes(d)));
  EXPECT_EQ(values<double>(read_image(dir_ / "d.edf")), d);
}

TEST_F(ImageFilesTest, EdfMultiFrameIsAStackAndASource) {
  std::string file;
  for (std::uint32_t k = 0; k < 3; ++k) {
    std::vector<std::uint32_t> v(6);
    for (std::uint32_t i = 0; i < 6; ++i) v[i] = 100 * k + i;
    file += edf_frame("DataType = UnsignedInteger ;\nDim_1 = 3 ;\nDim_2 = 2 ;\nImage = " + std::to_string(k + 1) +
                          " ;\nSize = 24 ;\n",
                      le_bytes(v));
  }
  file += "\n";  // a trailing newline is not a frame
  write_bytes(dir_ / "stack.edf", file);
  const Array s = read_image_stack(dir_ / "stack.edf");
  EXPECT_EQ(s.shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(values<std::uint32_t>(s)[13], 201u);
  EXPECT_THROW(read_image(dir_ / "stack.edf"), InvalidArgument);
  EXPECT_EQ(values<std::uint32_t>(read_image_frame(dir_ / "stack.edf", 2))[5], 205u);

  auto src = open(dir_ / "stack.edf");
  EXPECT_EQ(src->info().format, "edf");
  EXPECT_EQ(src->info().shape(), (Shape{1, 3, 2, 3}));
  EXPECT_EQ(src->info().dtype, DType::u32);
  std::vector<std::uint32_t> buf(12);
  src->read(1, 2, reinterpret_cast<std::byte*>(buf.data()));
  EXPECT_EQ(buf[0], 100u);
  EXPECT_EQ(buf[11], 205u);

  OpenOptions o;
  o.images.scan_shape = std::pair{std::int64_t{3}, std::int64_t{1}};
  EXPECT_EQ(open(dir_ / "stack.edf", o)->info().shape(), (Shape{3, 1, 2, 3}));
  o.images.scan_shape = std::pair{std::int64_t{2}, std::int64_t{2}};
  EXPECT_THROW(open(dir_ / "stack.edf", o), InvalidArgument);
}

TEST_F(ImageFilesTest, EdfMalformedHeadersAreFormatErrors) {
  const std::string data(48, '\1');
  const auto expect_format_error = [&](const std::string& name, const std::string& keys, const std::string& payload) {
    write_bytes(dir_ / name, edf_frame(keys, payload));
    EXPECT_THROW(read_edf(dir_ / name), FormatError) << name;
  };
  // Absurd dimensions: refused from the header, nothing that size allocated.
  expect_format_error("huge.edf", "DataType = SignedInteger ;\nDim_1 = 4000000000 ;\nDim_2 = 4000000000 ;\n", data);
  expect_format_error("huge2.edf", "DataType = SignedInteger ;\nDim_1 = 100000 ;\nDim_2 = 100000 ;\n", data);
  expect_format_error("neg.edf", "DataType = SignedInteger ;\nDim_1 = -4 ;\nDim_2 = 3 ;\n", data);
  expect_format_error("nodim.edf", "DataType = SignedInteger ;\nDim_2 = 3 ;\n", data);
  expect_format_error("baddim.edf", "DataType = SignedInteger ;\nDim_1 = 4x ;\nDim_2 = 3 ;\n", data);
  expect_format_error("type.edf", "DataType = Complex ;\nDim_1 = 4 ;\nDim_2 = 3 ;\n", data);
  expect_format_error("int64.edf", "DataType = Signed64 ;\nDim_1 = 2 ;\nDim_2 = 3 ;\n", data);
  expect_format_error("order.edf", "DataType = SignedInteger ;\nByteOrder = Middle ;\nDim_1 = 4 ;\nDim_2 = 3 ;\n",
                      data);
  expect_format_error("gz.edf", "DataType = SignedInteger ;\nCompression = gzip ;\nDim_1 = 4 ;\nDim_2 = 3 ;\n", data);
  expect_format_error("small.edf", "DataType = SignedInteger ;\nDim_1 = 4 ;\nDim_2 = 3 ;\nSize = 40 ;\n", data);
  // Truncated data: the header promises more than the file holds.
  expect_format_error("trunc.edf", "DataType = SignedInteger ;\nDim_1 = 4 ;\nDim_2 = 3 ;\n", data.substr(0, 47));
  expect_format_error("bigsize.edf", "DataType = SignedInteger ;\nDim_1 = 4 ;\nDim_2 = 3 ;\nSize = 999999999999 ;\n",
                      data);
  // No closing brace.
  write_bytes(dir_ / "open.edf", "{\nDim_1 = 4 ;\nDataType = SignedInteger ;\n" + std::string(5000, ' '));
  EXPECT_THROW(read_edf(dir_ / "open.edf"), FormatError);
  // A second frame that is garbage.
  write_bytes(dir_ / "tail.edf",
              edf_frame("DataType = SignedInteger ;\nDim_1 = 4 ;\nDim_2 = 3 ;\n", data) + "garbage after the frame");
  EXPECT_THROW(read_edf(dir_ / "tail.edf"), FormatError);
}

// ---- CBF ----

TEST(ByteOffset, DecodesEveryDeltaWidth) {
  const auto v = tricky_values();
  const std::string stream = byte_offset_encode(v);
  std::vector<std::int32_t> out(v.size());
  decode_byte_offset(as_bytes(stream), out, "test");
  EXPECT_EQ(out, v);
  // A 64-bit escape with a delta inside int32 decodes too.
  std::string s64 = raw({0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80});
  const std::int64_t d = -5;
  s64.append(reinterpret_cast<const char*>(&d), 8);
  std::vector<std::int32_t> one(1);
  decode_byte_offset(as_bytes(s64), one, "test");
  EXPECT_EQ(one[0], -5);
}

TEST(ByteOffset, CorruptStreamsAreFormatErrors) {
  std::vector<std::int32_t> out(4);
  EXPECT_THROW(decode_byte_offset(as_bytes(std::string("\x01\x01\x01")), out, "t"), FormatError);  // too short
  EXPECT_THROW(decode_byte_offset(as_bytes(std::string("\x01\x80\x01")), out, "t"), FormatError);  // cut int16
  EXPECT_THROW(decode_byte_offset(as_bytes(raw({0x80, 0x00, 0x80, 0x01, 0x02})), out, "t"), FormatError);  // int32
  // Two int32-max steps wrap modulo 2^32 (as CBFlib does), never overflow.
  std::string big = raw({0x80, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f, 0x80, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f, 0, 0});
  decode_byte_offset(as_bytes(big), out, "t");
  EXPECT_EQ(out, (std::vector<std::int32_t>{2147483647, -2, -2, -2}));
  // More stream than elements: the rest is padding and cannot overrun the output.
  std::vector<std::int32_t> two(2);
  decode_byte_offset(as_bytes(std::string("\x01\x01\x01\x01\x01\x01")), two, "t");
  EXPECT_EQ(two, (std::vector<std::int32_t>{1, 2}));
}

TEST_F(ImageFilesTest, CbfInt32RoundTripAndDetectionByContent) {
  const auto v = tricky_values();  // 17 values
  std::vector<std::int32_t> img(v);
  img.push_back(3);  // 18 = 3 x 6
  write_bytes(dir_ / "img.tif", cbf_file(byte_offset_encode(img), 3, 6));  // the name lies
  EXPECT_EQ(detect_image_format(dir_ / "img.tif"), ImageFormat::cbf);
  const Array a = read_image(dir_ / "img.tif");
  EXPECT_EQ(a.shape(), (Shape{3, 6}));
  EXPECT_EQ(values<std::int32_t>(a), img);
  EXPECT_EQ(open(dir_ / "img.tif")->info().format, "cbf");

  const std::vector<std::int32_t> u{0, 65535, 3, 4};
  write_bytes(dir_ / "u16.cbf", cbf_file(byte_offset_encode(u), 2, 2, "unsigned 16-bit integer"));
  EXPECT_EQ(values<std::uint16_t>(read_image(dir_ / "u16.cbf")), (std::vector<std::uint16_t>{0, 65535, 3, 4}));
  const std::vector<std::int32_t> neg{0, -1, 3, 4};
  write_bytes(dir_ / "neg.cbf", cbf_file(byte_offset_encode(neg), 2, 2, "unsigned 16-bit integer"));
  EXPECT_THROW(read_image(dir_ / "neg.cbf"), FormatError);
}

TEST_F(ImageFilesTest, CbfMalformedFilesAreFormatErrors) {
  const std::vector<std::int32_t> v(12, 7);
  const std::string stream = byte_offset_encode(v);
  const auto bad = [&](const std::string& file) { EXPECT_THROW(decode_cbf(as_bytes(file), "t"), FormatError); };
  bad(cbf_file(stream, 100000, 100000));                      // absurd dimensions: stream far too short
  bad(cbf_file(stream, 4000000000, 4000000000));              // beyond the pixel limit
  bad(cbf_file(stream, 3, 4, "signed 32-bit integer", 1 << 30));  // claimed size beyond the file
  bad(cbf_file(stream.substr(0, 11), 3, 4));                  // stream one value short
  bad(cbf_file(stream, 3, 4, "complex float"));               // unsupported element type
  std::string no_marker = cbf_file(stream, 3, 4);
  no_marker.erase(no_marker.find("\x0c\x1a\x04\xd5"), 4);
  bad(no_marker);
  std::string other = cbf_file(stream, 3, 4);
  other.replace(other.find("x-CBF_BYTE_OFFSET"), 17, "x-CBF_PACKED_V2XX");
  bad(other);
  bad("###CBF: VERSION 1.5\r\nno binary section here\r\n");
  bad("not a cbf");
  const std::string good = cbf_file(stream, 3, 4);
  for (std::size_t cut : {good.size() / 2, good.find("\x0c\x1a\x04\xd5") + 6}) bad(good.substr(0, cut));
  EXPECT_EQ(decode_cbf(as_bytes(good), "t").shape(), (Shape{3, 4}));
}

// ---- TIFF, dispatch, series, masks ----

TEST_F(ImageFilesTest, TiffPagesAreFramesOfASeries) {
  Array stack(DType::i32, {3, 2, 2});
  auto* p = reinterpret_cast<std::int32_t*>(stack.bytes());
  for (int i = 0; i < 12; ++i) p[i] = i - 6;
  write_tiff(dir_ / "stack.edf", stack);  // content decides, not the name
  EXPECT_EQ(detect_image_format(dir_ / "stack.edf"), ImageFormat::tiff);
  EXPECT_EQ(read_tiff_pages(dir_ / "stack.edf").pages, 3);
  EXPECT_EQ(values<std::int32_t>(read_tiff_page(dir_ / "stack.edf", 2)), (std::vector<std::int32_t>{2, 3, 4, 5}));
  EXPECT_THROW(read_tiff_page(dir_ / "stack.edf", 3), FormatError);
  auto src = open(dir_ / "stack.edf");
  EXPECT_EQ(src->info().shape(), (Shape{1, 3, 2, 2}));
}

TEST_F(ImageFilesTest, SeriesOfNumberedFilesInNumericOrder) {
  for (int k : {1, 2, 10}) {
    Array a(DType::u16, {2, 3});
    reinterpret_cast<std::uint16_t*>(a.bytes())[0] = static_cast<std::uint16_t>(k);
    write_tiff(dir_ / ("img_" + std::to_string(k) + ".tif"), a);
  }
  write_tiff(dir_ / "other_5.tif", Array(DType::u16, {2, 3}));
  const auto files = image_series_files(dir_ / "img_2.tif");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[2].filename(), "img_10.tif");
  OpenOptions o;
  o.images.series = true;
  auto src = open(dir_ / "img_2.tif", o);
  EXPECT_EQ(src->info().format, "image-series");
  EXPECT_EQ(src->info().shape(), (Shape{1, 3, 2, 3}));
  std::vector<std::uint16_t> buf(18);
  src->read(0, 3, reinterpret_cast<std::byte*>(buf.data()));
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(buf[6], 2);
  EXPECT_EQ(buf[12], 10);

  // A file of another shape in the list fails when it is read, naming the file.
  write_tiff(dir_ / "odd.tif", Array(DType::u16, {3, 3}));
  auto mixed = open_image_series({dir_ / "img_1.tif", dir_ / "odd.tif"});
  EXPECT_THROW(mixed->read(1, 1, reinterpret_cast<std::byte*>(buf.data())), FormatError);
}

TEST_F(ImageFilesTest, UnrecognisedFilesAreNamed) {
  write_bytes(dir_ / "x.edf", "{\"json\": true}");
  EXPECT_FALSE(detect_image_format(dir_ / "x.edf"));
  try {
    read_image(dir_ / "x.edf");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("x.edf"), std::string::npos);
  }
  EXPECT_THROW(read_image(dir_ / "missing.tif"), IoError);
}

TEST(ImageMask, FromImageAndThresholds) {
  Array img(DType::i32, {2, 3});
  auto* p = reinterpret_cast<std::int32_t*>(img.bytes());
  const std::int32_t v[] = {-2, -1, 0, 5, 100, 7};
  std::copy(v, v + 6, p);
  EXPECT_EQ(values<std::uint8_t>(mask_from_image(img)), (std::vector<std::uint8_t>{1, 1, 0, 1, 1, 1}));
  Array t = threshold_mask(img, 0.0, 50.0);
  EXPECT_EQ(values<std::uint8_t>(t), (std::vector<std::uint8_t>{1, 1, 0, 0, 1, 0}));
  Array only_low = threshold_mask(img, 0.0, std::nullopt);
  EXPECT_EQ(values<std::uint8_t>(only_low), (std::vector<std::uint8_t>{1, 1, 0, 0, 0, 0}));
  Array m = mask_from_image(img);
  merge_mask(t, only_low);
  EXPECT_EQ(values<std::uint8_t>(t), (std::vector<std::uint8_t>{1, 1, 0, 0, 1, 0}));
  EXPECT_THROW(merge_mask(t, Array(DType::u8, {3, 2})), InvalidArgument);
  EXPECT_THROW(threshold_mask(Array(DType::u8, {2}), 1.0, 2.0), InvalidArgument);
}

TEST(ImageFilesReal, PilatusTiffIsInt32) {
  const fs::path tif = fs::path(SCANDIFF_SHARED_DATA) / "xray/dioptas/CeO2_Pilatus1M.tif";
  if (!fs::exists(tif)) GTEST_SKIP() << "real Pilatus TIFF not found at " << tif;
  const Array a = read_image(tif);
  EXPECT_EQ(a.dtype(), DType::i32);
  EXPECT_EQ(a.shape(), (Shape{1043, 981}));
  const auto v = values<std::int32_t>(a);
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -2);  // Pilatus gap pixels
  auto src = open(tif);
  EXPECT_EQ(src->info().shape(), (Shape{1, 1, 1043, 981}));
}
