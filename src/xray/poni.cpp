// .poni reading and writing (pyFAI's ponifile rules, versions 1, 2 and 2.1).
#include "scandiff/xray/poni.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"

namespace scandiff::xray {

namespace {

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

double to_number(const std::string& text, std::string_view key, std::string_view source) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (end == begin || trim(end) != "" || errno == ERANGE || !std::isfinite(v))
    throw FormatError(fmt::format("{}: {} '{}' is not a finite number", source, key, text));
  return v;
}

void check_range(double v, double lo, double hi, std::string_view key, std::string_view unit,
                 std::string_view source, bool lo_open = false) {
  if (v < lo || v > hi || (lo_open && v == lo))
    throw InvalidArgument(fmt::format("{}: {} = {} {} is outside the plausible range {}{}, {}] {}", source, key, v,
                                      unit, lo_open ? "(" : "[", lo, hi, unit));
}

}  // namespace

PoniGeometry parse_poni(std::string_view text, std::string_view source) {
  std::map<std::string, std::string> kv;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto colon = t.find(':');
    if (colon == std::string::npos) continue;
    kv[lower(trim(std::string_view(t).substr(0, colon)))] = trim(std::string_view(t).substr(colon + 1));
  }
  auto get = [&](std::string_view key) -> const std::string* {
    const auto it = kv.find(std::string(key));
    return it == kv.end() ? nullptr : &it->second;
  };
  auto number = [&](std::string_view key, std::string_view shown) {
    const std::string* v = get(key);
    if (v == nullptr) throw FormatError(fmt::format("{}: missing key '{}'", source, shown));
    return to_number(*v, shown, source);
  };

  PoniGeometry g;
  if (const std::string* v = get("poni_version")) g.poni_version = to_number(*v, "poni_version", source);
  if (const std::string* v = get("detector")) g.detector = *v;
  const std::string* config = get("detector_config");
  if (config != nullptr && g.poni_version < 2) g.poni_version = 2;
  if (config != nullptr) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(*config);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(fmt::format("{}: Detector_config is not valid JSON: {}", source, e.what()));
    }
    if (!j.is_object()) throw FormatError(fmt::format("{}: Detector_config is not a JSON object", source));
    auto json_number = [&](const char* key) {
      if (!j.contains(key) || !j[key].is_number())
        throw FormatError(fmt::format("{}: Detector_config has no number '{}'", source, key));
      return j[key].get<double>();
    };
    g.pixel1_m = json_number("pixel1");
    g.pixel2_m = json_number("pixel2");
    if (j.contains("orientation")) {
      if (!j["orientation"].is_number_integer())
        throw FormatError(fmt::format("{}: Detector_config orientation is not an integer", source));
      g.orientation = j["orientation"].get<int>();
      if (g.poni_version < 2.1) g.poni_version = 2.1;
    }
  } else {
    g.pixel1_m = number("pixelsize1", "PixelSize1");
    g.pixel2_m = number("pixelsize2", "PixelSize2");
    if (const std::string* spline = get("splinefile"); spline != nullptr && lower(*spline) != "none")
      throw FormatError(fmt::format("{}: spline distortion files are not supported (SplineFile: {})", source, *spline));
  }
  g.distance_m = get("distance") ? number("distance", "Distance") : number("dist", "Distance");
  g.poni1_m = number("poni1", "Poni1");
  g.poni2_m = number("poni2", "Poni2");
  g.rot1_rad = number("rot1", "Rot1");
  g.rot2_rad = number("rot2", "Rot2");
  g.rot3_rad = number("rot3", "Rot3");
  if (const std::string* w = get("wavelength"); w != nullptr && lower(*w) != "none")
    g.wavelength_m = to_number(*w, "Wavelength", source);

  constexpr double two_pi = 2 * std::numbers::pi;
  check_range(g.distance_m, 0, 100, "Distance", "m", source, true);
  check_range(g.pixel1_m, 0, 1, "pixel size 1", "m", source, true);
  check_range(g.pixel2_m, 0, 1, "pixel size 2", "m", source, true);
  check_range(std::abs(g.poni1_m), 0, 100, "|Poni1|", "m", source);
  check_range(std::abs(g.poni2_m), 0, 100, "|Poni2|", "m", source);
  check_range(std::abs(g.rot1_rad), 0, two_pi, "|Rot1|", "rad", source);
  check_range(std::abs(g.rot2_rad), 0, two_pi, "|Rot2|", "rad", source);
  check_range(std::abs(g.rot3_rad), 0, two_pi, "|Rot3|", "rad", source);
  check_range(g.wavelength_m, 0, 1e-6, "Wavelength", "m", source);
  if (g.orientation < 1 || g.orientation > 4)
    throw InvalidArgument(fmt::format("{}: orientation {} is not supported (1..4)", source, g.orientation));
  return g;
}

