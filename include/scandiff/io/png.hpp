// PNG images for display: a 2D array scaled to display levels (see image_scaling.hpp) and
// written as 8/16-bit grayscale or, through a colour map, as 8-bit RGB.
#pragma once

#include <filesystem>
#include <string>

#include "scandiff/core/array.hpp"
#include "scandiff/io/image_scaling.hpp"

namespace scandiff::io {

struct PngOptions {
  int bit_depth = 8;              // 8 or 16; 16 only with the "gray" colour map
  std::string colormap = "gray";  // "gray" gives grayscale, any other map (colormap.hpp) 8-bit RGB
  DisplayRange range;             // clip limits and stretch
  int scale = 1;                  // each pixel drawn as scale×scale (1..64), for small maps
  // RGB only: a vertical colour bar right of the image, the full map from vmin (bottom) to vmax
  // (top), labelled with both limits ("%.3g", 5x7-pixel digits).
  bool colorbar = false;
};

// Writes `image2d` (any dtype, any strides, shape (H, W) with H, W >= 1) as a PNG. Pixel levels
// are display_levels(image2d, range, 2^bit_depth - 1); colour maps index their 256-entry table
// with the 8-bit level. NaN pixels get level 0. The file appears only when complete
// (AtomicOutput). Throws InvalidArgument for a bad image or options, IoError naming the file
// when it cannot be written.
void write_png(const std::filesystem::path& path, const Array& image2d, const PngOptions& options = {});

// Reads a PNG as u8 (H, W) for 8-bit (or lower, expanded) grayscale, u8 (H, W, 3) for RGB and
// palette images, u16 (H, W) or (H, W, 3) for 16-bit ones. An alpha channel is dropped (with a
// warning in the log); transparency is ignored. Throws IoError when the file cannot be opened
// and FormatError (naming the file) when it is not a valid PNG or is truncated.
Array read_png(const std::filesystem::path& path);

}  // namespace scandiff::io
