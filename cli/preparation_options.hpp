// Options shared by the subcommands that analyse a scan: crop, thin and bin in R (scan positions)
// and crop, bin, resample and pad in Q (detector pixels), applied on the fly during the pass.
// R operations wrap the Source (io::ScanSubset, io::ScanBin); Q operations are engine preparation
// stages, so the analyses, their results and the calibration are in the prepared pixels.
// Order: crop R, thin R, bin R; then (after any stage the command adds first, e.g. hot-pixel
// repair) crop Q, bin Q, resample Q, pad Q.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "scandiff/engine/frame_stage.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::cli {

struct PreparationOptions {
  std::vector<std::int64_t> crop_r;  // --crop-r ry0,ry1,rx0,rx1 (end-exclusive)
  std::int64_t thin_r = 1;           // --thin-r N: every N-th position on both axes
  std::int64_t bin_r = 1;            // --bin-r K: sum K×K positions
  std::vector<std::int64_t> crop_q;  // --crop-q qy0,qy1,qx0,qx1 (end-exclusive)
  std::int64_t bin_q = 1;            // --bin-q K: sum K×K pixels
  double resample_q = 0;             // --resample-q F: bilinear, output N·F pixels (0 = off)
  std::vector<std::int64_t> pad_q;   // --pad-q top,bottom,left,right (zeros)

  void add_to(CLI::App* cmd);
};

// A source with its preparation: the (possibly wrapped) source, the stages to pass to
// engine::run, and the dataset as the analyses will see it after the stages.
struct PreparedInput {
  std::shared_ptr<io::Source> source;
  std::vector<std::unique_ptr<engine::FrameStage>> stages;
  io::DatasetInfo info;

  std::vector<engine::FrameStage*> stage_list() const;
};

// Applies the R options to `source` and builds the Q stages. A command that needs a stage of its
// own first (e.g. a pixel repair) puts it before stage_list(). Throws InvalidArgument naming the
// option on bad values.
PreparedInput prepare_input(std::unique_ptr<io::Source> source, const PreparationOptions& options);

}  // namespace scandiff::cli
