// A small Merlin .mib writer for tests and benchmarks: it encodes frames exactly as the
// format reference describes them (shared/reference/mib-format.md §2-§4), independently of
// the library's decoder, so decoding can be checked bit for bit.
//  - Non-RAW: big-endian U08/U16/U32 pixels, row-major.
//  - R64: big-endian 64-bit words; pixel k of a word occupies bits [k*w, (k+1)*w), least
//    significant first (w = 1, 8, 16 for depth 1, 6, 12). 24-bit: the 12-bit high frame,
//    then the 12-bit low frame (value = hi << 12 | lo).
//  - Quad RAW: raw row y of 4*cw pixels holds chips [4|3|2|1]: raw columns 3cw.. = output row
//    y columns 0..cw-1, 2cw.. = output row y columns cw..2cw-1, raw columns 0..2cw-1 = output
//    row 2*rows-1-y read right to left.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace scandiff_test {

struct MibSpec {
  std::string type = "U16";      // U08, U16, U32 or R64
  std::string layout = "1x1";    // 1x1, 2x2, Nx1
  int chips = 1;
  int depth = 12;                // counter depth written in the MQ1A extension
  std::int64_t frame_y = 256, frame_x = 256;  // decoded frame shape
  std::size_t header_bytes = 384;
  bool short_header = false;     // the 20-field RAW header of software 0.67
  bool extension = true;         // write the MQ1A extension

  bool raw() const { return type == "R64"; }
  bool quad() const { return layout == "2x2"; }
  // Stored width/height (fields 4, 5): for R64 the packed raw geometry.
  std::int64_t stored_width() const {
    if (!raw()) return frame_x;
    const std::int64_t raw_w = quad() ? 2 * frame_x : frame_x;
    return depth == 24 ? 2 * raw_w : raw_w;
  }
  std::int64_t stored_height() const { return raw() && quad() ? frame_y / 2 : frame_y; }
  std::size_t data_bytes() const {
    const auto px = static_cast<std::size_t>(stored_width() * stored_height());
    if (type == "U08") return px;
    if (type == "U16") return 2 * px;
    if (type == "U32") return 4 * px;
    return depth == 1 ? px / 8 : depth == 6 ? px : 2 * px;
  }
  std::size_t frame_bytes() const { return header_bytes + data_bytes(); }
};

inline std::string mib_timestamp(std::int64_t ns, bool utc) {
  // Seconds of 2021-04-15 00:00:00 + ns; only the time of day varies in tests.
  const std::int64_t s = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  char buf[64];
  if (utc)
    std::snprintf(buf, sizeof buf, "2021-04-15T%02d:%02d:%02d.%09dZ", static_cast<int>(s / 3600 % 24),
                  static_cast<int>(s / 60 % 60), static_cast<int>(s % 60), static_cast<int>(frac));
  else
    std::snprintf(buf, sizeof buf, "2021-04-15 %02d:%02d:%02d.%06d", static_cast<int>(s / 3600 % 24),
                  static_cast<int>(s / 60 % 60), static_cast<int>(s % 60), static_cast<int>(frac / 1000));
  return buf;
}

// The header text of one frame, NUL-padded to spec.header_bytes.
inline std::string mib_header(const MibSpec& sp, std::int64_t sequence, double exposure_s, std::int64_t time_ns) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "MQ1,%06lld,%05zu,%02d,%04lld,%04lld,%s,%6s,%02X,%s,%.6f,0,0,0,",
                static_cast<long long>(sequence), sp.header_bytes, sp.chips, static_cast<long long>(sp.stored_width()),
                static_cast<long long>(sp.stored_height()), sp.type.c_str(), sp.layout.c_str(),
                (1u << sp.chips) - 1u, mib_timestamp(time_ns, false).c_str(), exposure_s);
  std::string h = buf;
  if (sp.short_header) {
    h += ",";
  } else {
    h += "2.000000E+0,5.110000E+2,0.000000E+0,0.000000E+0,0.000000E+0,0.000000E+0,0.000000E+0,0.000000E+0,";
    for (int c = 0; c < sp.chips; ++c)
      h += "3RX,011,511,000,000,000,000,000,000,175,010,200,125,100,100,093,100,099,030,128,004,255,140,128,191,179,"
           "511,511,";
  }
  if (sp.extension) {
    std::snprintf(buf, sizeof buf, "MQ1A,%s,%lldns,%d,", mib_timestamp(time_ns, true).c_str(),
                  static_cast<long long>(exposure_s * 1e9 + 0.5), sp.depth);
    h += buf;
  }
  if (h.size() > sp.header_bytes) throw std::runtime_error("test header longer than header_bytes");
  h.resize(sp.header_bytes, '\0');
  return h;
}

