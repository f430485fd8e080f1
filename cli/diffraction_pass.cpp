#include "diffraction_pass.hpp"

#include "progress_bar.hpp"

namespace scandiff::cli {

void run_pass(io::Source& source, std::span<engine::Analysis* const> analyses, std::vector<engine::FrameStage*> stages,
              const GlobalOptions& global, const std::string& label) {
  ProgressBar bar(label, !global.quiet && source.info().frame_count() > 1);
  engine::RunOptions options = global.run_options(label);
  options.progress = bar.callback();
  options.stages = std::move(stages);
  engine::run(source, analyses, options);
}

stem::VirtualDiffraction diffraction_pass(io::Source& source, const GlobalOptions& global, const std::string& label) {
  stem::VirtualDiffraction vd;
  engine::Analysis* list[] = {&vd};
  run_pass(source, list, {}, global, label);
  return vd;
}

}  // namespace scandiff::cli
