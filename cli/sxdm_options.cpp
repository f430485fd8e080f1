#include "sxdm_options.hpp"

#include <charconv>

#include <fmt/format.h>

#include "progress_bar.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::cli {

void SxdmHotPixelOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--hot-pixels", spec,
                  "repair hot pixels of every frame before the analysis: D,HEIGHT replaces a pixel more than HEIGHT "
                  "counts above the median of its (2D+1)x(2D+1) window by that median (sxdm's selective rule in 2-D)");
  cmd->add_flag("--hot-pixels-low", with_low, "with --hot-pixels: also replace pixels more than HEIGHT below the median");
}

std::unique_ptr<sxdm::SelectiveMedianFrames> SxdmHotPixelOptions::make() const {
  if (spec.empty()) {
    if (with_low) throw InvalidArgument("--hot-pixels-low: only with --hot-pixels");
    return nullptr;
  }
  const auto comma = spec.find(',');
  sxdm::HotPixelOptions o;
  o.with_low = with_low;
  try {
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    std::size_t used = 0;
    o.half_window = std::stoll(spec.substr(0, comma), &used);
    if (used != comma) throw std::invalid_argument("trailing");
    const std::string h = spec.substr(comma + 1);
    o.height = std::stod(h, &used);
    if (used != h.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw InvalidArgument(fmt::format("--hot-pixels '{}': expected D,HEIGHT (half window in pixels, counts)", spec));
  }
  try {
    return std::make_unique<sxdm::SelectiveMedianFrames>(o);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(fmt::format("--hot-pixels '{}': {}", spec, e.what()));
  }
}

void run_sxdm_pass(const PreparedInput& input, engine::FrameStage* first_stage,
                   const std::vector<engine::Analysis*>& analyses, const GlobalOptions& global,
                   const std::string& label) {
  ProgressBar bar(label, !global.quiet);
  engine::RunOptions run = global.run_options(label);
  if (first_stage) run.stages.push_back(first_stage);
  for (engine::FrameStage* s : input.stage_list()) run.stages.push_back(s);
  run.progress = bar.callback();
  engine::run(*input.source, analyses, run);
}

}  // namespace scandiff::cli
