#include "polar_calibration.hpp"

#include "array_file.hpp"

#include <cmath>
#include <fstream>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/image_mask.hpp"

namespace scandiff::cli {

namespace {
constexpr double half_pi = std::numbers::pi / 2;
}

Metadata polar_calibration_json(const Calibration& cal, const Metadata& extra) {
  Metadata doc = Metadata::object();
  const double qy0 = cal.origin_qy_px.value_or(NAN), qx0 = cal.origin_qx_px.value_or(NAN);
  if (cal.origin_qy_px) doc["origin"] = {{"qy_px", qy0}, {"qx_px", qx0}};
  if (cal.ellipse) {
    doc["ellipse"] = {{"a_px", cal.ellipse->a_px}, {"b_px", cal.ellipse->b_px}, {"theta_rad", cal.ellipse->theta_rad},
                      {"theta_deg", cal.ellipse->theta_rad * 180 / std::numbers::pi}};
    doc["p_ellipse"] = {cal.origin_qy_px ? Metadata(qy0) : Metadata(), cal.origin_qx_px ? Metadata(qx0) : Metadata(),
                        cal.ellipse->a_px, cal.ellipse->b_px, half_pi - cal.ellipse->theta_rad};
  }
  if (cal.detector_units == "A^-1") doc["reciprocal_space_pix(1/A)"] = cal.detector_pixel_size;
  if (cal.camera_length_m) doc["nominal_camera_length(m)"] = *cal.camera_length_m;
  for (auto it = extra.begin(); it != extra.end(); ++it) doc[it.key()] = it.value();
  return doc;
}

void write_json_file(const std::filesystem::path& path, const Metadata& doc) {
  io::AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path());
    f << doc.dump(2) << '\n';
    if (!f) throw IoError(fmt::format("{}: cannot write", path.string()));
  }
  out.commit();
}

void apply_polar_calibration_file(const std::filesystem::path& path, Calibration& cal) {
  std::ifstream f(path);
  if (!f) throw IoError(fmt::format("--calibration {}: cannot read the file", path.string()));
  Metadata doc;
  try {
    doc = Metadata::parse(f);
  } catch (const std::exception& e) {
    throw FormatError(fmt::format("--calibration {}: not a JSON calibration file: {}", path.string(), e.what()));
  }
  try {
    if (doc.contains("p_ellipse")) {  // epsic / py4DSTEM convention
      const auto& p = doc.at("p_ellipse");
      if (!p.is_array() || p.size() != 5) throw FormatError("p_ellipse must hold 5 numbers");
      if (p[0].is_number() && p[1].is_number()) {
        cal.origin_qy_px = p[0].get<double>();
        cal.origin_qx_px = p[1].get<double>();
      }
      cal.ellipse = Ellipse{p[2].get<double>(), p[3].get<double>(), half_pi - p[4].get<double>()};
    }
    if (doc.contains("ellipse")) {
      const auto& e = doc.at("ellipse");
      cal.ellipse = Ellipse{e.at("a_px").get<double>(), e.at("b_px").get<double>(), e.at("theta_rad").get<double>()};
    }
    if (doc.contains("origin")) {
      cal.origin_qy_px = doc.at("origin").at("qy_px").get<double>();
      cal.origin_qx_px = doc.at("origin").at("qx_px").get<double>();
      cal.origin_qy_map = Array();
      cal.origin_qx_map = Array();
    }
    if (doc.contains("reciprocal_space_pix(1/A)")) {
      cal.detector_pixel_size = doc.at("reciprocal_space_pix(1/A)").get<double>();
      cal.detector_units = "A^-1";
    }
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(fmt::format("--calibration {}: {}", path.string(), e.what()));
  } catch (const FormatError& e) {
    throw FormatError(fmt::format("--calibration {}: {}", path.string(), e.what()));
  }
  if (cal.ellipse && !(cal.ellipse->a_px > 0 && cal.ellipse->b_px > 0))
    throw FormatError(fmt::format("--calibration {}: ellipse semi-axes must be > 0", path.string()));
}

Ellipse parse_ellipse_option(const std::vector<double>& v) {
  if (v.size() != 3 || !(v[0] > 0) || !(v[1] > 0) || !std::isfinite(v[2]))
    throw InvalidArgument("--ellipse: expected A,B,THETA_DEG with A, B > 0 (pixels; only A/B and the angle matter)");
  Ellipse e{v[0], v[1], v[2] * std::numbers::pi / 180};
  if (e.b_px > e.a_px) {  // keep a >= b: the other axis
    std::swap(e.a_px, e.b_px);
    e.theta_rad += half_pi;
  }
  return e;
}

void write_columns(const std::filesystem::path& path, const std::vector<std::string>& names,
                   const std::vector<std::vector<double>>& columns, const std::string& comment) {
  io::AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path());
    f << "# " << comment << "\n#";
    for (const auto& n : names) f << ' ' << n;
    f << '\n';
    const std::size_t rows = columns.empty() ? 0 : columns[0].size();
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t c = 0; c < columns.size(); ++c) f << (c ? "\t" : "") << fmt::format("{:.10g}", columns[c][i]);
      f << '\n';
    }
    if (!f) throw IoError(fmt::format("{}: cannot write", path.string()));
  }
  out.commit();
}

Array detector_mask(io::Source& source, const std::string& mask_file, const std::vector<double>& below,
                    const std::vector<double>& above) {
  const io::DatasetInfo& info = source.info();
  Array mask;
  if (!mask_file.empty()) {
    mask = io::read_mask(mask_file);
    if (mask.shape() != Shape{info.frame_y, info.frame_x})
      throw InvalidArgument(fmt::format("--mask {}: shape {} does not match the {}x{} frames", mask_file,
                                        shape_string(mask.shape()), info.frame_y, info.frame_x));
  }
  if (!below.empty() || !above.empty()) {
    Array frame(info.dtype, {info.frame_y, info.frame_x});
    source.read(0, 1, frame.bytes());
    Array t = io::threshold_mask(frame, below.empty() ? std::nullopt : std::optional(below[0]),
                                 above.empty() ? std::nullopt : std::optional(above[0]));
    if (mask.empty())
      mask = t;
    else
      io::merge_mask(mask, t);
  }
  return mask;
}

Calibration calibration_with_options(const io::DatasetInfo& info, const std::string& calibration_file,
                                     const std::string& origin) {
  Calibration cal = info.calibration;
  if (!calibration_file.empty()) apply_polar_calibration_file(calibration_file, cal);
  if (!origin.empty()) apply_origin_option(origin, cal);
  return cal;
}

void adopt_ellipse_fit(const stem::EllipseFitResult& fit, Calibration& cal) {
  cal.ellipse = fit.ellipse;
  cal.origin_qy_px = fit.center_qy_px;
  cal.origin_qx_px = fit.center_qx_px;
  cal.origin_qy_map = Array();
  cal.origin_qx_map = Array();
}

}  // namespace scandiff::cli
