// Crystallographic Binary Format (CBF / imgCIF) images with byte-offset compression, as
// Dectris Pilatus and Eiger detectors and fabio write them.
//
// The file is CIF text ("###CBF: VERSION ...") holding a binary section:
//   --CIF-BINARY-FORMAT-SECTION--
//   Content-Type: application/octet-stream; conversions="x-CBF_BYTE_OFFSET"
//   X-Binary-Size: <bytes of the compressed stream>
//   X-Binary-Element-Type: "signed 32-bit integer"
//   X-Binary-Size-Fastest-Dimension: <columns>   X-Binary-Size-Second-Dimension: <rows>
//   X-Binary-Number-of-Elements: <columns·rows>  (and further MIME lines)
//   <blank line> 0x0C 0x1A 0x04 0xD5 <X-Binary-Size bytes>
// Byte-offset decoding: each value is the previous one (0 before the first) plus a delta, read
// as a signed byte; the byte -128 (0x80) announces a little-endian int16 delta, whose value
// -32768 announces an int32 delta, whose value INT32_MIN announces an int64 delta. Sums wrap
// modulo 2^32 (as CBFlib and fabio compute them), so no stream can overflow.
// Output: "signed 32-bit integer" → int32 (what Pilatus images are); unsigned 8/16/32-bit →
// uint8/uint16/uint32; signed 8/16-bit → int32. Values outside the output type are an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "scandiff/core/array.hpp"

namespace scandiff::io {

// A frame of more pixels than this is refused as corrupt before anything is allocated.
inline constexpr std::int64_t cbf_max_frame_pixels = std::int64_t{1} << 31;

// Decodes a byte-offset stream into exactly out.size() values. Throws FormatError naming
// `name` when the stream ends before out is full.
// Bytes after the last value (padding) are ignored.
void decode_byte_offset(std::span<const std::byte> in, std::span<std::int32_t> out, std::string_view name);

// Decodes a whole CBF file held in memory into a (rows, cols) array. Throws FormatError
// naming `name` when it is not a CBF, has no binary section, uses another compression, or
// the dimensions, sizes or stream are inconsistent (nothing is allocated for dimensions the
// stream cannot hold: byte offset needs at least one byte per pixel).
Array decode_cbf(std::span<const std::byte> file, std::string_view name);

// Reads a CBF file: IoError when it cannot be read, otherwise as decode_cbf.
Array read_cbf(const std::filesystem::path& path);

// True when the file starts with "###CBF".
bool is_cbf_file(const std::filesystem::path& path);

}  // namespace scandiff::io
