// Private: a 3x5-pixel font for the characters of numeric labels ("0123456789-+.e"), drawn
// into RGB canvases (colour bar labels). Each glyph row is 3 bits, most significant = left.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace scandiff::io::font {

constexpr int glyph_w = 3, glyph_h = 5;

// Rows of `c`, or all zero for characters outside the set.
inline const std::uint8_t* glyph(char c) {
  static constexpr std::uint8_t digits[10][5] = {
      {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
      {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
  };
  static constexpr std::uint8_t minus[5] = {0, 0, 7, 0, 0}, plus[5] = {0, 2, 7, 2, 0}, dot[5] = {0, 0, 0, 0, 2},
                                e[5] = {7, 5, 7, 4, 7}, none[5] = {0, 0, 0, 0, 0};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  if (c == '-') return minus;
  if (c == '+') return plus;
  if (c == '.') return dot;
  if (c == 'e') return e;
  return none;
}

// Draws `text` at (x, y) (top left) into an RGB canvas of width `w`, each font pixel as
// scale×scale, in black; pixels outside the canvas are skipped.
inline void draw(std::vector<std::uint8_t>& rgb, std::int64_t w, std::int64_t h, std::int64_t x, std::int64_t y,
                 std::string_view text, int scale) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::uint8_t* g = glyph(text[i]);
    const std::int64_t gx = x + static_cast<std::int64_t>(i) * (glyph_w + 1) * scale;
    for (int r = 0; r < glyph_h; ++r)
      for (int c = 0; c < glyph_w; ++c) {
        if (!((g[r] >> (glyph_w - 1 - c)) & 1)) continue;
        for (int sy = 0; sy < scale; ++sy)
          for (int sx = 0; sx < scale; ++sx) {
            const std::int64_t px = gx + c * scale + sx, py = y + r * scale + sy;
            if (px < 0 || py < 0 || px >= w || py >= h) continue;
            const auto o = static_cast<std::size_t>((py * w + px) * 3);
            rgb[o] = rgb[o + 1] = rgb[o + 2] = 0;
          }
      }
  }
}

}  // namespace scandiff::io::font
