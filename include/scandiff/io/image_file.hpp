// Detector images from single files, whatever the writer: TIFF (Pilatus, Dioptas, ImageJ,
// tifffile), EDF (ESRF, fabio) and CBF (Dectris, byte-offset compressed). The format is
// recognised from the file's content (TIFF "II*\0"/"MM\0*", "###CBF", an EDF '{' header with
// Dim_1), never from its name. Images are (rows, cols) = (qy, qx) in their native dtype and
// the file's row order (no flip).
//
// An image file holds one frame, or a stack: a multi-page TIFF or a multi-frame EDF.
// Image series (many files, or the frames of one stack) are read as a Source by
// io/image_series.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "scandiff/core/array.hpp"

namespace scandiff::io {

enum class ImageFormat { tiff, edf, cbf };

std::string_view name_of(ImageFormat format);  // "tiff", "edf", "cbf"

// The image format of `path` from its first bytes, or nullopt when it is none of them (or
// cannot be read).
std::optional<ImageFormat> detect_image_format(const std::filesystem::path& path);

// Reads a single-frame image as (rows, cols). Throws IoError when the file cannot be read,
// FormatError (naming the file) when it is not a supported image or is malformed, and
// InvalidArgument when it holds several frames (read_image_stack reads those).
Array read_image(const std::filesystem::path& path);

// Reads every frame of an image file as (N, rows, cols) (N = 1 for a single image).
Array read_image_stack(const std::filesystem::path& path);

// Frames in an image file and their shape and dtype, from the headers alone.
struct ImageFileInfo {
  ImageFormat format = ImageFormat::tiff;
  std::int64_t frames = 0;
  std::int64_t rows = 0, cols = 0;
  DType dtype = DType::u16;
};
// For CBF (one frame per file) this decodes the file, as its header alone does not say the
// dtype reliably.
ImageFileInfo read_image_file_info(const std::filesystem::path& path);

// Reads frame `frame` (0-based) of an image file as (rows, cols).
Array read_image_frame(const std::filesystem::path& path, std::int64_t frame);

}  // namespace scandiff::io
