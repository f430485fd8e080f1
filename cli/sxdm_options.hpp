// Options the `scandiff sxdm` subcommands share: the 2-D hot-pixel stage (--hot-pixels D,HEIGHT,
// --hot-pixels-low) and the run of the analyses with progress bar and memory budget.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "preparation_options.hpp"
#include "scandiff/sxdm/hot_pixel_filter.hpp"

namespace scandiff::cli {

struct SxdmHotPixelOptions {
  std::string spec;      // "D,HEIGHT", empty = no stage
  bool with_low = false;

  void add_to(CLI::App* cmd);
  // The stage, or nullptr without --hot-pixels. Throws InvalidArgument naming the option.
  std::unique_ptr<sxdm::SelectiveMedianFrames> make() const;
};

// Runs `analyses` over the prepared input, with `first_stage` (may be null) before the --*-q stages.
void run_sxdm_pass(const PreparedInput& input, engine::FrameStage* first_stage,
                   const std::vector<engine::Analysis*>& analyses, const GlobalOptions& global,
                   const std::string& label);

}  // namespace scandiff::cli
