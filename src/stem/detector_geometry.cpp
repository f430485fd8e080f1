#include "scandiff/stem/detector_geometry.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scandiff/core/error.hpp"
#include "scandiff/stem/calibrated_origin.hpp"

namespace scandiff::stem {

namespace {

std::size_t value_count(DetectorShape s) {
  switch (s) {
    case DetectorShape::point: return 2;
    case DetectorShape::circle: return 3;
    case DetectorShape::annulus: return 4;
    case DetectorShape::rectangle: return 4;
    case DetectorShape::mask: return 0;
  }
  return 0;
}

const char* value_names(DetectorShape s) {
  switch (s) {
    case DetectorShape::point: return "qy,qx";
    case DetectorShape::circle: return "qy,qx,radius";
    case DetectorShape::annulus: return "qy,qx,inner_radius,outer_radius";
    case DetectorShape::rectangle: return "qy_min,qy_max,qx_min,qx_max";
    case DetectorShape::mask: return "";
  }
  return "";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

double parse_number(std::string_view text, std::string_view what) {
  text = trim(text);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    throw InvalidArgument(fmt::format("{}: '{}' is not a finite number", what, text));
  return v;
}

}  // namespace

std::string_view name_of(DetectorShape shape) {
  switch (shape) {
    case DetectorShape::point: return "point";
    case DetectorShape::circle: return "circle";
    case DetectorShape::annulus: return "annulus";
    case DetectorShape::rectangle: return "rectangle";
    case DetectorShape::mask: return "mask";
  }
  return "?";
}

std::string_view name_of(DetectorUnits units) {
  switch (units) {
    case DetectorUnits::pixels: return "pixels";
    case DetectorUnits::inv_A: return "A^-1";
    case DetectorUnits::mrad: return "mrad";
  }
  return "?";
}

DetectorUnits parse_detector_units(std::string_view text, std::string_view what) {
  if (text == "px" || text == "pixels" || text == "pixel") return DetectorUnits::pixels;
  if (text == "A^-1" || text == "1/A" || text == "inv_A") return DetectorUnits::inv_A;
  if (text == "mrad") return DetectorUnits::mrad;
  throw InvalidArgument(fmt::format("{}: unknown units '{}', expected px, A^-1 or mrad", what, text));
}

DetectorGeometry parse_detector_geometry(std::string_view text, std::string_view what) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos)
    throw InvalidArgument(fmt::format("{} '{}': expected SHAPE:NUMBERS, e.g. circle:63.5,63.5,10 or "
                                      "annulus:63.5,63.5,20,60",
                                      what, text));
  const std::string_view shape = trim(text.substr(0, colon));
  DetectorGeometry g;
  if (shape == "point")
    g.shape = DetectorShape::point;
  else if (shape == "circle" || shape == "circular")
    g.shape = DetectorShape::circle;
  else if (shape == "annulus" || shape == "annular")
    g.shape = DetectorShape::annulus;
  else if (shape == "rectangle" || shape == "square" || shape == "rectangular")
    g.shape = DetectorShape::rectangle;
  else
    throw InvalidArgument(fmt::format("{} '{}': unknown shape '{}', expected point, circle, annulus or rectangle",
                                      what, text, shape));
  std::string_view rest = text.substr(colon + 1);
  while (true) {
    const auto comma = rest.find(',');
    g.values.push_back(parse_number(rest.substr(0, comma), what));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (g.values.size() != value_count(g.shape))
    throw InvalidArgument(fmt::format("{} '{}': a {} takes {} numbers ({}), got {}", what, text, name_of(g.shape),
                                      value_count(g.shape), value_names(g.shape), g.values.size()));
  return g;
}

Detector resolve_detector(const DetectorGeometry& g, const io::DatasetInfo& info, std::string_view what) {
  const std::int64_t fy = info.frame_y, fx = info.frame_x;
  if (g.shape == DetectorShape::mask) {
    if (g.mask.rank() != 2 || g.mask.shape(0) != fy || g.mask.shape(1) != fx)
      throw InvalidArgument(fmt::format("{}: the mask has shape {}, expected the frame shape ({}, {})", what,
                                        shape_string(g.mask.shape()), fy, fx));
    return Detector::from_mask(g.mask);
  }
  if (g.values.size() != value_count(g.shape))
    throw InvalidArgument(fmt::format("{}: a {} takes {} numbers ({}), got {}", what, name_of(g.shape),
                                      value_count(g.shape), value_names(g.shape), g.values.size()));
  std::vector<double> v = g.values;
  // 1. Units -> pixels.
  if (g.units != DetectorUnits::pixels) {
    const Calibration& cal = info.calibration;
    if (cal.detector_units != name_of(g.units))
      throw InvalidArgument(fmt::format("{}: the geometry is in {} but {} is calibrated in '{}'", what,
                                        name_of(g.units), info.path, cal.detector_units));
    if (!(cal.detector_pixel_size > 0) || !std::isfinite(cal.detector_pixel_size))
      throw InvalidArgument(fmt::format("{}: the detector pixel size {} {} of {} must be positive", what,
                                        cal.detector_pixel_size, cal.detector_units, info.path));
    for (double& x : v) x /= cal.detector_pixel_size;
  }
  // 2. Relative to the mean origin (pixels).
  if (g.relative_to_origin) {
    const Origin o = Origin::from_calibration(info.calibration, info.scan_y, info.scan_x, what);
    if (g.shape == DetectorShape::rectangle) {
      v[0] += o.mean_qy_px();
      v[1] += o.mean_qy_px();
      v[2] += o.mean_qx_px();
      v[3] += o.mean_qx_px();
    } else {
      v[0] += o.mean_qy_px();
      v[1] += o.mean_qx_px();
    }
  }
  Detector d = [&] {
    switch (g.shape) {
      case DetectorShape::point: return Detector::point(fy, fx, v[0], v[1]);
      case DetectorShape::circle: return Detector::circle(fy, fx, v[0], v[1], v[2]);
      case DetectorShape::annulus: return Detector::annulus(fy, fx, v[0], v[1], v[2], v[3]);
      case DetectorShape::rectangle: return Detector::rectangle(fy, fx, v[0], v[1], v[2], v[3]);
      case DetectorShape::mask: break;
    }
    throw InvalidArgument(fmt::format("{}: unknown detector shape", what));
  }();
  d.annotate("given", Metadata{{"shape", std::string(name_of(g.shape))},
                               {"values", g.values},
                               {"units", std::string(name_of(g.units))},
                               {"relative_to_origin", g.relative_to_origin}});
  return d;
}

}  // namespace scandiff::stem
