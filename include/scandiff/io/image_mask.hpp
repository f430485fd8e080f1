// Detector masks (qy, qx) as uint8 arrays, 1 = masked (excluded), 0 = used — from a mask
// image file (any non-zero pixel is masked, as pyFAI and Dioptas read masks) or from
// thresholds on an image (e.g. Pilatus gaps hold -1/-2, dead pixels 0, hot ones huge).
#pragma once

#include <filesystem>
#include <optional>

#include "scandiff/core/array.hpp"

namespace scandiff::io {

// 1 where `image` (2D, any dtype) is non-zero (NaN counts as non-zero), 0 elsewhere.
Array mask_from_image(const Array& image);

// Reads a single-image file (TIFF/EDF/CBF, see image_file.hpp) as a mask.
Array read_mask(const std::filesystem::path& path);

// 1 where image < below or image > above (either bound optional) or image is NaN, else 0.
// Throws InvalidArgument unless `image` is 2D.
Array threshold_mask(const Array& image, std::optional<double> below, std::optional<double> above);

// Element-wise OR of two masks of the same shape into `into`; throws InvalidArgument on a
// shape mismatch (naming both shapes).
void merge_mask(Array& into, const Array& other);

}  // namespace scandiff::io
