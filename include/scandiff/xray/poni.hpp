// pyFAI geometry files (.poni, versions 1, 2 and 2.1): the sample-detector distance, the point
// of normal incidence (PONI) and three rotations, plus the detector's pixel size and orientation.
// Conventions (pyFAI's): axis 1 = rows (slow, "y"), axis 2 = columns (fast, "x"); pixel (i, j)
// spans [i, i+1)·pixel1 × [j, j+1)·pixel2 metres, its centre at ((i+0.5)·pixel1, (j+0.5)·pixel2).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace scandiff::xray {

struct PoniGeometry {
  double distance_m = 0;    // sample -> PONI, orthogonal to the detector plane
  double poni1_m = 0;       // PONI along axis 1 (rows) from the detector origin
  double poni2_m = 0;       // PONI along axis 2 (columns)
  double rot1_rad = 0;      // left-handed about axis 1
  double rot2_rad = 0;      // left-handed about axis 2
  double rot3_rad = 0;      // right-handed about the beam
  double wavelength_m = 0;  // 0 = unknown (2θ, χ and r still work; q and d need it)
  double pixel1_m = 0;      // pixel size along axis 1
  double pixel2_m = 0;      // pixel size along axis 2
  // EXIF-like detector orientation (pyFAI >= 2023.12): 3 = native (default), 2 = rows flipped
  // (top-right), 1 = rows and columns flipped, 4 = columns flipped. A flipped axis maps pixel
  // index i of the image to geometric index (n - 1 - i).
  int orientation = 3;
  std::string detector = "Detector";  // the detector class name from the file (informative)
  double poni_version = 1;            // 1, 2 or 2.1, as read (written files use 2.1)
};

// Parses .poni text (pyFAI's rules: '#' lines and lines without ':' skipped, keys lower-cased,
// the last value of a repeated key wins; v2/v2.1 pixel sizes and orientation from the
// Detector_config JSON). `source` names the input in messages. Throws FormatError when a key
// is missing or not a number, InvalidArgument for absurd values (distance <= 0 or > 100 m,
// pixel size <= 0 or > 1 m, |rotation| > 2π, wavelength < 0 or > 1e-6 m, orientation
// outside 1..4).
PoniGeometry parse_poni(std::string_view text, std::string_view source = "poni text");
// Reads and parses a .poni file; IoError when it cannot be read.
PoniGeometry read_poni(const std::filesystem::path& path);

// .poni text in pyFAI's v2.1 layout (Detector_config JSON with orientation), numbers with 17
// significant digits so a round trip is exact.
std::string format_poni(const PoniGeometry& geometry);
// Writes format_poni() to `path` atomically.
void write_poni(const std::filesystem::path& path, const PoniGeometry& geometry);

// The geometry of an electron diffraction pattern on a flat detector perpendicular to the beam:
// camera length L (m) and the pattern centre (row, column, pixels, pyFAI's centre convention:
// a pixel's centre is at index + 0.5) become distance = L, PONI = centre · pixel, no rotation.
PoniGeometry electron_geometry(double pixel_size_m, double camera_length_m, double wavelength_m,
                               double center_row_px, double center_col_px);
// The same from a reciprocal pixel size Δk (Å⁻¹ per pixel, k = 1/d = 2 sin θ / λ): a virtual
// pixel of 100 µm at L = pixel / (λ[Å] · Δk), so that k = r / (λ L) per pixel at small angles.
PoniGeometry electron_geometry_reciprocal(double inv_A_per_pixel, double wavelength_m, double center_row_px,
                                          double center_col_px);

}  // namespace scandiff::xray
