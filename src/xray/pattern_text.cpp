// Text output of integrated patterns (pyFAI's save1D layout: JSON geometry block, Fit2D block,
// corrections, "--> source", column names, %14.6e columns).
#include "scandiff/xray/pattern_text.hpp"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/version.hpp"

namespace scandiff::xray {

namespace {

std::string yes_no(bool b) { return b ? "True" : "False"; }

}  // namespace

std::string format_pattern(const IntegrationResult& r, const PatternHeader& h) {
  const PoniGeometry& p = h.poni;
  const nlohmann::ordered_json geometry = {
      {"poni_version", 2.1},
      {"dist", p.distance_m},
      {"poni1", p.poni1_m},
      {"poni2", p.poni2_m},
      {"rot1", p.rot1_rad},
      {"rot2", p.rot2_rad},
      {"rot3", p.rot3_rad},
      {"detector", p.detector},
      {"detector_config", {{"pixel1", p.pixel1_m}, {"pixel2", p.pixel2_m}, {"orientation", p.orientation}}},
      {"wavelength", p.wavelength_m}};
  std::string s = fmt::format("# scandiff {}\n", scandiff::version);
  std::string json = geometry.dump(4);
  std::size_t start = 0;
  while (start < json.size()) {
    const std::size_t end = json.find('\n', start);
    s += "# " + json.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const Fit2dGeometry f = to_fit2d(p);
  s += "# == Fit2d calibration ==\n";
  s += fmt::format("# Distance Sample-beamCenter: {:.3f} mm\n", f.direct_distance_mm);
  s += fmt::format("# Center: x={:.3f}, y={:.3f} pix\n", f.center_x_px, f.center_y_px);
  s += fmt::format("# Tilt: {:.3f} deg  TiltPlanRot: {:.3f} deg\n", f.tilt_deg, f.tilt_plan_rotation_deg);
  s += fmt::format("# Mask applied: {}\n", yes_no(h.mask));
  s += fmt::format("# Dark current applied: {}\n", yes_no(h.dark));
  s += fmt::format("# Flat field applied: {}\n", yes_no(h.flat));
  s += h.polarization_factor ? fmt::format("# Polarization factor: {}\n", *h.polarization_factor)
                             : std::string("# Polarization factor: None\n");
  s += fmt::format("# Normalization factor: {}\n", h.normalization_factor);
  s += fmt::format("# Pixel splitting: {}\n", h.splitting);
  s += fmt::format("# Error model: {}\n", h.error_model);
  if (!h.filter.empty()) s += fmt::format("# Azimuthal filter: {}\n", h.filter);
  if (!h.source.empty()) s += fmt::format("# --> {}\n", h.source);

  const bool two_d = !r.azimuthal.empty();
  const std::size_t n_rad = r.radial.size();
  if (!two_d) {
    s += fmt::format("#{:>13s}  {:>14s}", unit_name(h.unit), "I");
    if (!r.sigma.empty()) s += fmt::format("  {:>14s}", "sigma");
    s += '\n';
    for (std::size_t k = 0; k < n_rad; ++k) {
      s += fmt::format("{:14.6e}  {:14.6e}", r.radial[k], r.intensity[k]);
      if (!r.sigma.empty()) s += fmt::format("  {:14.6e}", r.sigma[k]);
      s += '\n';
    }
    return s;
  }
  s += "# chi_deg (column centres):";
  for (double a : r.azimuthal) s += fmt::format(" {:.6g}", a);
  s += '\n';
  s += fmt::format("#{:>13s}  I(chi_0 .. chi_{})\n", unit_name(h.unit), r.azimuthal.size() - 1);
  for (std::size_t k = 0; k < n_rad; ++k) {
    s += fmt::format("{:14.6e}", r.radial[k]);
    for (std::size_t a = 0; a < r.azimuthal.size(); ++a) s += fmt::format("  {:14.6e}", r.intensity[a * n_rad + k]);
    s += '\n';
  }
  return s;
}

void write_pattern(const std::filesystem::path& path, const IntegrationResult& result, const PatternHeader& header) {
  const std::string text = format_pattern(result, header);
  io::AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << text;
    if (!f) throw IoError(fmt::format("{}: cannot write", path.string()));
  }
  out.commit();
}

}  // namespace scandiff::xray
