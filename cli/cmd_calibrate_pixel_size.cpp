// scandiff calibrate pixel-size FILE --calibrant Au.D --out DIR: the reciprocal pixel size
// (Å⁻¹ per pixel, q = 1/d) from the rings of a calibrant in the ellipse-corrected azimuthal mean
// profile of the mean pattern (stem/pixel_size.hpp). With --annulus the ellipse is fitted first
// (as `calibrate ellipse`); otherwise it comes from --calibration / --ellipse (or none).
// Writes DIR/pixel_size.json (read by `polar --calibration`), DIR/profile.txt and DIR/rings.txt.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "diffraction_pass.hpp"
#include "input_options.hpp"
#include "polar_calibration.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/calibrant.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/stem/ellipse_fit.hpp"
#include "scandiff/stem/pixel_size.hpp"
#include "scandiff/stem/polar_statistics.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct PixelSizeArgs {
  InputOptions input;
  std::string out, calibrant, calibration, origin, mask;
  std::vector<double> annulus, ellipse, mask_below, mask_above;
  std::optional<double> guess;
  double tolerance = 0.015, r_min = 5, min_height = 0.05;
};

void calibrate_pixel_size(const PixelSizeArgs& a, const GlobalOptions& global) {
  const io::Calibrant calibrant = io::read_calibrant(a.calibrant);
  create_output_folder(a.out);
  auto source = a.input.open();
  const io::DatasetInfo& info = source->info();
  Calibration cal = calibration_with_options(info, a.calibration, a.origin);
  if (!a.ellipse.empty()) cal.ellipse = parse_ellipse_option(a.ellipse);
  if (!cal.origin_qy_px || !cal.origin_qx_px) {
    cal.origin_qy_px = (static_cast<double>(info.frame_y) - 1) / 2;
    cal.origin_qx_px = (static_cast<double>(info.frame_x) - 1) / 2;
  }
  const Array mask = detector_mask(*source, a.mask, a.mask_below, a.mask_above);
  stem::VirtualDiffraction vd = diffraction_pass(*source, global, "pixel size");
  const Array mean = vd.mean();

  Metadata ellipse_fit;
  if (a.annulus.size() == 2) {
    stem::EllipseFitOptions eo;
    eo.r_inner_px = a.annulus[0];
    eo.r_outer_px = a.annulus[1];
    eo.center_qy_px = *cal.origin_qy_px;
    eo.center_qx_px = *cal.origin_qx_px;
    const auto fit = stem::fit_ellipse_ring(mean, eo, mask.empty() ? nullptr : &mask);
    adopt_ellipse_fit(fit, cal);
    ellipse_fit = {{"annulus_px", a.annulus}, {"pixels", fit.pixels}, {"rms_radial_px", fit.rms_radial_px}};
  }
  cal.origin_qy_map = Array();  // the mean pattern has one origin
  cal.origin_qx_map = Array();

  // The ellipse-corrected azimuthal mean profile of the mean pattern (1-pixel radial bins).
  Calibration pixels = cal;
  pixels.detector_pixel_size = 1;
  pixels.detector_units = "pixels";
  io::MemorySource one(Array::borrow(mean.bytes(), mean.dtype(), {1, 1, info.frame_y, info.frame_x}), pixels);
  stem::PolarStatistics::Options po;
  po.mask = mask;
  stem::PolarStatistics ps(po);
  engine::Analysis* list[] = {&ps};
  engine::run(one, list, global.run_options("profile"));
  const auto peaks = stem::find_ring_peaks(ps.radial_mean(), ps.qmin_px(), ps.qstep_px(),
                                           {.r_min_px = a.r_min, .min_relative_height = a.min_height});
  std::vector<double> d;
  for (const auto& r : calibrant.rings) d.push_back(r.d_A);
  stem::PixelSizeOptions so;
  so.tolerance = a.tolerance;
  so.guess_inv_A_per_px = a.guess;
  const stem::PixelSizeResult fit = stem::fit_pixel_size(peaks, d, so);
  cal.detector_pixel_size = fit.inv_A_per_px;
  cal.detector_units = "A^-1";

  Metadata matches = Metadata::array();
  std::vector<double> ring, d_col, r_col, pred_col;
  for (const auto& m : fit.matches) {
    matches.push_back({{"ring", m.ring}, {"d_A", m.d_A}, {"radius_px", m.radius_px}, {"predicted_px", m.predicted_px}});
    ring.push_back(static_cast<double>(m.ring));
    d_col.push_back(m.d_A);
    r_col.push_back(m.radius_px);
    pred_col.push_back(m.predicted_px);
  }
  const Metadata summary{{"input", info.path},
                         {"calibrant", calibrant.name},
                         {"calibrant_file", a.calibrant},
                         {"convention", "q = 1/d (no 2 pi), small angle"},
                         {"peaks_found", peaks.size()},
                         {"matches", matches},
                         {"rms_relative", fit.rms_relative},
                         {"ellipse_fit", ellipse_fit},
                         {"scandiff_version", scandiff::version}};
  const fs::path dir(a.out);
  write_json_file(dir / "pixel_size.json", polar_calibration_json(cal, {{"fit", summary}}));
  std::vector<double> r(static_cast<std::size_t>(ps.n_q())), q(r.size());
  for (std::size_t j = 0; j < r.size(); ++j) {
    r[j] = ps.qmin_px() + static_cast<double>(j) * ps.qstep_px();
    q[j] = r[j] * fit.inv_A_per_px;
  }
  write_columns(dir / "profile.txt", {"r_px", "q_inv_A", "azimuthal_mean"}, {r, q, ps.radial_mean()},
                fmt::format("ellipse-corrected azimuthal mean of the mean pattern of {}", info.path));
  write_columns(dir / "rings.txt", {"ring_index", "d_A", "radius_px", "predicted_px"}, {ring, d_col, r_col, pred_col},
                fmt::format("{} rings matched to peaks; reciprocal pixel size {:.8g} A^-1/px", calibrant.name,
                            fit.inv_A_per_px));
  if (global.quiet) return;
  std::cout << fmt::format("pixel size: {:.8g} A^-1 per pixel from {} {} rings (rms {:.2e} relative)\n  wrote {}\n",
                           fit.inv_A_per_px, fit.matches.size(), calibrant.name, fit.rms_relative,
                           (dir / "pixel_size.json").string());
}

}  // namespace

