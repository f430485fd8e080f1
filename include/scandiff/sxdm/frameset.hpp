// SXDM framesets: several scans of one field of view at sample angles θ, described by a JSON
// manifest (format and example: docs/sxdm-datasets.md). io::open recognises a manifest (a JSON
// object with the key "sxdm_frameset") and returns open_frameset(), so every command reads it.
//
// Alignment: scan s has a shift (dy, dx) in scan steps (rows, columns) meaning "the feature at
// reference position (ry, rx) lies at (ry + dy, rx + dx) in scan s". Frames are moved by whole
// positions: the shift is rounded to the nearest integer (halves away from zero) when frames
// are read. Aligned scan s at reference position p is its frame at p + round(shift); when that
// lies outside scan s (out of field after the shift), scan s contributes nothing there (a zero
// frame). The reference scan's grid (its rows × cols) is the grid of every aligned source.
//
// open_frameset() is sxdm's centroid input: per reference position, the sum over scans of the
// background-subtracted, aligned frames (float32; background: background.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "scandiff/io/source.hpp"
#include "scandiff/sxdm/background.hpp"
#include "scandiff/sxdm/frameset_scan.hpp"

namespace scandiff::sxdm {

struct ScanShift {
  double dy = 0, dx = 0;  // scan steps; see above
  bool manual = false;    // set by the user: `sxdm align --write` keeps it
};

struct FramesetScan {
  std::string name;
  double theta = 0;  // sample angle, degrees (manifest "theta", else the table/MDA channel)
  ScanSpec spec;
  ScanShift shift;
};

struct Frameset {
  std::filesystem::path manifest;
  std::string name;
  BackgroundSpec background;
  std::size_t reference = 0;  // index of the reference scan (shift 0 by definition of the grid)
  std::vector<FramesetScan> scans;
};

// True when `path` is a readable file of at most 16 MiB holding a JSON object with the key
// "sxdm_frameset" (or text starting with '{' that is not valid JSON but names that key, so that
// opening it reports the JSON error). Never throws.
bool is_frameset_manifest(const std::filesystem::path& path);

// Parses a manifest. Throws IoError when it cannot be read and FormatError naming the file and
// the key when it is malformed (not JSON, no scans, a scan without θ, unknown background, ...).
Frameset read_frameset(const std::filesystem::path& manifest);

// Rewrites the manifest with these shifts (one per scan, in manifest order), keeping every
// other key as it was; written to a temporary file and renamed.
void write_frameset_shifts(const std::filesystem::path& manifest, const std::vector<ScanShift>& shifts);

// Scan i, background-subtracted (float32), on its own grid (no shift).
std::unique_ptr<io::Source> open_frameset_scan_unaligned(const Frameset& frameset, std::size_t i);

// Scan i, background-subtracted (float32) and aligned onto the reference grid (zero frames out
// of field). For rocking curves and per-scan analyses.
std::unique_ptr<io::Source> open_frameset_scan(const Frameset& frameset, std::size_t i);

// Which reference positions scan i covers after its shift: uint8 (rows, cols), 1 = in field.
Array frameset_coverage(const Frameset& frameset, std::size_t i);

// The sum over scans of the aligned, background-subtracted frames (float32), format
// "sxdm-frameset"; metadata["sxdm_frameset"]["scans"] describes each scan (θ, shift, shape, frames),
// keyed by scan name in manifest order (names are unique).
std::unique_ptr<io::Source> open_frameset(const Frameset& frameset);
std::unique_ptr<io::Source> open_frameset(const std::filesystem::path& manifest);

}  // namespace scandiff::sxdm
