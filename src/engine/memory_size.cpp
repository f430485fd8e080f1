// Memory sizes: the default budget and parsing of "--memory 2G".
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"

namespace scandiff::engine {

std::size_t default_memory_budget() {
  std::size_t available = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::size_t value_kib = 0;
  std::string unit;
  while (meminfo >> key >> value_kib >> unit) {
    if (key == "MemAvailable:") {
      available = value_kib * 1024;
      break;
    }
  }
  if (available == 0) available = static_cast<std::size_t>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  return std::max<std::size_t>(available / 4, std::size_t{64} << 20);
}

std::size_t parse_memory_size(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return InvalidArgument(fmt::format("{} '{}': expected a size such as 512M, 4G or 1048576 (bytes)", what, text));
  };
  std::string s(text);
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }), s.end());
  std::size_t pos = 0;
  while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.')) ++pos;
  if (pos == 0) throw bad();
  double number = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + pos, number);
  if (ec != std::errc() || end != s.data() + pos) throw bad();
  std::string unit = s.substr(pos);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();  // "MB", "MIB" -> "M", "MI"
  if (unit.size() == 2 && unit.back() == 'I') unit.pop_back();
  double scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K") scale = 1024.0;
  else if (unit == "M") scale = 1024.0 * 1024;
  else if (unit == "G") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else throw bad();
  const double bytes = number * scale;
  if (!(bytes >= 1) || bytes > 1e18) throw bad();
  return static_cast<std::size_t>(std::llround(bytes));
}

}  // namespace scandiff::engine