void register_calibrate_pixel_size(CLI::App& calibrate, const GlobalOptions& global) {
  auto a = std::make_shared<PixelSizeArgs>();
  auto* cmd = calibrate.add_subcommand(
      "pixel-size", "reciprocal pixel size (A^-1/px, q = 1/d) from the rings of a calibrant (.D d-spacing file)");
  a->input.add_to(cmd);
  cmd->add_option("--out", a->out, "folder for pixel_size.json, profile.txt and rings.txt (created if missing)")
      ->required();
  cmd->add_option("--calibrant", a->calibrant, "d-spacing list (pyFAI/Dioptas .D file, e.g. Au.D)")->required();
  cmd->add_option("--calibration", a->calibration, "JSON with the ellipse and origin (from `calibrate ellipse`)");
  cmd->add_option("--annulus", a->annulus, "RI,RO: fit the ellipse to the ring between these radii first")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--ellipse", a->ellipse, "ellipse A,B,THETA_DEG (pixels, degrees from +qx toward +qy)")
      ->delimiter(',')
      ->expected(3);
  cmd->add_option("--origin", a->origin, "origin QY,QX or FILE.h5[:ROOT] (default the calibration's, else the centre)");
  cmd->add_option("--guess", a->guess, "expected pixel size (A^-1/px): only scales within 20% are tried");
  cmd->add_option("--tolerance", a->tolerance, "relative radius mismatch for a ring match")->capture_default_str();
  cmd->add_option("--r-min", a->r_min, "ignore peaks inside this radius (pixels; the central beam)")->capture_default_str();
  cmd->add_option("--min-height", a->min_height, "peaks lower than this fraction of the highest are ignored")
      ->capture_default_str();
  cmd->add_option("--mask", a->mask, "detector mask image (TIFF/EDF/CBF; non-zero = excluded pixel)");
  cmd->add_option("--mask-below", a->mask_below, "also exclude pixels below this value in the first frame")->expected(1);
  cmd->add_option("--mask-above", a->mask_above, "also exclude pixels above this value in the first frame")->expected(1);
  cmd->callback([a, &global] { calibrate_pixel_size(*a, global); });
}

}  // namespace scandiff::cli
