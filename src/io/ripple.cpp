#include "scandiff/io/ripple.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool is_integer_key(const std::string& k) {
  return k == "width" || k == "height" || k == "depth" || k == "offset" || k == "data-length";
}

bool is_float_key(const std::string& k) {
  return k == "ev-per-chan" || k == "detector-peak-width-ev" || k.ends_with("-scale") || k.ends_with("-origin") ||
         k == "beam-energy" || k == "collection-angle" || k == "convergence-angle" || k == "elevation-angle" ||
         k == "azimuth-angle" || k == "live-time" || k == "energy-resolution" || k == "tilt-stage";
}

std::int64_t get_int(const Metadata& h, const char* key, const std::string& file) {
  if (!h.contains(key)) throw FormatError(fmt::format("{}: the Ripple header has no '{}' key", file, key));
  return h.at(key).get<std::int64_t>();
}

std::string get_choice(const Metadata& h, const char* key, std::initializer_list<const char*> allowed,
                       const std::string& file) {
  if (!h.contains(key)) throw FormatError(fmt::format("{}: the Ripple header has no '{}' key", file, key));
  const std::string v = h.at(key).get<std::string>();
  for (const char* a : allowed)
    if (v == a) return v;
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  throw FormatError(fmt::format("{}: Ripple key '{}' is '{}', expected one of {}", file, key, v, list));
}

double get_float(const Metadata& h, const char* key, double fallback) {
  return h.contains(key) && h.at(key).is_number() ? h.at(key).get<double>() : fallback;
}

std::string get_string(const Metadata& h, const char* key, const std::string& fallback) {
  return h.contains(key) && h.at(key).is_string() ? h.at(key).get<std::string>() : fallback;
}

// The value at element `i` of the raw bytes, as T.
template <class In>
In load(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(In)];
  std::memcpy(b, p, sizeof(In));
  if (swap) std::reverse(b, b + sizeof(In));
  In v;
  std::memcpy(&v, b, sizeof(In));
  return v;
}

}  // namespace

bool is_ripple_path(const fs::path& path) { return lower(path.extension().string()) == ".rpl"; }

Metadata read_ripple_header(const fs::path& rpl) {
  const std::string file = rpl.string();
  std::error_code ec;
  if (!fs::is_regular_file(rpl, ec)) throw IoError(fmt::format("{}: no such file (expected a Ripple .rpl header)", file));
  if (fs::file_size(rpl, ec) > (1u << 20))
    throw FormatError(fmt::format("{}: over 1 MiB, too large for a Ripple .rpl header", file));
  std::ifstream in(rpl);
  if (!in) throw IoError(fmt::format("{}: cannot open for reading", file));
  Metadata h = Metadata::object();
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto semicolon = line.find(';');
    if (semicolon != std::string::npos) line.resize(semicolon);
    if (trim(line).empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos)
      throw FormatError(fmt::format("{}:{}: '{}' has no TAB between key and value", file, number, trim(line)));
    std::string key = trim(line.substr(0, tab));
    const std::string value = trim(line.substr(tab + 1));
    if (lower(key) == "data-length") key = "data-length";  // Bruker writes data-Length
    if (key == "key") continue;  // the "key<TAB>value" title line
    try {
      if (is_integer_key(key)) {
        std::size_t used = 0;
        const long long v = std::stoll(value, &used);
        if (used != value.size() || v < 0) throw std::invalid_argument(value);
        h[key] = v;
      } else if (is_float_key(key)) {
        h[key] = std::stod(value);
      } else {
        h[key] = value;
      }
    } catch (const std::exception&) {
      throw FormatError(fmt::format("{}:{}: '{}' is not a valid value for Ripple key '{}'", file, number, value, key));
    }
  }
  return h;
}

