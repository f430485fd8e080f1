// A pass computing the mean and max diffraction patterns, shared by the calibrate subcommands.
#pragma once

#include <string>

#include "commands.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"

namespace scandiff::cli {

// Runs one engine pass over `source` with a progress bar labelled `label`; the results are in
// the returned analysis (mean() and max(), float64 (qy, qx)).
stem::VirtualDiffraction diffraction_pass(io::Source& source, const GlobalOptions& global, const std::string& label);

// Runs `analyses` over `source` after `stages`, with a progress bar labelled `label`.
void run_pass(io::Source& source, std::span<engine::Analysis* const> analyses, std::vector<engine::FrameStage*> stages,
              const GlobalOptions& global, const std::string& label);

}  // namespace scandiff::cli
