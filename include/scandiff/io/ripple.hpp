// Ripple (.rpl + .raw) spectrum images, the Lispix format that HyperSpy/RosettaSciIO and
// Oxford AZtec export EDX maps in. The .rpl is a text header, one "key<TAB>value" per line
// (';' starts a comment): width, height, depth, offset (bytes before the data in the .raw),
// data-length (bytes per value: 1, 2, 4, 8), data-type (signed, unsigned, float), byte-order
// (little-endian, big-endian, dont-care), record-by (vector: each pixel's spectrum contiguous,
// (height, width, depth); image: (depth, height, width); dont-care: one image, depth 1), and
// calibrations: ev-per-chan, depth-scale / depth-origin / depth-units (HyperSpy's keys;
// depth-scale wins over ev-per-chan, as in RosettaSciIO), width-* and height-* likewise.
// The .raw (or .RAW) lies beside the .rpl with the same stem.
#pragma once

#include <filesystem>

#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"

namespace scandiff::io {

// True when the file name ends in ".rpl" (any case).
bool is_ripple_path(const std::filesystem::path& path);

// Reads the .rpl header as JSON: every key with its value (numbers for the integer and
// calibration keys, strings otherwise). Throws IoError when unreadable, FormatError naming the
// file and line for a line without a TAB, a missing required key or an invalid value.
Metadata read_ripple_header(const std::filesystem::path& rpl);

// Reads the spectrum image as a Result of shape (height, width, depth) = (ry, rx, channels),
// whatever its record-by, with axes ry, rx (width/height scale, origin, units) and the energy
// axis (depth-scale or ev-per-chan, depth-origin, depth-units; "eV" when only ev-per-chan is
// given). Values keep their type where scandiff has it (uint8/16/32, int32, float32/64); int8
// and int16 become int32, 64-bit integers float64. provenance["ripple"] holds the header.
// Throws FormatError when the .raw is shorter than offset + width·height·depth·data-length.
Result read_ripple(const std::filesystem::path& rpl);

}  // namespace scandiff::io
