#include "detector_option.hpp"

#include <fmt/format.h>

#include "array_file.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::cli {

DetectorOption parse_detector_option(const std::string& text, std::size_t index, stem::DetectorUnits units,
                                     bool relative_to_origin, std::string_view what) {
  DetectorOption d;
  std::string spec = text;
  const auto eq = text.find('=');
  const auto colon = text.find(':');
  if (eq != std::string::npos && (colon == std::string::npos || eq < colon)) {
    d.name = text.substr(0, eq);
    spec = text.substr(eq + 1);
    if (d.name.empty() || d.name.find('/') != std::string::npos || d.name == "." || d.name == "..")
      throw InvalidArgument(fmt::format("{} '{}': the name before '=' must be a plain name", what, text));
  }
  if (spec.rfind("mask:", 0) == 0) {
    d.geometry.shape = stem::DetectorShape::mask;
    d.geometry.mask = read_array_file(spec.substr(5), what).astype(DType::f64);
  } else {
    d.geometry = stem::parse_detector_geometry(spec, what);
    d.geometry.units = units;
    d.geometry.relative_to_origin = relative_to_origin;
  }
  if (d.name.empty()) d.name = fmt::format("{}_{}", stem::name_of(d.geometry.shape), index);
  return d;
}

}  // namespace scandiff::cli
