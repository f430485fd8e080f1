#include "array_file.hpp"

#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/calibrated_source.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/png.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

// "FILE:NODE" when FILE exists and NODE is not empty, else the whole spec as a file.
std::pair<std::string, std::string> split_node(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && colon > 0 && colon + 1 < spec.size() && fs::exists(spec.substr(0, colon)))
    return {spec.substr(0, colon), spec.substr(colon + 1)};
  return {spec, ""};
}

bool parse_double(std::string_view s, double& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Array read_array_file(const std::string& spec, std::string_view what) {
  const auto [file, node] = split_node(spec);
  if (!fs::exists(file)) throw IoError(fmt::format("{}: {} does not exist", what, file));
  Array a;
  if (io::is_hdf5_file(file)) {
    if (node.empty())
      throw InvalidArgument(fmt::format("{}: name the array inside {}, as {}:ROOT/NODE", what, file, file));
    a = io::read_emd_array(file, node).data;
  } else {
    if (!node.empty()) throw InvalidArgument(fmt::format("{}: {} is not an HDF5 file, so it has no node '{}'", what, file, node));
    a = io::read_png(file);
  }
  if (a.rank() != 2)
    throw InvalidArgument(fmt::format("{}: {} holds an array of shape {}, expected a 2D array (a grayscale image)", what,
                                      spec, shape_string(a.shape())));
  return a;
}

void apply_origin_option(const std::string& text, Calibration& cal) {
  const auto comma = text.find(',');
  double qy = 0, qx = 0;
  if (comma != std::string::npos && parse_double(std::string_view(text).substr(0, comma), qy) &&
      parse_double(std::string_view(text).substr(comma + 1), qx)) {
    cal.origin_qy_px = qy;
    cal.origin_qx_px = qx;
    cal.origin_qy_map = Array();
    cal.origin_qx_map = Array();
    return;
  }
  const auto [file, root] = split_node(text);
  if (!fs::exists(file))
    throw InvalidArgument(fmt::format("--origin {}: expected QY,QX in pixels or an existing EMD file", text));
  std::string qy_node, qx_node;
  for (const auto& n : io::list_emd_nodes(file)) {
    const std::string prefix = root.empty() ? "" : "/" + root + "/";
    if (!prefix.empty() && n.path.rfind(prefix, 0) != 0) continue;
    const auto slash = n.path.rfind('/');
    const std::string name = n.path.substr(slash + 1);
    const std::string parent = n.path.substr(0, slash);
    if (name == "origin_qy" && qy_node.empty()) qy_node = n.path;
    if (name == "origin_qx" && qx_node.empty() && (qy_node.empty() || qy_node.substr(0, qy_node.rfind('/')) == parent))
      qx_node = n.path;
  }
  if (qy_node.empty() || qx_node.empty())
    throw InvalidArgument(fmt::format("--origin {}: expected QY,QX in pixels, or an EMD file with arrays named "
                                      "origin_qy and origin_qx (e.g. the _truth.h5 of scandiff simulate)",
                                      text));
  cal.origin_qy_map = io::read_emd_array(file, qy_node).data.astype(DType::f64);
  cal.origin_qx_map = io::read_emd_array(file, qx_node).data.astype(DType::f64);
  if (cal.origin_qy_map.rank() != 2 || cal.origin_qy_map.shape() != cal.origin_qx_map.shape())
    throw InvalidArgument(fmt::format("--origin {}: origin_qy and origin_qx must be 2D maps of one shape", text));
  double sy = 0, sx = 0;
  const double* py = cal.origin_qy_map.data<double>();
  const double* px = cal.origin_qx_map.data<double>();
  for (std::int64_t k = 0; k < cal.origin_qy_map.size(); ++k) {
    sy += py[k];
    sx += px[k];
  }
  cal.origin_qy_px = sy / static_cast<double>(cal.origin_qy_map.size());
  cal.origin_qx_px = sx / static_cast<double>(cal.origin_qx_map.size());
}

std::unique_ptr<io::Source> with_origin_option(std::unique_ptr<io::Source> source, const std::string& origin) {
  if (origin.empty()) return source;
  Calibration cal = source->info().calibration;
  apply_origin_option(origin, cal);
  return std::make_unique<io::CalibratedSource>(std::move(source), cal);
}

}  // namespace scandiff::cli
