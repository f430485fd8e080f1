#include "scandiff/io/edf.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "input_file.hpp"

namespace scandiff::io {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct StoredType {
  std::size_t bytes;
  bool is_signed, is_float;
};

// DataType names (case-insensitive) as EDF writers spell them.
std::optional<StoredType> stored_type(std::string_view name) {
  const std::string n = lower(name);
  if (n == "unsignedbyte" || n == "unsigned8" || n == "unsignedchar") return StoredType{1, false, false};
  if (n == "signedbyte" || n == "signed8" || n == "signedchar") return StoredType{1, true, false};
  if (n == "unsignedshort" || n == "unsigned16" || n == "unsignedshortinteger") return StoredType{2, false, false};
  if (n == "signedshort" || n == "signed16" || n == "signedshortinteger") return StoredType{2, true, false};
  if (n == "unsignedinteger" || n == "unsigned32" || n == "unsignedlong" || n == "unsignedlonginteger")
    return StoredType{4, false, false};
  if (n == "signedinteger" || n == "signed32" || n == "signedlong" || n == "signedlonginteger")
    return StoredType{4, true, false};
  if (n == "unsigned64" || n == "signed64") return StoredType{8, n[0] == 's', false};
  if (n == "floatvalue" || n == "float" || n == "floatieee32" || n == "float32" || n == "real")
    return StoredType{4, true, true};
  if (n == "doublevalue" || n == "double" || n == "doubleieee64" || n == "floatieee64" || n == "float64")
    return StoredType{8, true, true};
  return std::nullopt;
}

std::int64_t parse_int(const Metadata& keys, const char* key, std::string_view name, bool required,
                       std::int64_t fallback) {
  if (!keys.contains(key)) {
    if (required) throw FormatError(fmt::format("{}: EDF header has no {} key", name, key));
    return fallback;
  }
  const std::string text = keys.at(key).get<std::string>();
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw FormatError(fmt::format("{}: EDF header {} = '{}' is not an integer", name, key, text));
  return v;
}

template <class From, class To>
void convert(const std::byte* src, std::size_t n, bool swap, To* dst) {
  for (std::size_t i = 0; i < n; ++i) {
    std::byte b[sizeof(From)];
    std::memcpy(b, src + i * sizeof(From), sizeof(From));
    if (swap) std::reverse(b, b + sizeof(From));
    From v;
    std::memcpy(&v, b, sizeof(From));
    dst[i] = static_cast<To>(v);
  }
}

}  // namespace

