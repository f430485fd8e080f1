// Writing analysis results: one EMD 1.0 file (py4DSTEM opens every node) and a PNG per image.
// Shared by the CLI subcommands and the Python package.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "scandiff/core/calibration.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"

namespace scandiff::io {

// py4DSTEM's class for a result: DiffractionSlice for (qy, qx) images, RealSlice for other 2D
// maps, Array otherwise.
std::string python_class_for(const Result& r);

// `md` with every object key made storable as an HDF5 link name ('/' -> '_', empty or "."
// -> "_"), so metadata read from any input (e.g. a .hdr) can be written to EMD.
Metadata emd_safe_metadata(const Metadata& md);

// Writes `results` as nodes of `root` in the EMD file `path` (replaced atomically), with the
// root calibration `cal` and each (name, metadata) pair as a metadata dictionary of the root.
void write_results_emd(const std::filesystem::path& path, const std::string& root, const Calibration& cal,
                       const std::vector<Result>& results,
                       const std::vector<std::pair<std::string, Metadata>>& metadata = {});

// DIR/<name>.png for every 2D result: diffraction patterns (qy, qx) with a log stretch and the
// inferno map, scan maps in `colormap`.
void write_result_pngs(const std::filesystem::path& dir, const std::vector<Result>& results,
                       const std::string& colormap = "gray");

}  // namespace scandiff::io
