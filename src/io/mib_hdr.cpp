// The Merlin .hdr acquisition header (reference §7): "HDR," then "Key (choices):<TAB>value"
// lines (CRLF or LF) up to "End", space-padded to 2048 bytes.
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "mib_text.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/mib.hpp"

namespace scandiff::io {

using namespace mib_text;

namespace {

constexpr std::uintmax_t max_hdr_bytes = 1 << 20;

// "Frames per Trigger (Number)" -> "frames per trigger": the key without its "(choices)".
std::string base_key(std::string_view key) {
  const std::size_t paren = key.find('(');
  std::string k(trim(key.substr(0, paren)));
  std::string out;
  for (char c : k) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;  // "Chip Mode  (" has two spaces
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

}  // namespace

MibAcquisitionHeader parse_mib_hdr(std::string_view text, std::string_view where) {
  MibAcquisitionHeader h;
  h.path = std::string(where);
  if (text.substr(0, 4) != "HDR,")
    throw FormatError(fmt::format("{}: not a Merlin acquisition header: starts with '{}', expected 'HDR,'", where,
                                  printable(text.substr(0, 4))));
  bool ended = false;
  for (std::size_t start = 0; start < text.size() && !ended;) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const std::string_view t = trim(line);
    if (t.empty() || t == "HDR,") continue;
    if (t.starts_with("End") && trim(t.substr(3)).empty()) {
      ended = true;
      continue;
    }
    std::size_t sep = line.find('\t');
    if (sep == std::string_view::npos) sep = line.find(':');
    if (sep == std::string_view::npos) {
      h.problems.push_back(fmt::format("line '{}' has no key/value separator", printable(t)));
      continue;
    }
    std::string_view key = trim(line.substr(0, sep));
    if (key.ends_with(':')) key.remove_suffix(1);
    const std::string value(trim(line.substr(sep + 1)));
    // Stored as printable ASCII so that the metadata always serialises (JSON needs UTF-8).
    h.fields[printable(key, 200)] = printable(value, 4000);

    const std::string k = base_key(key);
    auto number = [&](std::int64_t lo) -> std::optional<std::int64_t> {
      const auto v = parse_digits(value, 12);
      if (!v || *v < lo) {
        h.problems.push_back(fmt::format("'{}' is '{}', expected an integer >= {}", std::string(key),
                                         printable(value), lo));
        return std::nullopt;
      }
      return v;
    };
    if (k == "frames in acquisition") h.frames_in_acquisition = number(0);
    else if (k == "frames per trigger") h.frames_per_trigger = number(0);
    else if (k == "scanx") h.scan_x = number(1);
    else if (k == "scany") h.scan_y = number(1);
    else if (k == "counter depth") {
      if (const auto d = number(1)) h.counter_depth = static_cast<int>(*d);
    } else if (k == "assembly size") {
      h.assembly_size = value;
      for (char& c : h.assembly_size)
        if (c == 'X') c = 'x';
    } else if (k == "software version") h.software_version = value;
    else if (k == "trigger start") h.trigger_start = value;
    else if (k == "trigger stop") h.trigger_stop = value;
  }
  if (!ended) h.problems.push_back("no 'End' line (file cut short?)");
  if (h.counter_depth && *h.counter_depth != 1 && *h.counter_depth != 6 && *h.counter_depth != 12 &&
      *h.counter_depth != 24) {
    h.problems.push_back(fmt::format("'Counter Depth' is {}, expected 1, 6, 12 or 24", *h.counter_depth));
    h.counter_depth.reset();
  }
  return h;
}

MibAcquisitionHeader read_mib_hdr(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(fmt::format("{}: cannot read: {}", path.string(), ec.message()));
  if (size > max_hdr_bytes)
    throw FormatError(fmt::format("{}: {} bytes is too large for a Merlin .hdr (at most {} bytes)", path.string(), size,
                                  max_hdr_bytes));
  std::ifstream f(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!f.read(text.data(), static_cast<std::streamsize>(size)))
    throw IoError(fmt::format("{}: read failed", path.string()));
  return parse_mib_hdr(text, path.string());
}

}  // namespace scandiff::io
