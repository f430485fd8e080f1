// TIFF images and stacks stored in their own dtype, without any scaling: what detectors
// write and what other tools (ImageJ/Fiji, tifffile, Dioptas) read back exactly.
#pragma once

#include <cstdint>
#include <filesystem>

#include "scandiff/core/array.hpp"

namespace scandiff::io {

struct TiffOptions {
  enum class Compression { none, deflate };
  Compression compression = Compression::none;
  int deflate_level = 6;  // 1 (fast) .. 9 (small), used with deflate
  // With deflate, integer samples also get the horizontal-differencing predictor (2), which
  // every common reader undoes. Float samples get none: the floating-point predictor (3)
  // compresses better but e.g. tifffile needs the optional imagecodecs package to read it.
};

// Writes a 2D image (H, W) as one page or a 3D stack (N, H, W) as N pages, every sample
// in the array's dtype: u8/u16/u32 (SampleFormat uint), i32 (int), f32/f64 (IEEE float),
// one grayscale (min-is-black) sample per pixel, strips of about 64 KiB. Any strides.
// Files beyond 4 GiB are written as BigTIFF. The file appears only when complete
// (AtomicOutput). Throws InvalidArgument for other ranks or empty extents, IoError naming
// the file when it cannot be written.
void write_tiff(const std::filesystem::path& path, const Array& image, const TiffOptions& options = {});

// Reads a single-page TIFF as (H, W) or a multi-page one as (N, H, W): grayscale (one sample
// per pixel), striped or tiled, any byte order and any compression libtiff was built with,
// of 8/16/32-bit unsigned, 32-bit signed or 32/64-bit float samples. Throws IoError when the
// file cannot be opened and FormatError (naming the file) when it is not a TIFF, is truncated
// or corrupt, or holds an unsupported layout (RGB, palette, several samples per pixel, other
// sample types, pages of different shapes or types).
Array read_tiff(const std::filesystem::path& path);

// The page count of a TIFF and the shape and dtype of its first page, without reading pixels.
struct TiffPages {
  std::int64_t pages = 0;
  std::int64_t height = 0, width = 0;
  DType dtype = DType::u8;
};
TiffPages read_tiff_pages(const std::filesystem::path& path);

// Reads page `page` (0-based) alone as (H, W); errors as read_tiff, and FormatError when the
// file has no such page.
Array read_tiff_page(const std::filesystem::path& path, std::int64_t page);

}  // namespace scandiff::io
