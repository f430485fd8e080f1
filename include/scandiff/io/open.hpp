// Opening a dataset by looking at what the file is, not at its name.
#pragma once

#include <filesystem>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "scandiff/io/image_series.hpp"
#include "scandiff/io/mib.hpp"
#include "scandiff/io/raw_source.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::io {

struct OpenOptions {
  std::optional<RawLayout> raw;  // treat the file as raw binary with this layout
  std::string datapath;          // inside a container file (HDF5): the node to open
  MibOptions mib;                // Merlin acquisitions: scan shape, skipped frames, orientation
  ImageSeriesOptions images;     // TIFF/EDF/CBF images: scan shape, sibling files
  // Stacks of frames without a scan shape (Dectris master files, 3D HyperSpy signals): the
  // scan shape (scan_y, scan_x).
  std::optional<std::pair<std::int64_t, std::int64_t>> stack_scan_shape;
};

// Opens `path` as a Source: HDF5 files by their signature and then by their layout (EMD 1.0,
// HyperSpy .hspy / ePSIC, Dectris NeXus master), Merlin .mib frames by their "MQ1," magic and
// Merlin .hdr acquisition headers by "HDR," (whatever the file is called), detector images
// (TIFF, EDF, CBF; one frame or a stack, see image_series.hpp) by their signatures, SXDM frameset
// manifests (a JSON object with "sxdm_frameset"; sxdm/frameset.hpp: the background-subtracted,
// aligned sum over the frameset's scans, float32) by their content; raw binary
// when options.raw is given. Throws IoError (missing, a folder, unreadable) or FormatError
// (unrecognised or malformed content), each naming the file and what was expected.
std::unique_ptr<Source> open(const std::filesystem::path& path, const OpenOptions& options = {});

// Throws IoError unless `path` is an existing, readable regular file.
void require_readable_file(const std::filesystem::path& path);

}  // namespace scandiff::io
