// RawSource: header offset, byte order, zero-copy views, and malformed files.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "scandiff/io/open.hpp"
#include "scandiff/io/raw_source.hpp"
#include "scandiff/io/raw_writer.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

fs::path write_bytes(const std::string& name, const std::vector<std::uint8_t>& bytes) {
  const fs::path p = fs::temp_directory_path() / name;
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p;
}

// 2x3 scan of 2x2 uint16 frames: value = 100 * frame + pixel, after `header` bytes.
std::vector<std::uint8_t> dataset(std::size_t header, bool big_endian) {
  std::vector<std::uint8_t> out(header, 0xAB);
  for (int f = 0; f < 6; ++f)
    for (int p = 0; p < 4; ++p) {
      const auto v = static_cast<std::uint16_t>(100 * f + p);
      const auto lo = static_cast<std::uint8_t>(v & 0xFF), hi = static_cast<std::uint8_t>(v >> 8);
      if (big_endian) {
        out.push_back(hi);
        out.push_back(lo);
      } else {
        out.push_back(lo);
        out.push_back(hi);
      }
    }
  return out;
}

}  // namespace

TEST(RawSource, HeaderAndBothByteOrders) {
  for (bool big : {false, true}) {
    const fs::path p = write_bytes(big ? "scandiff_raw_be.bin" : "scandiff_raw_le.bin", dataset(17, big));
    io::RawSource src(p, {2, 3, 2, 2, DType::u16, 17, big});
    std::vector<std::uint16_t> frames(8);
    src.read(4, 2, reinterpret_cast<std::byte*>(frames.data()));
    EXPECT_EQ(frames[0], 400);
    EXPECT_EQ(frames[7], 503);
    if (big) {
      EXPECT_EQ(src.view(0, 1), nullptr);  // must decode: no zero-copy view
    } else {
      const std::byte* v = src.view(5, 1);
      ASSERT_NE(v, nullptr);
      std::uint16_t last;
      std::memcpy(&last, v + 6, 2);
      EXPECT_EQ(last, 503);
      src.release(5, 1);
    }
    EXPECT_THROW(src.read(5, 2, reinterpret_cast<std::byte*>(frames.data())), InvalidArgument);
    fs::remove(p);
  }
}

TEST(RawSource, TruncatedFileNamesBothSizes) {
  auto bytes = dataset(0, false);
  bytes.erase(bytes.end() - 3, bytes.end());  // three bytes short
  const fs::path p = write_bytes("scandiff_raw_short.bin", bytes);
  try {
    io::RawSource src(p, {2, 3, 2, 2, DType::u16, 0, false});
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("scandiff_raw_short.bin"), std::string::npos) << m;
    EXPECT_NE(m.find("45 bytes"), std::string::npos) << m;
    EXPECT_NE(m.find("48 bytes"), std::string::npos) << m;
  }
  fs::remove(p);
}

TEST(RawSource, MissingFolderAndBadShape) {
  EXPECT_THROW(io::RawSource("/nonexistent/x.raw", {1, 1, 2, 2, DType::u8, 0, false}), IoError);
  EXPECT_THROW(io::RawSource(fs::temp_directory_path(), {1, 1, 2, 2, DType::u8, 0, false}), IoError);
  const fs::path p = write_bytes("scandiff_raw_tiny.bin", {1, 2, 3, 4});
  EXPECT_THROW(io::RawSource(p, {0, 1, 2, 2, DType::u8, 0, false}), FormatError);
  EXPECT_THROW(io::open(fs::temp_directory_path()), IoError);
  EXPECT_THROW(io::open(p), FormatError);  // not HDF5 and no raw layout given
  fs::remove(p);
}

TEST(RawWriter, OutOfOrderAndIncompleteWritesLeaveNothing) {
  const fs::path dir = fs::temp_directory_path() / "scandiff_raw_writer";
  fs::remove_all(dir);
  fs::create_directories(dir);
  io::DatasetInfo info;
  info.path = "x";
  info.scan_y = 1;
  info.scan_x = 3;
  info.frame_y = info.frame_x = 2;
  info.dtype = DType::u8;
  const std::vector<std::byte> frame(4, std::byte{7});
  {
    io::RawWriter w(dir / "a.raw", info);
    w.write_frames(0, 1, frame.data());
    EXPECT_THROW(w.write_frames(2, 1, frame.data()), InvalidArgument);
    EXPECT_THROW(w.commit(), Error);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  {
    io::RawWriter w(dir / "b.raw", info);
    for (int f = 0; f < 3; ++f) w.write_frames(f, 1, frame.data());
    w.commit();
  }
  EXPECT_EQ(fs::file_size(dir / "b.raw"), 12u);
  fs::remove_all(dir);
}
