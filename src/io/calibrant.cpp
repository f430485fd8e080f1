#include "scandiff/io/calibrant.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "input_file.hpp"

namespace scandiff::io {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Calibrant parse_calibrant(std::string_view text, std::string_view name) {
  Calibrant c;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    const std::size_t hash = line.find('#');
    const std::string_view value = trim(line.substr(0, hash));
    const std::string_view comment = hash == std::string_view::npos ? std::string_view() : trim(line.substr(hash + 1));
    if (value.empty()) {
      if (comment.starts_with("Calibrant:")) c.name = std::string(trim(comment.substr(10)));
      continue;
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
    if (ec != std::errc() || trim(std::string_view(end, static_cast<std::size_t>(value.data() + value.size() - end))).size() > 0 ||
        !(d > 0))
      throw FormatError(fmt::format("{}: line {}: '{}' is not a positive d-spacing in Å", name, line_no, value));
    c.rings.push_back({d, std::string(comment)});
  }
  if (c.rings.empty()) throw FormatError(fmt::format("{}: no d-spacings listed (expected a calibrant .D file)", name));
  return c;
}

Calibrant read_calibrant(const std::filesystem::path& path) {
  const auto size = detail::readable_file_size(path, "calibrant");
  if (size > (16u << 20)) throw FormatError(fmt::format("{}: {} bytes is too large for a calibrant .D file", path.string(), size));
  const auto bytes = detail::read_file_bytes(path, 0, static_cast<std::size_t>(size), "calibrant");
  Calibrant c = parse_calibrant(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
  if (c.name.empty()) c.name = path.stem().string();
  return c;
}

}  // namespace scandiff::io