// The pixel bytes of one decoded frame (frame_y x frame_x values, row-major).
inline std::string mib_pixels(const MibSpec& sp, const std::vector<std::uint32_t>& frame) {
  std::string out;
  out.reserve(sp.data_bytes());
  auto put_be = [&](std::uint64_t v, int bytes) {
    for (int b = bytes - 1; b >= 0; --b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xFF));
  };
  if (!sp.raw()) {
    const int bytes = sp.type == "U08" ? 1 : sp.type == "U16" ? 2 : 4;
    for (std::uint32_t v : frame) put_be(v, bytes);
    return out;
  }
  // The raw image: rows x raw_w, from the decoded frame (inverse of the quad table).
  const std::int64_t rows = sp.stored_height();
  const std::int64_t raw_w = sp.quad() ? 2 * sp.frame_x : sp.frame_x, cw = raw_w / 4, fx = sp.frame_x;
  std::vector<std::uint32_t> raw(static_cast<std::size_t>(rows * raw_w));
  for (std::int64_t y = 0; y < rows; ++y)
    for (std::int64_t r = 0; r < raw_w; ++r) {
      std::uint32_t v;
      if (!sp.quad()) v = frame[static_cast<std::size_t>(y * fx + r)];
      else if (r >= 3 * cw) v = frame[static_cast<std::size_t>(y * fx + (r - 3 * cw))];           // chip 1
      else if (r >= 2 * cw) v = frame[static_cast<std::size_t>(y * fx + cw + (r - 2 * cw))];      // chip 2
      else v = frame[static_cast<std::size_t>((2 * rows - 1 - y) * fx + (2 * cw - 1 - r))];       // chips 3, 4
      raw[static_cast<std::size_t>(y * raw_w + r)] = v;
    }
  auto pack = [&](int bits, auto value_of) {
    const std::size_t per_word = static_cast<std::size_t>(64 / bits);
    for (std::size_t w = 0; w < raw.size() / per_word; ++w) {
      std::uint64_t word = 0;
      for (std::size_t k = 0; k < per_word; ++k)
        word |= static_cast<std::uint64_t>(value_of(raw[w * per_word + k])) << (k * static_cast<std::size_t>(bits));
      put_be(word, 8);
    }
  };
  if (sp.depth == 1) pack(1, [](std::uint32_t v) { return v & 1u; });
  else if (sp.depth == 6) pack(8, [](std::uint32_t v) { return v & 0xFFu; });
  else if (sp.depth == 12) pack(16, [](std::uint32_t v) { return v & 0xFFFFu; });
  else {
    pack(16, [](std::uint32_t v) { return (v >> 12) & 0xFFFu; });  // high frame first
    pack(16, [](std::uint32_t v) { return v & 0xFFFu; });
  }
  return out;
}

// Writes frames (each frame_y * frame_x values) as one .mib file. exposures_s and times_ns
// may be empty (1 ms exposures, 1.0021 ms apart).
inline void write_mib(const std::filesystem::path& path, const MibSpec& sp,
                      const std::vector<std::vector<std::uint32_t>>& frames, std::vector<double> exposures_s = {},
                      std::vector<std::int64_t> times_ns = {}, std::int64_t first_sequence = 1) {
  std::ofstream f(path, std::ios::binary);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const double e = exposures_s.empty() ? 0.001 : exposures_s[i];
    const std::int64_t t = times_ns.empty() ? 50'000'000'000'000 + static_cast<std::int64_t>(i) * 1'002'100
                                            : times_ns[i];
    f << mib_header(sp, first_sequence + static_cast<std::int64_t>(i), e, t) << mib_pixels(sp, frames[i]);
  }
  if (!f) throw std::runtime_error("cannot write " + path.string());
}

// Writes a .hdr: "HDR,", then "key:<TAB>value" lines (CRLF), "End", space-padded to 2048 bytes.
inline void write_hdr(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string t = "HDR,\t\r\n";
  for (const auto& [k, v] : kv) t += k + ":\t" + v + "\r\n";
  t += "End\t";
  if (t.size() < 2048) t.resize(2048, ' ');
  std::ofstream f(path, std::ios::binary);
  f << t;
}

}  // namespace scandiff_test
