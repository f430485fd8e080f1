// Fractions of one pixel falling in uniform bins, for the three splitting schemes. Positions are
// in bin units: x = (value − min) / bin width, so bin k spans [k, k+1). Each function appends
// (bin, fraction) pairs with pyFAI's rules (src/xray/pixel_split.cpp states them).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace scandiff::xray::detail {

struct BinFraction {
  std::int64_t bin;  // 1D: radial bin; 2D: rad · npt_azim + azim (pyFAI's bin0 · bins1 + bin1)
  double fraction;
};

// Bounding-box splitting of [x_min, x_max] over `bins` (no splitting when x_min == x_max).
void split_bbox_1d(double x_min, double x_max, std::int64_t bins, std::vector<BinFraction>& out);
// The same on the (radial, azimuthal) grid of bins0 × bins1.
void split_bbox_2d(double x_min, double x_max, double y_min, double y_max, std::int64_t bins0, std::int64_t bins1,
                   std::vector<BinFraction>& out);

// A pixel's quadrilateral: corners (x, y) in order around the pixel.
using Quad = std::array<std::array<double, 2>, 4>;
// Exact area of the quad in each radial strip [k, k+1) for k in [0, bins), normalised by the
// sum over those strips (pyFAI's full splitting, 1D).
void split_full_1d(const Quad& quad, std::int64_t bins, std::vector<BinFraction>& out);
// Exact area of the quad (already clipped to the grid) in each cell, normalised by the sum.
void split_full_2d(const Quad& quad, std::int64_t bins0, std::int64_t bins1, std::vector<BinFraction>& out);

}  // namespace scandiff::xray::detail