Result read_ripple(const fs::path& rpl) {
  const std::string file = rpl.string();
  const Metadata h = read_ripple_header(rpl);
  const std::int64_t width = get_int(h, "width", file), height = get_int(h, "height", file);
  const std::int64_t depth = get_int(h, "depth", file), offset = get_int(h, "offset", file);
  const std::int64_t length = get_int(h, "data-length", file);
  const std::string type = get_choice(h, "data-type", {"signed", "unsigned", "float"}, file);
  const std::string order = get_choice(h, "byte-order", {"little-endian", "big-endian", "dont-care"}, file);
  const std::string record = get_choice(h, "record-by", {"vector", "image", "dont-care"}, file);
  if (width < 1 || height < 1 || depth < 1)
    throw FormatError(fmt::format("{}: Ripple size {} x {} x {} (width, height, depth), expected all >= 1", file, width,
                                  height, depth));
  if (length != 1 && length != 2 && length != 4 && length != 8)
    throw FormatError(fmt::format("{}: Ripple data-length {}, expected 1, 2, 4 or 8", file, length));
  if (type == "float" && length < 4)
    throw FormatError(fmt::format("{}: Ripple float data need data-length 4 or 8, not {}", file, length));
  if (record == "dont-care" && depth != 1)
    throw FormatError(fmt::format("{}: Ripple record-by dont-care needs depth 1, not {}", file, depth));

  fs::path raw = rpl;
  raw.replace_extension(".raw");
  std::error_code ec;
  if (!fs::is_regular_file(raw, ec)) raw.replace_extension(".RAW");
  if (!fs::is_regular_file(raw, ec))
    throw IoError(fmt::format("{}: no .raw data file beside the Ripple header (looked for {})", file,
                              fs::path(rpl).replace_extension(".raw").string()));
  // Sizes are checked against the .raw before anything is allocated.
  const auto raw_size = static_cast<double>(fs::file_size(raw, ec));
  const double need = static_cast<double>(offset) + static_cast<double>(width) * static_cast<double>(height) *
                                                        static_cast<double>(depth) * static_cast<double>(length);
  if (ec || need > raw_size)
    throw FormatError(fmt::format("{}: {} holds {} bytes, the header needs {} (offset {} + {} x {} x {} values of {} "
                                  "bytes)",
                                  file, raw.string(), raw_size, need, offset, width, height, depth, length));
  const std::int64_t count = width * height * depth;
  std::vector<unsigned char> bytes(static_cast<std::size_t>(count * length));
  std::ifstream in(raw, std::ios::binary);
  in.seekg(offset);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    throw IoError(fmt::format("{}: cannot read {} bytes", raw.string(), bytes.size()));

  const bool swap = (order == "big-endian") == (std::endian::native == std::endian::little) && order != "dont-care";
  DType out_type = DType::f64;
  if (type == "unsigned") out_type = length == 1 ? DType::u8 : length == 2 ? DType::u16 : length == 4 ? DType::u32 : DType::f64;
  if (type == "signed") out_type = length <= 4 ? DType::i32 : DType::f64;
  if (type == "float") out_type = length == 4 ? DType::f32 : DType::f64;

  Result result;
  result.name = fs::path(rpl).stem().string();
  result.data = Array(out_type, {height, width, depth});
  visit_dtype(out_type, [&](auto tag) {
    using Out = decltype(tag);
    Out* out = result.data.data<Out>();
    auto value = [&](std::int64_t i) -> Out {
      const unsigned char* p = bytes.data() + i * length;
      if (type == "float") return static_cast<Out>(length == 4 ? load<float>(p, swap) : load<double>(p, swap));
      if (type == "unsigned") {
        switch (length) {
          case 1: return static_cast<Out>(p[0]);
          case 2: return static_cast<Out>(load<std::uint16_t>(p, swap));
          case 4: return static_cast<Out>(load<std::uint32_t>(p, swap));
          default: return static_cast<Out>(load<std::uint64_t>(p, swap));
        }
      }
      switch (length) {
        case 1: return static_cast<Out>(static_cast<std::int8_t>(p[0]));
        case 2: return static_cast<Out>(load<std::int16_t>(p, swap));
        case 4: return static_cast<Out>(load<std::int32_t>(p, swap));
        default: return static_cast<Out>(load<std::int64_t>(p, swap));
      }
    };
    // vector: file order (height, width, depth) is ours; image: (depth, height, width).
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x)
        for (std::int64_t e = 0; e < depth; ++e) {
          const std::int64_t src = record == "image" ? (e * height + y) * width + x : (y * width + x) * depth + e;
          out[(y * width + x) * depth + e] = value(src);
        }
  });
  const double energy_step = h.contains("depth-scale") ? get_float(h, "depth-scale", 1) : get_float(h, "ev-per-chan", 1);
  const std::string energy_units =
      get_string(h, "depth-units", h.contains("ev-per-chan") && !h.contains("depth-scale") ? "eV" : "");
  result.axes = {Axis{"ry", get_float(h, "height-origin", 0), get_float(h, "height-scale", 1), get_string(h, "height-units", "pixels")},
                 Axis{"rx", get_float(h, "width-origin", 0), get_float(h, "width-scale", 1), get_string(h, "width-units", "pixels")},
                 Axis{get_string(h, "depth-name", "energy"), get_float(h, "depth-origin", 0), energy_step, energy_units}};
  result.units = "counts";
  result.provenance["ripple"] = h;
  result.provenance["file"] = file;
  return result;
}

}  // namespace scandiff::io
