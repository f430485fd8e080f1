// One SXDM scan as a Source: a detector image series (TIFF/EDF/CBF files, or one stack file any
// io::open reader takes, e.g. an HDF5 stack) plus the scan positions of its frames, from a text
// table or from an APS MDA scan record. See docs/sxdm-datasets.md.
//
// Raster convention (default orientation "file"):
//   MDA:   row ry = index of the outer scan dimension (dimension 1, e.g. the Y piezo),
//          column rx = index of the inner dimension (dimension 2, e.g. the X piezo), in the
//          order the points were acquired; only the acquired outer points are rows.
//   table: the distinct y values, ascending, are the rows; the distinct x values, ascending,
//          the columns. Values closer than `tolerance` (default a quarter of the largest gap
//          between sorted distinct values) are one grid line, so read-back jitter is harmless.
//          Every grid position must have exactly one frame.
// Other orientations permute that raster: "flip_rows" (ry -> rows-1-ry; what sxdm's MDA import
// does, np.flip(np.flip(a), axis=1) == flipud, to match the 26-ID-C MatLab viewer; alias "sxdm"),
// "flip_cols", "rotate_180".
//
// Frames: a table's frame column holds a file name (relative to the table's folder), or an
// integer: a frame number when `images` is given (a pattern like "img_{:06d}.tif" formatted with
// fmt, or a folder whose files end in the number), or an index into `stack`. An MDA scan takes
// the frame numbers from a detector channel ("D10", a PV name or a description; by default the
// only channel whose name contains "FileNumber"). A frame that cannot be found is an IoError
// naming the file (or number) and the scan position.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::sxdm {

enum class ScanOrientation { file, flip_rows, flip_cols, rotate_180 };

// Parses "file", "flip_rows" (or "sxdm"), "flip_cols", "rotate_180"; InvalidArgument otherwise.
ScanOrientation parse_scan_orientation(const std::string& text);
std::string name_of(ScanOrientation orientation);

// Where a scan's frames and positions come from. Relative paths are resolved against `base`.
struct ScanSpec {
  std::filesystem::path base;        // folder relative paths are resolved against
  std::filesystem::path mda;         // APS MDA scan record (positions + frame-number channel), or
  std::filesystem::path positions;   // a positions table (frame, x, y[, theta])
  std::string frame_channel;         // MDA: the detector channel holding frame numbers
  std::string theta_channel;         // MDA: optional channel holding the sample θ (its mean)
  std::string images;                // frame-number pattern "dir/img_{:06d}.tif", or a folder
  std::filesystem::path stack;       // or one stack file (frames addressed by index)
  std::string datapath;              // inside `stack` when it is HDF5
  std::optional<double> tolerance;   // table: grid clustering tolerance, position units
  ScanOrientation orientation = ScanOrientation::file;
};

// The raster of one scan: per position (ry, rx), ry major, its (x, y) and its frame.
struct ScanLayout {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> x, y;                    // position of each raster point
  std::vector<std::int64_t> frame_number;      // frame number / stack index (when numbered)
  std::vector<std::string> frame_file;         // or the frame's file name (table with names)
  std::optional<double> theta;                 // θ from the table column / MDA channel (mean)
  std::string position_units;                  // MDA positioner units, e.g. "um"
  std::int64_t count() const { return rows * cols; }
};

// Reads the positions and frame references of `spec` (MDA or table) and arranges them on the
// raster in the requested orientation. Throws IoError/FormatError naming the file, and
// InvalidArgument for an unknown channel or a table that is not a full raster.
ScanLayout read_scan_layout(const ScanSpec& spec);

// An MDA detector channel of an MDA scan ("D05", a PV name or a description) as a float64
// (rows, cols) map on the scan's raster, in `spec.orientation` (e.g. a fluorescence map for
// alignment). InvalidArgument when the scan has no MDA record or no such channel.
Array read_mda_channel_map(const ScanSpec& spec, const std::string& channel);

// The file holding frame `number` of a numbered image series: `images` is a fmt pattern with
// one integer field ("scan_294_img_{}.tif", "img_{:06d}.tif") or a folder, where the file is the
// one whose name stem ends in that number (leading zeros allowed). Relative to `base`. Throws
// IoError naming the file (or folder and number) when it does not exist.
std::filesystem::path locate_frame(const std::filesystem::path& base, const std::string& images, std::int64_t number);

// Opens the scan as a Source in raster order: shape (rows, cols, qy, qx), the frames' own
// dtype; metadata["sxdm_scan"] describes positions and frames. A missing or unreadable frame is
// an IoError naming the file and position.
std::unique_ptr<io::Source> open_scan(const ScanSpec& spec);

}  // namespace scandiff::sxdm
