// ESRF data format (EDF) images, as ESRF beamlines, Dioptas and fabio write them.
//
// A file is one or more frames, each a text header followed by its binary data block:
//   {\n key = value ;\n ... padding spaces ... }\n <Size bytes of data>
// The header starts with '{' and ends at the first '}' and the newline after it (writers pad
// it with spaces to a multiple of 512 bytes). Keys used here:
//   Dim_1     columns (fast axis, qx);   Dim_2  rows (qy); a Dim_3 other than 1 is refused;
//   DataType  UnsignedByte/Short/Integer/Long, SignedByte/Short/Integer/Long, FloatValue,
//             DoubleValue and their aliases (Unsigned16, Signed32, Float, Double, FloatIEEE32...);
//   ByteOrder LowByteFirst (default) or HighByteFirst;
//   Size      bytes of the data block (default Dim_1·Dim_2·element size); the next frame, if
//             any, starts right after it (EDF_BinarySize is its synonym);
//   Compression  only none ("None", "NoCompression") is read.
// Samples keep their type, except signed 8/16-bit ones, which are widened to int32 (scandiff
// has no such dtype; widening is exact). 64-bit integer data is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"

namespace scandiff::io {

// Headers longer than this are refused as corrupt (real ones are a few KiB).
inline constexpr std::size_t edf_max_header_bytes = 1 << 20;
// A frame of more pixels than this is refused as corrupt before anything is allocated.
inline constexpr std::int64_t edf_max_frame_pixels = std::int64_t{1} << 31;

// One frame as its header describes it. Offsets count from the start of the frame's header.
struct EdfFrameHeader {
  std::size_t header_bytes = 0;    // up to and including the newline after '}'
  std::uint64_t data_bytes = 0;    // Size: bytes of the data block
  std::int64_t rows = 0, cols = 0; // Dim_2, Dim_1
  std::string data_type;           // DataType as written
  std::size_t element_bytes = 0;   // stored bytes per sample (1, 2, 4, 8)
  bool is_signed = false, is_float = false;
  bool big_endian = false;         // ByteOrder HighByteFirst
  DType dtype = DType::u16;        // the dtype frames are returned in
  Metadata keys = Metadata::object();  // every "key = value" pair, in file order (strings)
};

// Parses the header at the start of `bytes` (at least up to its closing '}' and newline).
// Throws FormatError naming `name` when there is no complete header, or a required key is
// missing, malformed or unsupported (dimensions ≤ 0 or above edf_max_frame_pixels, unknown
// DataType or ByteOrder, compression, Size smaller than the pixels need).
EdfFrameHeader parse_edf_header(std::span<const std::byte> bytes, std::string_view name);

// Decodes the data block of a frame (at least rows·cols·element_bytes bytes) into a
// (rows, cols) array of header.dtype, native byte order. Throws FormatError when short.
Array decode_edf_data(const EdfFrameHeader& header, std::span<const std::byte> data, std::string_view name);

// A frame of a file: its header and where its data block starts in the file.
struct EdfFrame {
  EdfFrameHeader header;
  std::uint64_t data_offset = 0;  // bytes from the start of the file
};

// Walks the headers of every frame of `path` without reading any data block. Throws IoError
// when the file cannot be read and FormatError (naming the file and frame) when a header is
// malformed or a data block runs past the end of the file.
std::vector<EdfFrame> read_edf_frames(const std::filesystem::path& path);

// Reads frame `frame` of `path` (as listed by read_edf_frames) as (rows, cols).
Array read_edf_frame(const std::filesystem::path& path, const EdfFrame& frame);

// Reads a single-frame EDF as (rows, cols) or a multi-frame one as (N, rows, cols). Throws
// FormatError when the frames differ in shape or type.
Array read_edf(const std::filesystem::path& path);

// True when the file starts (after optional whitespace) with an EDF header: '{' and, before
// the closing '}', a Dim_1 key.
bool is_edf_file(const std::filesystem::path& path);

}  // namespace scandiff::io
