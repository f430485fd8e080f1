// scandiff sxdm roi FILE --box x0,y0,x1,y1 [--box ...] --out DIR: the summed intensity in each
// detector box at every scan position, all boxes in one pass (sxdm/roi_maps.hpp); written to
// DIR/sxdm_roi.h5 (EMD 1.0) and DIR/roi_<k>.png.
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
#include "scandiff/sxdm/roi_maps.hpp"
#include "sxdm_options.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct RoiCliOptions {
  InputOptions input;
  PreparationOptions prep;
  SxdmHotPixelOptions hot;
  std::string out;
  std::vector<std::string> boxes;
};

void run_roi(const RoiCliOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<sxdm::DetectorBox> boxes;
  for (const std::string& b : o.boxes) boxes.push_back(sxdm::parse_detector_box(b, "--box"));
  const auto hot = o.hot.make();
  const PreparedInput prepared = prepare_input(o.input.open(), o.prep);
  const io::DatasetInfo& info = prepared.info;

  create_output_folder(o.out);

  sxdm::RoiMaps roi(boxes);
  run_sxdm_pass(prepared, hot.get(), {&roi}, global, "sxdm roi");
  std::vector<Result> results = roi.results();
  Metadata md{{"hot_pixels", hot ? hot->parameters() : Metadata("none")}};
  const fs::path emd = fs::path(o.out) / "sxdm_roi.h5";
  write_results_emd(emd, "sxdm_roi", info.calibration, results, {{"sxdm_roi", md}});
  write_result_pngs(o.out, results, "viridis");

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("sxdm roi: {} boxes over {} frames of {}x{} {} in {:.2f} s\n", boxes.size(),
                           info.frame_count(), info.frame_y, info.frame_x, name_of(info.dtype), seconds);
  for (std::size_t k = 0; k < boxes.size(); ++k)
    std::cout << fmt::format("  roi_{}: columns {}..{}, rows {}..{}\n", k, boxes[k].x0, boxes[k].x1 - 1, boxes[k].y0,
                             boxes[k].y1 - 1);
  std::cout << fmt::format("  {}  EMD 1.0, root 'sxdm_roi'; {}/roi_<k>.png\n", emd.string(), o.out);
}

}  // namespace

void register_sxdm_roi(CLI::App& sxdm, const GlobalOptions& global) {
  auto o = std::make_shared<RoiCliOptions>();
  auto* cmd = sxdm.add_subcommand("roi", "summed intensity in detector boxes at every scan position (one map per box)");
  o->input.add_to(cmd);
  o->prep.add_to(cmd);
  o->hot.add_to(cmd);
  cmd->add_option("--out", o->out, "folder for sxdm_roi.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--box", o->boxes,
                  "detector box x0,y0,x1,y1 (columns x0..x1-1, rows y0..y1-1); repeat for more boxes, named roi_0, "
                  "roi_1, ... in order")
      ->required()
      ->allow_extra_args(false);  // one box per --box, so FILE may follow
  cmd->callback([o, &global] { run_roi(*o, global); });
}

}  // namespace scandiff::cli
