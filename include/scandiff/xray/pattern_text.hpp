// Integrated patterns as text, in pyFAI's layout: '# ' comment lines describing the geometry and
// the corrections, then whitespace-separated columns formatted %14.6e.
//   1D (.xy / .dat): radial, I[, sigma]
//   2D (.dat, a "cake"): one row per radial bin: radial, I(χ_0), I(χ_1), ... (the layout of the
//   caking scripts built on pyFAI: numpy.hstack((radial[:, None], intensity.T))); the χ bin
//   centres (degrees) are listed in the header.
#pragma once

#include <filesystem>
#include <string>

#include "scandiff/xray/integrator.hpp"

namespace scandiff::xray {

struct PatternHeader {
  PoniGeometry poni;
  RadialUnit unit = RadialUnit::q_nm;
  std::string splitting = "bbox";
  bool mask = false, dark = false, flat = false;
  std::optional<double> polarization_factor;
  double normalization_factor = 1;
  std::string error_model = "none";
  std::string filter;  // e.g. "quantile 50%" for a median filter; empty for the mean
  std::string source;  // the integrated image file, written as "--> <source>"
};

// The full text of a 1D (npt_azim == 0) or 2D result.
std::string format_pattern(const IntegrationResult& result, const PatternHeader& header);
// Writes format_pattern() to `path` atomically.
void write_pattern(const std::filesystem::path& path, const IntegrationResult& result, const PatternHeader& header);

}  // namespace scandiff::xray
