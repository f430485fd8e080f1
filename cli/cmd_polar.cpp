// scandiff polar FILE --out DIR: the polar (elliptical) transform of every pattern about its
// origin, reduced in the same pass to the azimuthal mean and variance profiles per scan position
// and the fluctuation electron microscopy (FEM) statistics over positions (stem/polar_statistics.hpp):
// DIR/polar.h5 (EMD 1.0), DIR/fem.txt, DIR/azimuthal_mean.png and DIR/azimuthal_var.png.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "scandiff/io/calibrated_source.hpp"
#include "commands.hpp"
#include "output_folder.hpp"
#include "diffraction_pass.hpp"
#include "input_options.hpp"
#include "polar_calibration.hpp"
#include "polar_options.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/stem/polar_statistics.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct PolarArgs {
  InputOptions input;
  std::string out;
  std::string origin, calibration;
  std::vector<double> ellipse;
  bool no_ellipse = false;
  stem::PolarOptions polar;
  std::string mask;
  std::vector<double> mask_below, mask_above;
};

// The (positions, q) image of a (ry, rx, q) result, log-stretched.
void write_profiles_png(const fs::path& path, const Array& profiles) {
  const Array flat = Array::borrow(profiles.bytes(), profiles.dtype(),
                                   {profiles.shape(0) * profiles.shape(1), profiles.shape(2)});
  io::PngOptions o;
  o.colormap = "inferno";
  o.range.stretch = io::DisplayRange::Stretch::log;
  io::write_png(path, flat, o);
}

void run_polar(const PolarArgs& a, const GlobalOptions& global) {
  create_output_folder(a.out);
  auto source = a.input.open();
  Calibration cal = calibration_with_options(source->info(), a.calibration, a.origin);
  io::CalibratedSource calibrated(std::move(source), cal);

  stem::PolarStatistics::Options o;
  o.polar = a.polar;
  o.use_ellipse = !a.no_ellipse;
  if (!a.ellipse.empty()) {
    if (a.no_ellipse) throw InvalidArgument("--ellipse and --no-ellipse contradict each other");
    o.ellipse = parse_ellipse_option(a.ellipse);
  }
  o.mask = detector_mask(calibrated, a.mask, a.mask_below, a.mask_above);
  stem::PolarStatistics ps(o);
  engine::Analysis* list[] = {&ps};
  run_pass(calibrated, list, {}, global, "polar");

  const std::vector<Result> results = ps.results();
  const fs::path dir(a.out);
  write_results_emd(dir / "polar.h5", "polar_root", cal, results, {{"polar", results[0].provenance}});
  std::vector<double> q(static_cast<std::size_t>(ps.n_q()));
  const Axis& qa = results[2].axes[0];
  for (std::size_t j = 0; j < q.size(); ++j) q[j] = qa.origin + static_cast<double>(j) * qa.step;
  write_columns(dir / "fem.txt", {fmt::format("q_{}", qa.units), "radial_mean", "radial_var", "radial_var_norm",
                                  "local_var_norm"},
                {q, ps.radial_mean(), ps.radial_var(), ps.radial_var_norm(), ps.local_var_norm()},
                fmt::format("scandiff polar {}: FEM statistics over {} positions (see docs/polar.md)",
                            calibrated.info().path, calibrated.info().frame_count()));
  write_profiles_png(dir / "azimuthal_mean.png", ps.azimuthal_mean());
  write_profiles_png(dir / "azimuthal_var.png", ps.azimuthal_var());
  if (global.quiet) return;
  const Metadata& prov = results[0].provenance;
  std::cout << fmt::format("polar: {} positions x {} radial bins (step {} {}), origin {}, ellipse {}\n  wrote {}\n",
                           calibrated.info().frame_count(), ps.n_q(), qa.step, qa.units,
                           prov.at("origin").get<std::string>(), prov.contains("ellipse") ? prov["ellipse"].dump() : "none",
                           (dir / "polar.h5").string());
}

}  // namespace

void register_polar(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<PolarArgs>();
  auto* cmd = app.add_subcommand(
      "polar", "polar (elliptical) transform of every pattern: azimuthal mean and variance profiles per position "
               "and fluctuation electron microscopy (FEM) statistics");
  a->input.add_to(cmd);
  cmd->add_option("--out", a->out, "folder for polar.h5, fem.txt and the PNGs (created if missing)")->required();
  cmd->add_option("--origin", a->origin,
                  "use this origin instead of the file's: QY,QX in pixels, or FILE.h5[:ROOT] with origin_qy/origin_qx "
                  "maps (per position); default the file's, else the frame centre");
  cmd->add_option("--calibration", a->calibration,
                  "JSON from `calibrate ellipse` / `calibrate pixel-size` (or an epsic Au calibration JSON): ellipse, "
                  "origin and reciprocal pixel size");
  cmd->add_option("--ellipse", a->ellipse, "ellipse A,B,THETA_DEG (semi-axes in pixels, a-axis angle from +qx toward +qy)")
      ->delimiter(',')
      ->expected(3);
  cmd->add_flag("--no-ellipse", a->no_ellipse, "circular transform even when the calibration has an ellipse");
  add_polar_options(cmd, a->polar, "Polar bins");
  cmd->add_option("--mask", a->mask, "detector mask image (TIFF/EDF/CBF; non-zero = excluded pixel)");
  cmd->add_option("--mask-below", a->mask_below, "also exclude pixels below this value in the first frame (e.g. -0.5 "
                                                 "for Pilatus gaps)")
      ->expected(1);
  cmd->add_option("--mask-above", a->mask_above, "also exclude pixels above this value in the first frame")->expected(1);
  cmd->callback([a, &global] { run_polar(*a, global); });
}

}  // namespace scandiff::cli
