// Merlin frame header parser (reference §2-§4): fields 0-13 from the front, the MQ1A
// extension from the back, the decoded frame geometry checked against every field.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mib_text.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/mib.hpp"

namespace scandiff::io {

using namespace mib_text;

namespace {

[[noreturn]] void fail(std::string_view where, const std::string& what) {
  throw FormatError(fmt::format("{}: Merlin frame header: {}", where, what));
}

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::int64_t field_int(const std::vector<std::string_view>& f, std::size_t i, const char* name, std::int64_t lo,
                       std::int64_t hi, std::string_view where) {
  const auto v = parse_digits(trim(f[i]), 10);
  if (!v || *v < lo || *v > hi)
    fail(where, fmt::format("field {} ({}) is '{}', expected an integer in [{}, {}]", i, name, printable(f[i]), lo, hi));
  return *v;
}

MibPixelType parse_type(std::string_view s, std::string_view where) {
  if (s == "U08") return MibPixelType::u08;
  if (s == "U16") return MibPixelType::u16;
  if (s == "U32") return MibPixelType::u32;
  if (s == "R64") return MibPixelType::r64;
  if (s == "U01" || s == "U64") fail(where, fmt::format("pixel type {} is not supported (U08, U16, U32 or R64)", s));
  fail(where, fmt::format("field 6 (pixel type) is '{}', expected U08, U16, U32 or R64", printable(s)));
}

std::string parse_layout(std::string_view s, std::string_view where) {
  std::string l(trim(s));  // as written ("   2x2"); the .hdr spells it "NX1, 2X2"
  for (char& c : l) {
    if (c == 'X') c = 'x';
    if (c == 'n') c = 'N';
    if (c == 'g') c = 'G';
  }
  if (l == "1x1" || l == "2x2" || l == "2x2G" || l == "Nx1" || l == "Nx1G") return l;
  fail(where, fmt::format("field 7 (sensor layout) is '{}', expected 1x1, 2x2, Nx1, 2x2G or Nx1G", printable(s)));
}

// Exposure "1000000ns" (or the older "nS") in the extension, as seconds.
double parse_exposure_ns(std::string_view s, std::string_view where) {
  if (s.size() > 2 && (s.ends_with("ns") || s.ends_with("nS")))
    if (const auto ns = parse_digits(s.substr(0, s.size() - 2), 16)) return static_cast<double>(*ns) * 1e-9;
  fail(where, fmt::format("extension exposure is '{}', expected nanoseconds such as 1000000ns", printable(s)));
}

// Decoded geometry (§3, §4), with every size checked against the limits.
void resolve_geometry(MibFrameHeader& h, std::string_view where) {
  const std::int64_t w = h.width, ht = h.height;
  if (!h.raw()) {
    h.frame_y = ht;
    h.frame_x = w;
    h.dtype = h.pixel_type == MibPixelType::u08 ? DType::u8 : h.pixel_type == MibPixelType::u16 ? DType::u16 : DType::u32;
  } else {
    if (h.layout != "1x1" && h.layout != "2x2")
      fail(where, fmt::format("RAW (R64) frames of layout {} are not supported: only 1x1 and 2x2", h.layout));
    const int d = h.counter_depth;
    if (d != 1 && d != 6 && d != 12 && d != 24)
      fail(where, d == 0 ? std::string("RAW (R64) frame without a counter depth: no MQ1A extension and no .hdr "
                                       "'Counter Depth'")
                         : fmt::format("RAW counter depth {} is not 1, 6, 12 or 24", d));
    // Raw pixels per row: 24-bit frames hold two 12-bit frames, so the header width is doubled.
    const std::int64_t raw_w = d == 24 ? w / 2 : w;
    if (d == 24 && w % 2 != 0) fail(where, fmt::format("24-bit RAW width {} is odd, expected twice the raw width", w));
    const std::int64_t per_word = d == 1 ? 64 : d == 6 ? 8 : 4;  // pixels per 64-bit word
    if (raw_w % per_word != 0)
      fail(where, fmt::format("RAW row of {} pixels is not a whole number of 64-bit words ({} pixels each)", raw_w,
                              per_word));
    if (h.quad()) {
      if (raw_w % (4 * per_word) != 0)
        fail(where, fmt::format("quad RAW row of {} pixels does not split into 4 chips of whole 64-bit words", raw_w));
      h.frame_y = 2 * ht;  // chips 1|2 on top, 3|4 below (flipped)
      h.frame_x = raw_w / 2;
    } else {
      h.frame_y = ht;
      h.frame_x = raw_w;
    }
    h.dtype = d <= 6 ? DType::u8 : d == 12 ? DType::u16 : DType::u32;
  }
  if (h.frame_y * h.frame_x > mib_max_frame_pixels)
    fail(where, fmt::format("frame of {}x{} pixels exceeds the limit of {} pixels", h.frame_y, h.frame_x,
                            mib_max_frame_pixels));
  const auto pixels = static_cast<std::size_t>(w * ht);
  switch (h.pixel_type) {
    case MibPixelType::u08: h.data_bytes = pixels; break;
    case MibPixelType::u16: h.data_bytes = 2 * pixels; break;
    case MibPixelType::u32: h.data_bytes = 4 * pixels; break;
    case MibPixelType::r64:
      h.data_bytes = h.counter_depth == 1 ? pixels / 8 : h.counter_depth == 6 ? pixels : 2 * pixels;
      break;
  }
}

}  // namespace

std::size_t mib_header_size(std::span<const std::byte> first_bytes, std::string_view where) {
  const std::string_view t = as_text(first_bytes);
  if (t.size() < 4 || t.substr(0, 4) != "MQ1,")
    fail(where, fmt::format("starts with '{}', expected the magic 'MQ1,'", printable(t.substr(0, 4))));
  // Field 1 (sequence) is followed by field 2 (header size); both are comma-terminated.
  const std::size_t c1 = t.find(',', 4);
  const std::size_t c2 = c1 == std::string_view::npos ? c1 : t.find(',', c1 + 1);
  if (c2 == std::string_view::npos || c2 > 40)
    fail(where, fmt::format("'{}' does not hold a header size in field 2", printable(t.substr(0, 24))));
  const auto size = parse_digits(t.substr(c1 + 1, c2 - c1 - 1), 6);
  if (!size || *size < 16 || static_cast<std::size_t>(*size) > mib_max_header_bytes)
    fail(where, fmt::format("field 2 (header size) is '{}', expected a byte count in [16, {}]",
                            printable(t.substr(c1 + 1, c2 - c1 - 1)), mib_max_header_bytes));
  return static_cast<std::size_t>(*size);
}

MibFrameHeader parse_mib_header(std::span<const std::byte> bytes, std::string_view where, int fallback_depth) {
  MibFrameHeader h;
  h.header_bytes = mib_header_size(bytes.first(std::min<std::size_t>(bytes.size(), 48)), where);
  if (bytes.size() < h.header_bytes)
    fail(where, fmt::format("declares {} header bytes, but only {} are present", h.header_bytes, bytes.size()));

  // The text: padded to the declared size with NULs (detectors) or spaces (simulators).
  std::string_view text = as_text(bytes.first(h.header_bytes));
  while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.remove_suffix(1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7F) fail(where, fmt::format("byte {} of the header is 0x{:02x}, expected text", i, c));
  }
  if (!text.empty() && text.back() == ',') text.remove_suffix(1);
  std::vector<std::string_view> f;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    f.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  h.field_count = f.size();
  if (f.size() < 14) fail(where, fmt::format("has {} fields, expected at least 14", f.size()));

