// scandiff virtual FILE --detector SPEC [--detector SPEC ...] [--diffraction mean,max,median]
// --out DIR: virtual images for any number of detectors (evaluated in one sweep over each frame)
// and virtual diffraction patterns, in one pass over the data (a median too large for the memory
// budget takes extra passes), written to DIR/virtual.h5 (EMD 1.0) and DIR/<name>.png.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "array_file.hpp"
#include "commands.hpp"
#include "output_folder.hpp"
#include "detector_option.hpp"
#include "input_options.hpp"
#include "preparation_options.hpp"
#include "progress_bar.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/median_diffraction.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_images.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct VirtualOptions {
  InputOptions input;
  PreparationOptions prep;
  std::string out;
  std::vector<std::string> detectors;
  std::string units = "px";
  bool relative = false;
  std::string origin;
  bool shift_center = false, subpixel = false;
  std::vector<std::string> diffraction;
  std::string select, weights;
};

void run_virtual(const VirtualOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.subpixel && !o.shift_center) throw InvalidArgument("--subpixel: only with --shift-center");
  if (!o.select.empty() && !o.weights.empty()) throw InvalidArgument("--select and --weights: give one or the other");
  const PreparedInput prepared = prepare_input(with_origin_option(o.input.open(), o.origin), o.prep);
  io::Source& source = *prepared.source;
  const io::DatasetInfo& info = prepared.info;  // as the analyses see it, after --*-q stages
  const stem::DetectorUnits units = stem::parse_detector_units(o.units, "--units");
  const stem::CenterShift shift = !o.shift_center ? stem::CenterShift::none
                                  : o.subpixel     ? stem::CenterShift::subpixel
                                                   : stem::CenterShift::integer;

  std::set<std::string> names;
  std::vector<stem::NamedDetector> detectors;
  for (std::size_t i = 0; i < o.detectors.size(); ++i) {
    const std::string what = fmt::format("--detector '{}'", o.detectors[i]);
    const DetectorOption d = parse_detector_option(o.detectors[i], i, units, o.relative, what);
    if (!names.insert(d.name).second) throw InvalidArgument(fmt::format("{}: the name '{}' is used twice", what, d.name));
    detectors.push_back({d.name, stem::resolve_detector(d.geometry, info, what)});
  }
  bool mean = false, max = false, median = false;
  for (const std::string& m : o.diffraction) {
    if (m == "mean") mean = true;
    else if (m == "max") max = true;
    else if (m == "median") median = true;
    else throw InvalidArgument(fmt::format("--diffraction: '{}' is not one of mean, max, median", m));
  }
  for (const char* n : {"mean_diffraction", "max_diffraction", "median_diffraction"})
    if (names.count(n)) throw InvalidArgument(fmt::format("--detector: the name '{}' is reserved", n));
  if (detectors.empty() && !mean && !max && !median)
    throw InvalidArgument("nothing to compute: give at least one --detector or --diffraction");
  if ((!o.select.empty() || !o.weights.empty()) && !mean && !max && !median)
    throw InvalidArgument("--select and --weights choose the positions of --diffraction patterns; give --diffraction");

  stem::ScanWeights positions;
  if (!o.select.empty()) positions = stem::ScanWeights::selection(read_array_file(o.select, "--select"));
  if (!o.weights.empty()) positions = stem::ScanWeights::weights(read_array_file(o.weights, "--weights"));

  create_output_folder(o.out);

  engine::RunOptions run = global.run_options("virtual");
  run.stages = prepared.stage_list();
  const std::size_t budget = run.memory_budget > 0 ? run.memory_budget : engine::default_memory_budget();
  std::unique_ptr<stem::VirtualImages> images;
  std::unique_ptr<stem::VirtualDiffraction> diffraction;
  std::vector<std::unique_ptr<stem::MedianDiffraction>> median_tiles;
  Array median_out(DType::f64, {info.frame_y, info.frame_x});
  std::vector<engine::Analysis*> analyses;
  if (!detectors.empty()) {
    images = std::make_unique<stem::VirtualImages>(std::move(detectors), shift);
    analyses.push_back(images.get());
  }
  if (mean || max) {
    diffraction = std::make_unique<stem::VirtualDiffraction>(
        stem::VirtualDiffraction::Options{.mean = mean, .max = max, .positions = positions, .shift = shift});
    analyses.push_back(diffraction.get());
  }
  if (median) {
    // The first tile of the median rides along in the main pass; further tiles take a pass each.
    positions.check(info.scan_y, info.scan_x, "--diffraction median");
    const stem::MedianOptions mo{.positions = positions, .shift = shift, .threads = global.threads};
    for (const auto& [b, e] : stem::median_tiles(info, positions, budget / 2))
      median_tiles.push_back(std::make_unique<stem::MedianDiffraction>(mo, b, e, median_out));
    analyses.push_back(median_tiles[0].get());
  }
  const std::size_t passes = std::max<std::size_t>(1, median_tiles.size());
  {
    ProgressBar bar(passes > 1 ? fmt::format("virtual (pass 1/{})", passes) : "virtual", !global.quiet);
    run.progress = bar.callback();
    engine::run(source, analyses, run);
  }
  for (std::size_t k = 1; k < median_tiles.size(); ++k) {
    ProgressBar bar(fmt::format("median (pass {}/{})", k + 1, passes), !global.quiet);
    run.progress = bar.callback();
    engine::Analysis* list[] = {median_tiles[k].get()};
    engine::run(source, list, run);
  }

  std::vector<Result> results;
  if (images)
    for (auto& r : images->results()) results.push_back(std::move(r));
  if (diffraction)
    for (auto& r : diffraction->results()) results.push_back(std::move(r));
  if (median) {
    Result r = median_tiles.back()->results()[0];
    r.provenance["passes"] = passes;
    results.push_back(std::move(r));
  }
  const fs::path emd = fs::path(o.out) / "virtual.h5";
  write_results_emd(emd, "virtual", info.calibration, results);
  write_result_pngs(o.out, results);

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("virtual: {} frames of {}x{} {} in {:.2f} s ({} pass{})\n", info.frame_count(),
                           info.frame_y, info.frame_x, name_of(info.dtype), seconds, passes, passes > 1 ? "es" : "");
  std::cout << fmt::format("  {}  EMD 1.0, root 'virtual':", emd.string());
  for (const Result& r : results) std::cout << ' ' << r.name;
  std::cout << fmt::format("\n  {}/<name>.png\n", o.out);
}

}  // namespace

