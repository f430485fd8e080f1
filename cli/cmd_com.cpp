// scandiff com FILE --out DIR [--mask SPEC] [--relative-to-origin] [--dpc]: the centre of mass
// of every diffraction pattern (com_x along qx, com_y along qy, detector pixels) in one pass and,
// with --dpc, the scan rotation by curl minimisation and the integrated DPC (iDPC) phase;
// written to DIR/com.h5 (EMD 1.0) and DIR/<name>.png.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <numbers>

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
#include "scandiff/stem/center_of_mass.hpp"
#include "scandiff/stem/dpc.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

constexpr double deg = std::numbers::pi / 180;

struct ComOptions {
  InputOptions input;
  PreparationOptions prep;
  std::string out;
  std::string mask;
  std::string units = "px";
  bool relative = false;
  std::string origin;
  bool dpc = false;
  std::optional<double> rotation_deg;
  std::string flip = "auto";
  std::string background = "plane";
};

void run_com(const ComOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  auto source = with_origin_option(o.input.open(), o.origin);
  const PreparedInput prepared = prepare_input(std::move(source), o.prep);
  const io::DatasetInfo& info = prepared.info;  // as the analyses see it, after --*-q stages
  stem::CenterOfMass::Options options;
  options.relative_to_origin = o.relative;
  if (!o.mask.empty()) {
    const std::string what = fmt::format("--mask '{}'", o.mask);
    const auto units = stem::parse_detector_units(o.units, "--units");
    options.mask = stem::resolve_detector(parse_detector_option(o.mask, 0, units, o.relative, what).geometry, info, what);
  }
  std::optional<bool> flip;
  if (o.flip == "yes") flip = true;
  else if (o.flip == "no") flip = false;
  else if (o.flip != "auto") throw InvalidArgument(fmt::format("--flip '{}': expected auto, yes or no", o.flip));
  if (!o.dpc && (o.rotation_deg || flip)) throw InvalidArgument("--rotation-deg and --flip: only with --dpc");
  stem::DpcOptions dpc_options;
  dpc_options.background = stem::parse_com_background(o.background, "--background");
  if (o.rotation_deg) dpc_options.rotation_rad = *o.rotation_deg * deg;
  dpc_options.flip = flip;

  create_output_folder(o.out);

  stem::CenterOfMass com(options);
  {
    ProgressBar bar("com", !global.quiet);
    engine::RunOptions run = global.run_options("com");
    run.stages = prepared.stage_list();
    run.progress = bar.callback();
    engine::Analysis* list[] = {&com};
    engine::run(*prepared.source, list, run);
  }
  std::vector<Result> results = com.results();
  std::vector<std::pair<std::string, Metadata>> metadata;
  std::optional<stem::DpcResult> dpc;
  if (o.dpc) {
    dpc = stem::dpc(com.com_x(), com.com_y(), info.calibration, dpc_options);
    for (auto& r : dpc->results(info)) results.push_back(std::move(r));
    Metadata md{{"rotation_deg", dpc->rotation.rotation_rad / deg},
                {"flip", dpc->rotation.flip},
                {"rotation_searched", dpc->rotation_searched},
                {"mean_abs_curl", dpc->curl},
                {"rotation_deg_py4dstem", -dpc->rotation.rotation_rad / deg},
                {"background", o.background}};
    if (dpc->rotation_searched) {
      md["search_angles_deg"] = dpc->search.angles_deg;
      if (!dpc->search.curl_unflipped.empty()) md["search_curl_unflipped"] = dpc->search.curl_unflipped;
      if (!dpc->search.curl_flipped.empty()) md["search_curl_flipped"] = dpc->search.curl_flipped;
    }
    metadata.emplace_back("dpc", md);
  }
  const fs::path emd = fs::path(o.out) / "com.h5";
  write_results_emd(emd, "com", info.calibration, results, metadata);
  write_result_pngs(o.out, results, "viridis");

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("com: {} frames of {}x{} {} in {:.2f} s\n", info.frame_count(), info.frame_y, info.frame_x,
                           name_of(info.dtype), seconds);
  if (dpc)
    std::cout << fmt::format("  scan rotation {:.3f} deg{}, flip {}, mean |curl| {:.4g}; iDPC phase in {}\n",
                             dpc->rotation.rotation_rad / deg, dpc->rotation_searched ? " (curl minimum)" : " (given)",
                             dpc->rotation.flip ? "yes" : "no", dpc->curl, dpc->phase_units);
  std::cout << fmt::format("  {}  EMD 1.0, root 'com':", emd.string());
  for (const Result& r : results) std::cout << ' ' << r.name;
  std::cout << fmt::format("\n  {}/<name>.png\n", o.out);
}

}  // namespace

void register_com(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<ComOptions>();
  auto* cmd = app.add_subcommand("com", "centre of mass of every diffraction pattern (com_x along qx, com_y along qy, "
                                        "pixels); with --dpc the scan rotation and the iDPC phase");
  o->input.add_to(cmd);
  o->prep.add_to(cmd);
  cmd->add_option("--out", o->out, "folder for com.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--mask", o->mask,
                  "only pixels inside this detector, used as weights: circle:qy,qx,r, annulus:..., rectangle:..., "
                  "mask:FILE.png or mask:FILE.h5:NODE (see scandiff virtual --help)");
  cmd->add_option("--units", o->units, "units of the --mask numbers: px, A^-1 or mrad")->capture_default_str();
  cmd->add_flag("--relative-to-origin", o->relative,
                "report the CoM relative to the diffraction origin at each position (and give --mask centres "
                "relative to the mean origin)");
  cmd->add_option("--origin", o->origin,
                  "use this origin instead of the file's: QY,QX in pixels, or FILE.h5[:ROOT] with origin_qy/origin_qx "
                  "maps");
  cmd->add_flag("--dpc", o->dpc, "also find the scan rotation (curl minimisation) and integrate the iDPC phase");
  cmd->add_option("--rotation-deg", o->rotation_deg,
                  "with --dpc: use this rotation (degrees, from +qx toward +qy; py4DSTEM's angle is the negative) "
                  "instead of searching");
  cmd->add_option("--flip", o->flip, "with --dpc: swap the CoM components before rotating: auto (search), yes, no")
      ->capture_default_str();
  cmd->add_option("--background", o->background,
                  "with --dpc: remove from the CoM maps a fitted plane (descan), their mean, or none")
      ->capture_default_str();
  cmd->callback([o, &global] { run_com(*o, global); });
}

}  // namespace scandiff::cli
