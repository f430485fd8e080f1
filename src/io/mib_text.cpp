#include "mib_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace scandiff::io::mib_text {

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> parse_digits(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');  // at most 18 digits: no overflow
  }
  return v;
}

std::optional<unsigned> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 8) return std::nullopt;
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 40) return std::nullopt;
  // Only the characters of a plain decimal/exponent number (no "inf", "nan", hex floats).
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<std::int64_t> parse_timestamp_ns(std::string_view s) {
  // 0123456789012345678
  // YYYY-MM-DD HH:MM:SS
  if (s.size() < 19) return std::nullopt;
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  if (s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const auto y = parse_digits(s.substr(0, 4)), mo = parse_digits(s.substr(5, 2)), d = parse_digits(s.substr(8, 2)),
             h = parse_digits(s.substr(11, 2)), mi = parse_digits(s.substr(14, 2)), se = parse_digits(s.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  // Years 1970-2200 keep ns since 1970 inside int64 (which ends in 2262).
  if (*y < 1970 || *y > 2200) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  std::int64_t frac_ns = 0;
  if (s.size() > 19) {
    if (s[19] != '.' || s.size() == 20 || s.size() > 29) return std::nullopt;
    const std::string_view frac = s.substr(20);
    const auto f = parse_digits(frac, 9);
    if (!f) return std::nullopt;
    frac_ns = *f;
    for (std::size_t i = frac.size(); i < 9; ++i) frac_ns *= 10;
  }
  const std::int64_t seconds = days_from_civil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *se;
  return seconds * 1'000'000'000 + frac_ns;
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F)
      out += c;
    else
      out += fmt::format("\\x{:02x}", u);
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace scandiff::io::mib_text
