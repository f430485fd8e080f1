// Dectris (ARINA, EIGER) NeXus acquisitions: a master file <name>_master.h5 whose group
// /entry/data holds external links data_000001, data_000002, ... to /entry/data/data of the
// data files <name>_data_NNNNNN.h5, each a 3D (frames, qy, qx) stack, usually compressed with
// bitshuffle/LZ4 (HDF5 filter 32008: the Debian package bitshuffle provides the plugin).
// Detector facts are datasets under /entry/instrument/detector.
//
// The files carry no scan shape. It is taken, in this order, from DectrisOptions::scan_shape,
// from the ARINA scan metadata file <name>.h5 beside the master (group "STEM Metadata",
// attributes NumPixelsY / NumPixelsX) when it matches the frame count, from a square scan when
// the frame count is a perfect square (py4DSTEM's read_arina default), else 1 x N.
// info().metadata["scan_shape"] says which rule decided and why.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "scandiff/io/source.hpp"

namespace scandiff::io {

struct DectrisOptions {
  // Known scan shape (scan_y, scan_x): wins. More frames than it needs: the surplus at the end
  // is ignored with a warning; fewer: InvalidArgument.
  std::optional<std::pair<std::int64_t, std::int64_t>> scan_shape;
};

// True when `path` is an HDF5 file with a group /entry/data holding data_NNNNNN links (a
// master) or a dataset /entry/data/data (a data file). Never throws.
bool is_dectris_file(const std::filesystem::path& path);

// Opens a master file's frames (every data_NNNNNN in name order) as a Source (format
// "dectris"), read block by block through HDF5's filters. Opening a data file instead names
// its master. Throws IoError / FormatError naming the file: missing data files, ranks other
// than 3, frame shapes or types that differ between data files, a missing filter plugin.
// info().metadata["dectris"] holds the detector description, timing, bit depth, saturation
// value, pixel size, sensor and the number of images and triggers; the beam energy comes from
// /entry/instrument/detector/detectorSpecific/photon_energy (electron volts).
std::unique_ptr<Source> open_dectris(const std::filesystem::path& path, const DectrisOptions& options = {});

}  // namespace scandiff::io