EdfFrameHeader parse_edf_header(std::span<const std::byte> bytes, std::string_view name) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                              std::min(bytes.size(), edf_max_header_bytes));
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  if (start >= text.size() || text[start] != '{')
    throw FormatError(fmt::format("{}: not an EDF header (expected '{{' at byte {})", name, start));
  const std::size_t close = text.find('}', start);
  if (close == std::string_view::npos)
    throw FormatError(fmt::format("{}: EDF header has no closing '}}' within {} bytes (truncated or corrupt)",
                                  name, text.size()));
  EdfFrameHeader h;
  // The data block starts after the newline that follows '}' ("}\r\n" is accepted too).
  std::size_t end = close + 1;
  if (end < text.size() && text[end] == '\r') ++end;
  if (end < text.size() && text[end] == '\n') ++end;
  h.header_bytes = end;

  std::string_view body = text.substr(start + 1, close - start - 1);
  while (!body.empty()) {
    const std::size_t semi = body.find(';');
    const std::string_view item = body.substr(0, semi);
    body = semi == std::string_view::npos ? std::string_view() : body.substr(semi + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;  // padding, blank lines
    const std::string_view key = trim(item.substr(0, eq));
    if (key.empty()) continue;
    h.keys[std::string(key)] = std::string(trim(item.substr(eq + 1)));
  }

  h.cols = parse_int(h.keys, "Dim_1", name, true, 0);
  h.rows = parse_int(h.keys, "Dim_2", name, false, 1);
  const std::int64_t depth = parse_int(h.keys, "Dim_3", name, false, 1);
  if (h.cols < 1 || h.rows < 1 || h.cols > edf_max_frame_pixels || h.rows > edf_max_frame_pixels / h.cols)
    throw FormatError(fmt::format("{}: EDF image of {} x {} pixels (Dim_2 x Dim_1) is not a valid frame size", name,
                                  h.rows, h.cols));
  if (depth != 1)
    throw FormatError(fmt::format("{}: EDF frame with Dim_3 = {} (a volume) is not supported; expected 2D frames",
                                  name, depth));

  if (!h.keys.contains("DataType")) throw FormatError(fmt::format("{}: EDF header has no DataType key", name));
  h.data_type = h.keys.at("DataType").get<std::string>();
  const auto type = stored_type(h.data_type);
  if (!type)
    throw FormatError(fmt::format("{}: EDF DataType '{}' is not supported (expected e.g. UnsignedShort, "
                                  "SignedInteger, FloatValue, DoubleValue)",
                                  name, h.data_type));
  h.element_bytes = type->bytes;
  h.is_signed = type->is_signed;
  h.is_float = type->is_float;
  if (h.is_float)
    h.dtype = h.element_bytes == 4 ? DType::f32 : DType::f64;
  else if (h.element_bytes == 8)
    throw FormatError(fmt::format("{}: EDF DataType '{}' (64-bit integers) is not supported", name, h.data_type));
  else if (h.is_signed)
    h.dtype = DType::i32;  // int8/int16 widen exactly
  else
    h.dtype = h.element_bytes == 1 ? DType::u8 : h.element_bytes == 2 ? DType::u16 : DType::u32;

  const std::string order = h.keys.contains("ByteOrder") ? h.keys.at("ByteOrder").get<std::string>() : "LowByteFirst";
  if (lower(order) == "highbytefirst")
    h.big_endian = true;
  else if (lower(order) != "lowbytefirst")
    throw FormatError(fmt::format("{}: EDF ByteOrder '{}' is not LowByteFirst or HighByteFirst", name, order));

  if (h.keys.contains("Compression")) {
    const std::string c = lower(h.keys.at("Compression").get<std::string>());
    if (c != "none" && c != "nocompression" && !c.empty())
      throw FormatError(fmt::format("{}: EDF Compression '{}' is not supported; only uncompressed data is read",
                                    name, h.keys.at("Compression").get<std::string>()));
  }

  const auto need = static_cast<std::uint64_t>(h.rows * h.cols) * h.element_bytes;
  const char* size_key = h.keys.contains("Size") ? "Size" : "EDF_BinarySize";
  const std::int64_t size = parse_int(h.keys, size_key, name, false, static_cast<std::int64_t>(need));
  if (size < 0 || static_cast<std::uint64_t>(size) < need)
    throw FormatError(fmt::format("{}: EDF {} = {} bytes, but {} x {} {} samples need {}", name, size_key, size,
                                  h.rows, h.cols, h.data_type, need));
  h.data_bytes = static_cast<std::uint64_t>(size);
  return h;
}

Array decode_edf_data(const EdfFrameHeader& h, std::span<const std::byte> data, std::string_view name) {
  const auto n = static_cast<std::size_t>(h.rows * h.cols);
  if (data.size() < n * h.element_bytes)
    throw FormatError(fmt::format("{}: EDF data block has {} bytes, {} x {} {} samples need {} (truncated)", name,
                                  data.size(), h.rows, h.cols, h.data_type, n * h.element_bytes));
  Array out(h.dtype, {h.rows, h.cols});
  const bool swap = h.big_endian != (std::endian::native == std::endian::big);
  const std::byte* src = data.data();
  std::byte* dst = out.bytes();
  switch (h.element_bytes * 4 + (h.is_signed ? 2 : 0) + (h.is_float ? 1 : 0)) {
    case 4: convert<std::uint8_t>(src, n, false, reinterpret_cast<std::uint8_t*>(dst)); break;
    case 6: convert<std::int8_t>(src, n, false, reinterpret_cast<std::int32_t*>(dst)); break;
    case 8: convert<std::uint16_t>(src, n, swap, reinterpret_cast<std::uint16_t*>(dst)); break;
    case 10: convert<std::int16_t>(src, n, swap, reinterpret_cast<std::int32_t*>(dst)); break;
    case 16: convert<std::uint32_t>(src, n, swap, reinterpret_cast<std::uint32_t*>(dst)); break;
    case 18: convert<std::int32_t>(src, n, swap, reinterpret_cast<std::int32_t*>(dst)); break;
    case 19: convert<float>(src, n, swap, reinterpret_cast<float*>(dst)); break;
    case 35: convert<double>(src, n, swap, reinterpret_cast<double*>(dst)); break;
    default: throw FormatError(fmt::format("{}: EDF DataType '{}' cannot be decoded", name, h.data_type));
  }
  return out;
}