PoniGeometry read_poni(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open the .poni file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError(fmt::format("{}: read error", path.string()));
  return parse_poni(text.str(), path.string());
}

std::string format_poni(const PoniGeometry& g) {
  const nlohmann::json config = {{"pixel1", g.pixel1_m}, {"pixel2", g.pixel2_m}, {"max_shape", nullptr},
                                 {"orientation", g.orientation}};
  std::string s = "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n# Calibration done by scandiff\n";
  s += "poni_version: 2.1\n";
  s += fmt::format("Detector: {}\n", g.detector);
  s += fmt::format("Detector_config: {}\n", config.dump());
  s += fmt::format("Distance: {:.17g}\nPoni1: {:.17g}\nPoni2: {:.17g}\n", g.distance_m, g.poni1_m, g.poni2_m);
  s += fmt::format("Rot1: {:.17g}\nRot2: {:.17g}\nRot3: {:.17g}\n", g.rot1_rad, g.rot2_rad, g.rot3_rad);
  s += fmt::format("Wavelength: {:.17g}\n", g.wavelength_m);
  return s;
}

void write_poni(const std::filesystem::path& path, const PoniGeometry& geometry) {
  io::AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << format_poni(geometry);
    if (!f) throw IoError(fmt::format("{}: cannot write", path.string()));
  }
  out.commit();
}

PoniGeometry electron_geometry(double pixel_size_m, double camera_length_m, double wavelength_m,
                               double center_row_px, double center_col_px) {
  if (!(pixel_size_m > 0) || !(camera_length_m > 0) || !(wavelength_m > 0))
    throw InvalidArgument(fmt::format("electron geometry: pixel size {} m, camera length {} m and wavelength {} m "
                                      "must all be positive",
                                      pixel_size_m, camera_length_m, wavelength_m));
  PoniGeometry g;
  g.distance_m = camera_length_m;
  g.pixel1_m = g.pixel2_m = pixel_size_m;
  g.poni1_m = center_row_px * pixel_size_m;
  g.poni2_m = center_col_px * pixel_size_m;
  g.wavelength_m = wavelength_m;
  g.detector = "electron detector";
  return g;
}

PoniGeometry electron_geometry_reciprocal(double inv_A_per_pixel, double wavelength_m, double center_row_px,
                                          double center_col_px) {
  if (!(inv_A_per_pixel > 0) || !(wavelength_m > 0))
    throw InvalidArgument(fmt::format("electron geometry: reciprocal pixel size {} A^-1 and wavelength {} m must be "
                                      "positive",
                                      inv_A_per_pixel, wavelength_m));
  constexpr double virtual_pixel_m = 1e-4;
  const double camera_length_m = virtual_pixel_m / (wavelength_m * 1e10 * inv_A_per_pixel);
  return electron_geometry(virtual_pixel_m, camera_length_m, wavelength_m, center_row_px, center_col_px);
}

}  // namespace scandiff::xray
