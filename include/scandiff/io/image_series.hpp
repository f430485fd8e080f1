// A series of detector images (TIFF, EDF, CBF; see image_file.hpp) as a Source: a list of
// files, each holding one frame or a stack (multi-page TIFF, multi-frame EDF), read in list
// order and then in file order. Frames are decoded on read(), so engine::run streams them.
//
// The scan shape is (1, N) for N frames unless options.scan_shape says otherwise (its product
// must be N). Every frame must have the first frame's shape and dtype; a file that differs is
// a FormatError naming it when it is read (only the first file's frames are checked at open).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "scandiff/io/source.hpp"

namespace scandiff::io {

struct ImageSeriesOptions {
  std::optional<std::pair<std::int64_t, std::int64_t>> scan_shape;  // (scan_y, scan_x)
  bool series = false;  // opening one file: also read its siblings <prefix><digits>.<ext>
};

// Opens `files` (at least one) as one Source, format "image-series" (or the single file's
// format, "tiff"/"edf"/"cbf", for one file). Throws IoError/FormatError naming the file that
// cannot be read or recognised, InvalidArgument when the scan shape does not hold the frames.
std::unique_ptr<Source> open_image_series(const std::vector<std::filesystem::path>& files,
                                          const ImageSeriesOptions& options = {});

// The files of the series `path` belongs to: every "<prefix><digits><ext>" beside it (the
// prefix is the stem without its trailing digits, the extension is path's), ordered by the
// number. `path` itself is always included.
std::vector<std::filesystem::path> image_series_files(const std::filesystem::path& path);

}  // namespace scandiff::io
