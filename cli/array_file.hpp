// 2D arrays given on the command line as files: detector masks, scan selections and weights,
// origin maps. "FILE" is a PNG (grayscale levels) or "FILE:NODE" an array node of an EMD 1.0 /
// HDF5 file (e.g. "origin.h5:truth_root/origin_qy").
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::cli {

// Reads the 2D array named by `spec`. Throws InvalidArgument/IoError/FormatError naming `what`.
Array read_array_file(const std::string& spec, std::string_view what);

// --origin QY,QX (a global origin in detector pixels) or --origin FILE[:ROOT] (the first root of
// an EMD file, or ROOT, holding arrays named origin_qy and origin_qx, as `scandiff simulate`
// writes in OUT_truth.h5): sets the origin of `cal` (global origin, or per-position maps and
// their mean as the global origin).
void apply_origin_option(const std::string& text, Calibration& cal);

// `source` seen with --origin applied to its calibration (io::CalibratedSource); `source` itself
// when `origin` is empty.
std::unique_ptr<io::Source> with_origin_option(std::unique_ptr<io::Source> source, const std::string& origin);

}  // namespace scandiff::cli
