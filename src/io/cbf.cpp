#include "scandiff/io/cbf.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "input_file.hpp"

namespace scandiff::io {
namespace {

constexpr std::string_view section_marker = "--CIF-BINARY-FORMAT-SECTION--";
constexpr unsigned char binary_start[4] = {0x0C, 0x1A, 0x04, 0xD5};
// The MIME header of a binary section is a few hundred bytes; more is corrupt.
constexpr std::size_t max_mime_header_bytes = 65536;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The value of "key: value" in the MIME header (case-insensitive key), unquoted.
std::optional<std::string> mime_value(std::string_view header, std::string_view key) {
  const std::string h = lower(header);
  const std::string k = lower(key) + ":";
  std::size_t pos = 0;
  while ((pos = h.find(k, pos)) != std::string::npos) {
    if (pos == 0 || h[pos - 1] == '\n' || h[pos - 1] == '\r') {
      const std::size_t start = pos + k.size();
      const std::size_t eol = header.find_first_of("\r\n", start);
      std::string_view v = trim(header.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    pos += k.size();
  }
  return std::nullopt;
}

std::int64_t mime_int(std::string_view header, std::string_view key, std::string_view name,
                      std::optional<std::int64_t> fallback = std::nullopt) {
  const auto v = mime_value(header, key);
  if (!v) {
    if (fallback) return *fallback;
    throw FormatError(fmt::format("{}: CBF binary section has no {} line", name, key));
  }
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size() || out < 0)
    throw FormatError(fmt::format("{}: CBF {} = '{}' is not a non-negative integer", name, key, *v));
  return out;
}

template <class T>
T load_le(const std::byte* p) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v = static_cast<T>(v | static_cast<T>(static_cast<std::make_unsigned_t<T>>(std::to_integer<unsigned>(p[i])) << (8 * i)));
  return v;
}

// Decodes into int32 values first, then narrows into T with a range check.
template <class T>
void decode_into(std::span<const std::byte> in, T* out, std::size_t n, std::string_view name) {
  std::vector<std::int32_t> tmp;
  if constexpr (std::is_same_v<T, std::int32_t>) {
    decode_byte_offset(in, std::span<std::int32_t>(out, n), name);
  } else {
    tmp.resize(n);
    decode_byte_offset(in, tmp, name);
    for (std::size_t i = 0; i < n; ++i) {
      if (tmp[i] < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          tmp[i] > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
        throw FormatError(fmt::format("{}: CBF value {} at element {} does not fit the declared element type", name,
                                      tmp[i], i));
      out[i] = static_cast<T>(tmp[i]);
    }
  }
}

}  // namespace

void decode_byte_offset(std::span<const std::byte> in, std::span<std::int32_t> out, std::string_view name) {
  std::uint32_t value = 0;
  std::size_t pos = 0;
  const std::size_t size = in.size();
  const std::byte* p = in.data();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (pos >= size)
      throw FormatError(fmt::format("{}: CBF byte-offset stream ends after {} of {} values (truncated)", name, i,
                                    out.size()));
    std::int64_t delta = static_cast<std::int8_t>(std::to_integer<std::uint8_t>(p[pos]));
    pos += 1;
    if (delta == -128) {
      if (size - pos < 2) throw FormatError(fmt::format("{}: CBF byte-offset stream truncated in value {}", name, i));
      delta = load_le<std::int16_t>(p + pos);
      pos += 2;
      if (delta == std::numeric_limits<std::int16_t>::min()) {
        if (size - pos < 4) throw FormatError(fmt::format("{}: CBF byte-offset stream truncated in value {}", name, i));
        delta = load_le<std::int32_t>(p + pos);
        pos += 4;
        if (delta == std::numeric_limits<std::int32_t>::min()) {
          if (size - pos < 8)
            throw FormatError(fmt::format("{}: CBF byte-offset stream truncated in value {}", name, i));
          delta = load_le<std::int64_t>(p + pos);
          pos += 8;
        }
      }
    }
    // Sums wrap modulo 2^32, as CBFlib and fabio compute them for 32-bit elements.
    value = static_cast<std::uint32_t>(value + static_cast<std::uint32_t>(static_cast<std::uint64_t>(delta)));
    out[i] = std::bit_cast<std::int32_t>(value);
  }
}

Array decode_cbf(std::span<const std::byte> file, std::string_view name) {
  const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  if (!text.starts_with("###CBF")) throw FormatError(fmt::format("{}: not a CBF file (no '###CBF' signature)", name));
  const std::size_t section = text.find(section_marker);
  if (section == std::string_view::npos)
    throw FormatError(fmt::format("{}: CBF file has no binary section ({})", name, section_marker));
  const std::size_t mime_begin = section + section_marker.size();
  const std::string_view after = text.substr(mime_begin, max_mime_header_bytes);
  const std::size_t start = after.find(std::string_view(reinterpret_cast<const char*>(binary_start), 4));
  if (start == std::string_view::npos)
    throw FormatError(fmt::format("{}: CBF binary section has no start-of-data marker (truncated or corrupt)", name));
  const std::string_view mime = after.substr(0, start);

  const std::string content = lower(mime_value(mime, "Content-Type").value_or(""));
  if (lower(mime).find("x-cbf_byte_offset") == std::string::npos)
    throw FormatError(fmt::format("{}: CBF compression is not x-CBF_BYTE_OFFSET (Content-Type: {}); other "
                                  "compressions are not supported",
                                  name, content.empty() ? std::string("missing") : content));
  const std::int64_t cols = mime_int(mime, "X-Binary-Size-Fastest-Dimension", name);
  const std::int64_t rows = mime_int(mime, "X-Binary-Size-Second-Dimension", name);
  const std::int64_t depth = mime_int(mime, "X-Binary-Size-Third-Dimension", name, 1);
  const std::int64_t binary_size = mime_int(mime, "X-Binary-Size", name);
  if (cols < 1 || rows < 1 || cols > cbf_max_frame_pixels || rows > cbf_max_frame_pixels / cols)
    throw FormatError(fmt::format("{}: CBF image of {} x {} pixels is not a valid frame size", name, rows, cols));
  if (depth != 1)
    throw FormatError(fmt::format("{}: CBF array with a third dimension of {} is not supported", name, depth));
  const std::int64_t elements = mime_int(mime, "X-Binary-Number-of-Elements", name, rows * cols);
  if (elements != rows * cols)
    throw FormatError(fmt::format("{}: CBF X-Binary-Number-of-Elements = {} but the dimensions are {} x {}", name,
                                  elements, rows, cols));
  const std::size_t data_begin = mime_begin + start + 4;
  if (static_cast<std::uint64_t>(binary_size) > file.size() - data_begin)
    throw FormatError(fmt::format("{}: CBF X-Binary-Size = {} bytes but only {} follow the data marker (truncated)",
                                  name, binary_size, file.size() - data_begin));
  // Byte offset needs at least one byte per pixel: refuse before allocating for a lie.
  if (binary_size < rows * cols)
    throw FormatError(fmt::format("{}: CBF stream of {} bytes cannot hold {} x {} pixels (at least one byte each)",
                                  name, binary_size, rows, cols));
  const auto stream = file.subspan(data_begin, static_cast<std::size_t>(binary_size));

  const std::string type = lower(mime_value(mime, "X-Binary-Element-Type").value_or("signed 32-bit integer"));
  DType dtype;
  if (type == "signed 32-bit integer" || type == "signed 16-bit integer" || type == "signed 8-bit integer")
    dtype = DType::i32;
  else if (type == "unsigned 32-bit integer")
    dtype = DType::u32;
  else if (type == "unsigned 16-bit integer")
    dtype = DType::u16;
  else if (type == "unsigned 8-bit integer")
    dtype = DType::u8;
  else
    throw FormatError(fmt::format("{}: CBF X-Binary-Element-Type '{}' is not supported", name, type));
  const std::string order = lower(mime_value(mime, "X-Binary-Element-Byte-Order").value_or("little_endian"));
  if (order != "little_endian")
    throw FormatError(fmt::format("{}: CBF X-Binary-Element-Byte-Order '{}' is not supported", name, order));

  Array out(dtype, {rows, cols});
  const auto n = static_cast<std::size_t>(rows * cols);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) decode_into<T>(stream, reinterpret_cast<T*>(out.bytes()), n, name);
  });
  return out;
}

Array read_cbf(const std::filesystem::path& path) {
  const auto size = detail::readable_file_size(path, "CBF");
  const std::vector<std::byte> bytes = detail::read_file_bytes(path, 0, static_cast<std::size_t>(size), "CBF");
  return decode_cbf(bytes, path.string());
}

bool is_cbf_file(const std::filesystem::path& path) {
  try {
    const auto head = detail::read_file_bytes(path, 0, 6, "CBF");
    return std::string_view(reinterpret_cast<const char*>(head.data()), head.size()) == "###CBF";
  } catch (const Error&) {
    return false;
  }
}

}  // namespace scandiff::io