std::vector<EdfFrame> read_edf_frames(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::uintmax_t file_size = detail::readable_file_size(path, "EDF");
  std::vector<EdfFrame> frames;
  std::uint64_t offset = 0;
  while (offset < file_size) {
    // Read 4 KiB of header, more (up to edf_max_header_bytes) only while no '}' is in sight.
    const std::uint64_t left = file_size - offset;
    std::vector<std::byte> head;
    for (std::size_t want = 4096;; want *= 2) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>({left, want, edf_max_header_bytes}));
      head = detail::read_file_bytes(path, offset, n, "EDF");
      const bool closed = std::find(head.begin(), head.end(), std::byte{'}'}) != head.end();
      if (closed || n == left || n == edf_max_header_bytes) break;
    }
    // Trailing whitespace (some writers end the file with a newline) is not another frame.
    if (!frames.empty() && head.size() == left && std::all_of(head.begin(), head.end(), [](std::byte b) {
          return std::isspace(static_cast<unsigned char>(b)) || b == std::byte{0};
        }))
      break;
    const std::string where = frames.empty() ? name : fmt::format("{} (frame {})", name, frames.size());
    EdfFrame f{parse_edf_header(head, where), 0};
    f.data_offset = offset + f.header.header_bytes;
    if (f.header.data_bytes > file_size - std::min<std::uint64_t>(f.data_offset, file_size))
      throw FormatError(fmt::format("{}: EDF data block of {} bytes at byte {} runs past the end of the {}-byte file "
                                    "(truncated)",
                                    where, f.header.data_bytes, f.data_offset, file_size));
    offset = f.data_offset + f.header.data_bytes;
    frames.push_back(std::move(f));
  }
  if (frames.empty()) throw FormatError(fmt::format("{}: empty file, expected an EDF image", name));
  return frames;
}

Array read_edf_frame(const std::filesystem::path& path, const EdfFrame& frame) {
  const auto bytes = static_cast<std::size_t>(frame.header.rows * frame.header.cols) * frame.header.element_bytes;
  const std::vector<std::byte> data = detail::read_file_bytes(path, frame.data_offset, bytes, "EDF");
  return decode_edf_data(frame.header, data, path.string());
}

Array read_edf(const std::filesystem::path& path) {
  const std::vector<EdfFrame> frames = read_edf_frames(path);
  if (frames.size() == 1) return read_edf_frame(path, frames[0]);
  const EdfFrameHeader& h0 = frames[0].header;
  for (std::size_t i = 1; i < frames.size(); ++i) {
    const EdfFrameHeader& h = frames[i].header;
    if (h.rows != h0.rows || h.cols != h0.cols || h.dtype != h0.dtype)
      throw FormatError(fmt::format("{}: EDF frame {} is {}x{} {} but frame 0 is {}x{} {}; frames of different shapes "
                                    "or types cannot be stacked",
                                    path.string(), i, h.rows, h.cols, name_of(h.dtype), h0.rows, h0.cols,
                                    name_of(h0.dtype)));
  }
  Array out(h0.dtype, {static_cast<std::int64_t>(frames.size()), h0.rows, h0.cols});
  const std::size_t frame_bytes = static_cast<std::size_t>(h0.rows * h0.cols) * size_of(h0.dtype);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Array f = read_edf_frame(path, frames[i]);
    std::memcpy(out.bytes() + i * frame_bytes, f.bytes(), frame_bytes);
  }
  return out;
}

bool is_edf_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return false;
  try {
    const auto head = detail::read_file_bytes(path, 0, static_cast<std::size_t>(std::min<std::uintmax_t>(size, 65536)),
                                              "EDF");
    const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
    const std::size_t open = text.find_first_not_of(" \t\r\n");
    if (open == std::string_view::npos || text[open] != '{') return false;
    const std::size_t close = text.find('}', open);
    return close != std::string_view::npos && text.substr(open, close - open).find("Dim_1") != std::string_view::npos;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace scandiff::io
