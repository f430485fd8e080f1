// Writing a simulated scan and its ground truth (shared by `simulate` and `demo`).
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "commands.hpp"
#include "scandiff/engine/analysis.hpp"
#include "scandiff/sim/simulated_source.hpp"

namespace scandiff::cli {

enum class DataFormat { emd, raw };

// emd for .h5/.hdf5/.emd, raw for .raw/.bin; InvalidArgument otherwise.
DataFormat format_from_extension(const std::filesystem::path& path);

// "<folder>/<stem>_truth.h5" and "<folder>/<stem>_truth.json" beside `data_path`.
std::filesystem::path truth_path(const std::filesystem::path& data_path, const std::string& extension);

// Renders every frame of `source` into `data_path` in one engine pass, feeding `extra`
// analyses in the same pass; in an EMD file the datacube is "datacube_root/datacube" and
// each extra result is added to that root. Then writes the ground truth beside it.
void write_simulation(sim::SimulatedSource& source, const std::filesystem::path& data_path,
                      std::span<engine::Analysis* const> extra, const GlobalOptions& global,
                      const std::string& progress_label);

}  // namespace scandiff::cli
