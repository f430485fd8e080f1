// A rectangle of detector pixels, as the SXDM commands take it: columns x0 .. x1 − 1 and rows
// y0 .. y1 − 1 (end-exclusive, integer pixel indices; x = qx = detector column, y = qy = row).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scandiff/core/metadata.hpp"

namespace scandiff::sxdm {

struct DetectorBox {
  std::int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;

  std::int64_t width() const { return x1 - x0; }
  std::int64_t height() const { return y1 - y0; }
  // Throws InvalidArgument naming `what` unless 0 <= x0 < x1 <= frame_x and 0 <= y0 < y1 <= frame_y.
  void check_inside(std::int64_t frame_y, std::int64_t frame_x, std::string_view what) const;
  Metadata to_json() const;  // {"x0":..., "y0":..., "x1":..., "y1":...}
};

// Parses "x0,y0,x1,y1" (four integers, 0 <= x0 < x1, 0 <= y0 < y1); throws InvalidArgument naming
// `what` otherwise (the frame size is checked by check_inside).
DetectorBox parse_detector_box(std::string_view text, std::string_view what = "--box");

}  // namespace scandiff::sxdm