  h.sequence = field_int(f, 1, "frame number", 0, 9'999'999'999, where);
  if (field_int(f, 2, "header size", 16, static_cast<std::int64_t>(mib_max_header_bytes), where) !=
      static_cast<std::int64_t>(h.header_bytes))
    fail(where, "field 2 (header size) is inconsistent");
  h.chips = static_cast<int>(field_int(f, 3, "number of chips", 1, 64, where));
  h.width = field_int(f, 4, "width", 1, mib_max_extent, where);
  h.height = field_int(f, 5, "height", 1, mib_max_extent, where);
  h.pixel_type = parse_type(f[6], where);
  h.layout = parse_layout(f[7], where);
  const auto select = parse_hex(trim(f[8]));
  if (!select) fail(where, fmt::format("field 8 (chip select) is '{}', expected a hex mask", printable(f[8])));
  h.chip_select = *select;
  const auto local_ts = parse_timestamp_ns(f[9]);
  if (!local_ts)
    fail(where, fmt::format("field 9 (timestamp) is '{}', expected YYYY-MM-DD HH:MM:SS.ffffff", printable(f[9])));
  h.timestamp = std::string(f[9]);
  h.timestamp_ns = *local_ts;
  const auto exposure = parse_decimal(trim(f[10]));
  if (!exposure || *exposure < 0 || *exposure > 1e6)
    fail(where, fmt::format("field 10 (exposure) is '{}', expected seconds >= 0", printable(f[10])));
  h.exposure_s = *exposure;
  h.counter = static_cast<int>(field_int(f, 11, "counter", 0, 7, where));
  h.colour_mode = static_cast<int>(field_int(f, 12, "colour mode", 0, 1, where));
  h.gain_mode = static_cast<int>(field_int(f, 13, "gain mode", 0, 3, where));

  // The MQ1A extension, from the back: [-4] MQ1A, [-3] UTC timestamp, [-2] exposure, [-1] depth.
  std::size_t body_end = f.size();
  if (f.size() >= 18 && f[f.size() - 4] == "MQ1A") {
    h.has_extension = true;
    body_end = f.size() - 4;
    const std::string_view utc = f[f.size() - 3];
    const auto utc_ns = parse_timestamp_ns(utc);
    if (!utc_ns || utc.back() != 'Z')
      fail(where, fmt::format("extension timestamp is '{}', expected YYYY-MM-DDTHH:MM:SS.fffffffffZ", printable(utc)));
    h.timestamp = std::string(utc);
    h.timestamp_ns = *utc_ns;
    h.exposure_s = parse_exposure_ns(f[f.size() - 2], where);
    const auto depth = parse_digits(f.back(), 2);
    if (!depth || (*depth != 1 && *depth != 6 && *depth != 12 && *depth != 24))
      fail(where, fmt::format("extension counter depth is '{}', expected 1, 6, 12 or 24", printable(f.back())));
    h.counter_depth = static_cast<int>(*depth);
  } else {
    for (std::size_t i = 14; i < f.size(); ++i)
      if (f[i] == "MQ1A")
        fail(where, fmt::format("MQ1A extension at field {} is followed by {} fields, expected 3", i, f.size() - i - 1));
    if (fallback_depth != 0) h.counter_depth = fallback_depth;
  }

  // Thresholds 0-7 in keV (fields 14-21) when present; short RAW headers leave field 14 empty.
  if (body_end >= 22 && !f[14].empty()) {
    for (std::size_t i = 14; i < 22; ++i) {
      const auto v = parse_decimal(trim(f[i]));
      if (!v) fail(where, fmt::format("field {} (threshold) is '{}', expected a number in keV", i, printable(f[i])));
      h.thresholds_keV.push_back(*v);
    }
  }

  // Chips against the layout.
  if (h.layout == "1x1" && h.chips != 1) fail(where, fmt::format("layout 1x1 with {} chips, expected 1", h.chips));
  if (h.quad() && h.chips != 4) fail(where, fmt::format("layout {} with {} chips, expected 4", h.layout, h.chips));
  resolve_geometry(h, where);
  return h;
}

Metadata MibFrameHeader::to_metadata() const {
  static const char* const types[] = {"U08", "U16", "U32", "R64"};
  static const char* const gains[] = {"SLGM", "LGM", "HGM", "SHGM"};
  Metadata m;
  m["first_frame_number"] = sequence;
  m["header_bytes"] = header_bytes;
  m["chips"] = chips;
  m["layout"] = layout;
  m["chip_select"] = fmt::format("{:02X}", chip_select);
  m["pixel_type"] = types[static_cast<int>(pixel_type)];
  m["raw"] = raw();
  m["stored_width"] = width;
  m["stored_height"] = height;
  if (counter_depth) m["counter_depth_bits"] = counter_depth;
  m["exposure_s"] = exposure_s;
  m["timestamp"] = timestamp;
  m["counter"] = counter;
  m["colour_mode"] = colour_mode;
  m["gain_mode"] = gains[gain_mode];
  if (!thresholds_keV.empty()) m["thresholds_keV"] = thresholds_keV;
  m["header_fields"] = field_count;
  m["frame_bytes"] = frame_bytes();
  return m;
}

}  // namespace scandiff::io
