// Pixel decoding of Merlin frames (reference §3, §4, §10). Internal to the MIB source.
#pragma once

#include <cstddef>
#include <cstdint>

#include "scandiff/io/mib.hpp"

namespace scandiff::io::mib_decode {

// Decodes the h.data_bytes pixel bytes at `src` into `out`: h.frame_y x h.frame_x elements
// of h.dtype, C order, in the file's orientation (row 0 first).
//  - U08: copied; U16/U32: big-endian to native.
//  - R64: big-endian 64-bit words of 64/w pixels of w bits (w = 1, 8, 16 for depth 1, 6, 12),
//    pixel k of a word in bits [k*w, (k+1)*w), least significant first. 24-bit = a 12-bit
//    "high" frame then a 12-bit "low" frame: value = (hi << 12) + lo.
//  - Quad RAW: raw row y holds chips [4|3|2|1], cw = row/4 pixels each. Output row y is
//    chips 1|2 as stored; output row 2*rows-1-y is chips 3|4, i.e. raw columns 0..2cw-1 reversed.
void decode_frame(const MibFrameHeader& h, const std::byte* src, std::byte* out);

// Output shape of place_frame for a decoded frame of (frame_y, frame_x).
inline std::int64_t placed_extent(std::int64_t extent, bool gap_cross) { return extent + (gap_cross ? 3 : 0); }

// Copies a decoded frame of `dtype` into `out` with the optional transforms, in this order
// (they commute): up-down flip (row r -> frame_y-1-r); the 3-pixel zero cross of epsic's
// converter (rows and columns at index >= extent/2 move by +3; the 3 inserted rows and
// columns are zero). `out` holds placed_extent(frame_y) x placed_extent(frame_x) elements.
void place_frame(const std::byte* frame, std::int64_t frame_y, std::int64_t frame_x, DType dtype, bool flip_ud,
                 bool gap_cross, std::byte* out);

}  // namespace scandiff::io::mib_decode
