// Ellipse and reciprocal pixel size on the command line: the JSON calibration file that
// `calibrate ellipse` / `calibrate pixel-size` write and `polar --calibration` reads, text
// output, and the shared --ellipse / --mask options.
//
// The JSON file holds the epsic keys (reference/epsic-workflow.md §2), so epsic calibration
// files are read as they are: "p_ellipse" = [x0, y0, a, b, θ] in py4DSTEM's convention (x0 =
// row (qy), y0 = column (qx), θ from its first axis (qy): ours is π/2 − θ) and
// "reciprocal_space_pix(1/A)"; plus "ellipse" {a_px, b_px, theta_rad} and "origin" {qy_px, qx_px}
// in scandiff's convention (docs/conventions.md), which win when both are present.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "scandiff/core/calibration.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/stem/ellipse_fit.hpp"

namespace scandiff::cli {

// The calibration document: ellipse and origin (when set), pixel size (when in A^-1), `extra`.
Metadata polar_calibration_json(const Calibration& cal, const Metadata& extra);
// Writes `doc` as indented JSON to `path` (atomically).
void write_json_file(const std::filesystem::path& path, const Metadata& doc);
// Applies a calibration JSON file to `cal`: ellipse, origin (global) and pixel size, whichever
// it holds. Throws IoError/FormatError naming the file.
void apply_polar_calibration_file(const std::filesystem::path& path, Calibration& cal);

// The calibration of `info` with --calibration FILE (when not empty, see above) and then
// --origin (cli/array_file.hpp) applied, in that order.
Calibration calibration_with_options(const io::DatasetInfo& info, const std::string& calibration_file,
                                     const std::string& origin);

// Takes a ring fit's ellipse and centre as the calibration's ellipse and global origin (dropping
// any per-position origin maps: the fit describes the mean pattern).
void adopt_ellipse_fit(const stem::EllipseFitResult& fit, Calibration& cal);

// --ellipse A,B,THETA_DEG (pixels, degrees from +qx toward +qy). Throws InvalidArgument.
Ellipse parse_ellipse_option(const std::vector<double>& values);

// Columns of equal length as a tab-separated text file with a '#' header line (atomically).
void write_columns(const std::filesystem::path& path, const std::vector<std::string>& names,
                   const std::vector<std::vector<double>>& columns, const std::string& comment);

// The detector mask of --mask FILE (TIFF/EDF/CBF/PNG... via io::read_mask; non-zero = masked)
// and --mask-below/--mask-above thresholds tested on frame 0 of `source`; empty when none.
Array detector_mask(io::Source& source, const std::string& mask_file, const std::vector<double>& below,
                    const std::vector<double>& above);

}  // namespace scandiff::cli