void register_virtual(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<VirtualOptions>();
  auto* cmd = app.add_subcommand(
      "virtual", "virtual images (any number of detectors, one sweep per frame) and virtual diffraction "
                 "(mean/max/median) in one pass; EMD file + PNGs");
  o->input.add_to(cmd);
  o->prep.add_to(cmd);
  cmd->add_option("--out", o->out, "folder for virtual.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--detector", o->detectors,
                  "a detector, repeatable: [NAME=]SHAPE:NUMBERS with point:qy,qx  circle:qy,qx,r  "
                  "annulus:qy,qx,r_in,r_out  rectangle:qy_min,qy_max,qx_min,qx_max (qy = row, qx = column), "
                  "or [NAME=]mask:FILE.png or mask:FILE.h5:ROOT/NODE (weights)")
      ->allow_extra_args(false);
  cmd->add_option("--units", o->units, "units of the detector numbers: px, A^-1 or mrad (must match the calibration)")
      ->capture_default_str();
  cmd->add_flag("--relative-to-origin", o->relative,
                "detector centres (rectangle bounds) are relative to the mean diffraction origin");
  cmd->add_option("--origin", o->origin,
                  "use this origin instead of the file's: QY,QX in pixels, or FILE.h5[:ROOT] with per-position "
                  "origin_qy/origin_qx maps (e.g. the _truth.h5 of scandiff simulate)");
  cmd->add_flag("--shift-center", o->shift_center,
                "follow the per-position origin: detectors move with it and diffraction patterns are moved "
                "onto the mean origin (integer roll, wrapping at the edges, as py4DSTEM)");
  cmd->add_flag("--subpixel", o->subpixel,
                "with --shift-center: bilinear detector shift and Fourier pattern shift (median: refused)");
  cmd->add_option("--diffraction", o->diffraction, "virtual diffraction patterns: any of mean,max,median")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--select", o->select,
                  "diffraction: only the scan positions where this (ry, rx) image is non-zero (PNG or FILE.h5:NODE)");
  cmd->add_option("--weights", o->weights,
                  "diffraction: weight each position by this (ry, rx) array (FILE.h5:NODE); mean = sum(w DP)/sum(w), "
                  "max and median of w DP");
  cmd->callback([o, &global] { run_virtual(*o, global); });
}

}  // namespace scandiff::cli
