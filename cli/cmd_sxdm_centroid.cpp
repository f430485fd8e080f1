// scandiff sxdm centroid FILE --out DIR: per scan position, the 2θ (detector column) and χ
// (detector row) centroids of the pattern inside a detector box, with sxdm's profile filter and
// segmentation rule (sxdm/centroid_maps.hpp), and the box sum; written to DIR/sxdm_centroid.h5
// (EMD 1.0) and DIR/<name>.png.
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "input_options.hpp"
#include "preparation_options.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/sxdm/centroid_maps.hpp"
#include "scandiff/xray/poni.hpp"
#include "sxdm_options.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct CentroidCliOptions {
  InputOptions input;
  PreparationOptions prep;
  SxdmHotPixelOptions hot;
  std::string out;
  std::string roi;
  std::optional<double> threshold;
  std::string filter = "none";
  std::int64_t filter_distance = 9;
  double filter_height = 100;
  bool filter_high_only = false;
  std::string segment = "sxdm";
  double stdev_min = 35;
  double profile_threshold = 0;
  std::string poni;
};

void run_centroid(const CentroidCliOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  sxdm::CentroidOptions options;
  if (!o.roi.empty()) options.roi = sxdm::parse_detector_box(o.roi, "--roi");
  options.pixel_threshold = o.threshold;
  options.filter.kind = sxdm::parse_profile_filter(o.filter, "--filter");
  options.filter.distance = o.filter_distance;
  options.filter.height = o.filter_height;
  options.filter.with_low = !o.filter_high_only;
  options.filter.validate("--filter");
  options.segmentation = sxdm::parse_segmentation(o.segment, "--segment");
  options.stdev_min = o.stdev_min;
  options.profile_threshold = o.profile_threshold;
  const bool q_stages = !o.prep.crop_q.empty() || o.prep.bin_q != 1 || o.prep.resample_q != 0 || !o.prep.pad_q.empty();
  if (!o.poni.empty()) {
    if (q_stages)
      throw InvalidArgument("--poni: the geometry describes the detector as recorded; it cannot be combined with "
                            "--crop-q, --bin-q, --resample-q or --pad-q");
    options.geometry = xray::read_poni(o.poni);
  }
  const auto hot = o.hot.make();
  const PreparedInput prepared = prepare_input(o.input.open(), o.prep);
  const io::DatasetInfo& info = prepared.info;

  create_output_folder(o.out);

  sxdm::CentroidMaps maps(options);
  run_sxdm_pass(prepared, hot.get(), {&maps}, global, "sxdm centroid");
  std::vector<Result> results = maps.results();
  Metadata md{{"hot_pixels", hot ? hot->parameters() : Metadata("none")}};
  const fs::path emd = fs::path(o.out) / "sxdm_centroid.h5";
  write_results_emd(emd, "sxdm_centroid", info.calibration, results, {{"sxdm_centroid", md}});
  write_result_pngs(o.out, results, "viridis");

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const sxdm::DetectorBox& b = maps.box();
  std::int64_t valid = 0;
  for (std::int64_t i = 0; i < maps.centroid_x().size(); ++i)
    valid += !std::isnan(maps.centroid_x().data<double>()[i]) && !std::isnan(maps.centroid_y().data<double>()[i]);
  std::cout << fmt::format("sxdm centroid: {} frames of {}x{} {} in {:.2f} s; box columns {}..{}, rows {}..{}; "
                           "{} of {} positions with a centroid\n",
                           info.frame_count(), info.frame_y, info.frame_x, name_of(info.dtype), seconds, b.x0, b.x1 - 1,
                           b.y0, b.y1 - 1, valid, info.frame_count());
  std::cout << fmt::format("  {}  EMD 1.0, root 'sxdm_centroid':", emd.string());
  for (const Result& r : results) std::cout << ' ' << r.name;
  std::cout << fmt::format("\n  {}/<name>.png\n", o.out);
}

}  // namespace

void register_sxdm_centroid(CLI::App& sxdm, const GlobalOptions& global) {
  auto o = std::make_shared<CentroidCliOptions>();
  auto* cmd = sxdm.add_subcommand(
      "centroid", "2theta (detector column) and chi (detector row) centroid maps and the box sum, sxdm's method");
  o->input.add_to(cmd);
  o->prep.add_to(cmd);
  o->hot.add_to(cmd);
  cmd->add_option("--out", o->out, "folder for sxdm_centroid.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--roi", o->roi, "detector box x0,y0,x1,y1: columns x0..x1-1, rows y0..y1-1 (default: whole frame)");
  cmd->add_option("--threshold", o->threshold, "pixels below this many counts count as 0");
  cmd->add_option("--filter", o->filter,
                  "hot-pixel filter of the 2theta and chi profiles: none, selective (sxdm's selective median) or "
                  "median (scipy.signal.medfilt)")
      ->capture_default_str();
  cmd->add_option("--filter-distance", o->filter_distance,
                  "selective: half window d (window j-d..j+d); median: kernel size (odd)")
      ->capture_default_str();
  cmd->add_option("--filter-height", o->filter_height, "selective: counts above the window median that are replaced")
      ->capture_default_str();
  cmd->add_flag("--filter-high-only", o->filter_high_only,
                "selective: replace only values above the median (sxdm's centroid maps also replace those below)");
  cmd->add_option("--segment", o->segment,
                  "signal segmentation of each profile: sxdm (std < --stdev-min: no signal, else zero values <= mean), "
                  "threshold (zero values <= --profile-threshold) or none")
      ->capture_default_str();
  cmd->add_option("--stdev-min", o->stdev_min, "sxdm segmentation: profiles with a smaller std have no signal (NaN)")
      ->capture_default_str();
  cmd->add_option("--profile-threshold", o->profile_threshold, "threshold segmentation: profile values <= it are zeroed")
      ->capture_default_str();
  cmd->add_option("--poni", o->poni,
                  "pyFAI .poni geometry of the detector: also write two_theta and chi maps (degrees) of the detector "
                  "point at the centroid");
  cmd->callback([o, &global] { run_centroid(*o, global); });
}

}  // namespace scandiff::cli
