// How a 4D (ry, rx, qy, qx) frame dataset is laid out in an HDF5 file we write: contiguous, or
// chunked per frame or per block of frames, optionally compressed by an HDF5 filter.
//
// Filters: gzip is built into HDF5; the others are HDF5 filter plugins (Debian packages
// hdf5-filter-plugin (LZ4, id 32004), bitshuffle (bitshuffle + LZ4, id 32008) and
// hdf5-filter-plugin-blosc-serial (Blosc, id 32001)). Plugins are looked up on HDF5's plugin
// path (HDF5_PLUGIN_PATH, else the library's built-in folder), to which scandiff appends the
// Debian plugin folder. A filter that cannot be loaded is an error naming it and its package.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace scandiff::io {

enum class Hdf5Compression {
  none,
  gzip,            // deflate, level 1..9 (HDF5 built-in, readable everywhere)
  lz4,             // LZ4 filter 32004
  bitshuffle_lz4,  // bitshuffle filter 32008 with its LZ4 stage (what Dectris detectors write)
  blosc,           // Blosc filter 32001: LZ4 codec, bit shuffle (byte shuffle for 1-byte types), level 1..9
};

struct Hdf5Storage {
  // Frames per chunk along a scan row: 0 = contiguous (no chunks; only without compression),
  // 1 = one frame per chunk (1, 1, qy, qx), N = N consecutive frames of a scan row
  // (1, min(N, scan_x), qy, qx).
  std::int64_t chunk_frames = 0;
  Hdf5Compression compression = Hdf5Compression::none;
  int level = 0;  // gzip / blosc level 1..9; 0 = the default (gzip 4, blosc 5)

  bool chunked() const { return chunk_frames > 0 || compression != Hdf5Compression::none; }
  // Frames per chunk actually used for a row of `scan_x` frames (1 when compression alone asks for chunks).
  std::int64_t frames_per_chunk(std::int64_t scan_x) const;
  // "contiguous", "chunks of 1 frame, gzip level 4", ... for messages and metadata.
  std::string describe(std::int64_t scan_x) const;
};

// "none", "gzip", "lz4", "bitshuffle-lz4" (or "bslz4"), "blosc"; throws InvalidArgument naming `option`.
Hdf5Compression parse_hdf5_compression(std::string_view text, std::string_view option);
std::string_view name_of(Hdf5Compression c);

// The HDF5 filter id of a compression (gzip 1, lz4 32004, bitshuffle 32008, blosc 32001; none 0).
int hdf5_filter_id(Hdf5Compression c);

// True when HDF5 can load the filter (after adding the Debian plugin folder to the search path).
bool hdf5_filter_available(int filter_id);

}  // namespace scandiff::io
