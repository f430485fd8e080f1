#include "scandiff/io/colormap.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io {
namespace {

using Rgb = Rgb8;

// Anchor colours: 8-bit sRGB values sampled at evenly spaced positions t = k / (n - 1) of the
// published 256-entry maps as matplotlib distributes them (viridis, inferno, magma: Smith &
// van der Walt 2015; cividis: Nunez, Anderton & Renslow 2018; turbo: Mikhailov 2019). Linear interpolation of 17 anchors stays within 6 levels of the published
// tables (mean < 1); cividis and turbo bend more sharply and use 33 anchors (max 6 and 2).
constexpr Rgb k_viridis[] = {
    {68, 1, 84}, {72, 24, 106}, {71, 45, 123}, {66, 64, 134}, {59, 82, 139}, {51, 99, 141}, {44, 114, 142},
    {38, 129, 142}, {33, 144, 140}, {31, 159, 136}, {40, 174, 128}, {62, 188, 116}, {93, 201, 99},
    {130, 211, 76}, {171, 220, 50}, {213, 226, 26}, {253, 231, 37},
};
constexpr Rgb k_inferno[] = {
    {0, 0, 4}, {11, 7, 36}, {33, 12, 74}, {60, 9, 101}, {87, 16, 109}, {112, 25, 110}, {137, 34, 106},
    {163, 43, 97}, {187, 55, 85}, {209, 70, 68}, {227, 89, 50}, {241, 113, 30}, {249, 141, 10},
    {252, 171, 15}, {249, 202, 50}, {242, 232, 101}, {252, 255, 164},
};
constexpr Rgb k_magma[] = {
    {0, 0, 4}, {10, 8, 34}, {29, 17, 70}, {54, 16, 106}, {80, 18, 124}, {105, 28, 129}, {130, 38, 129},
    {156, 46, 127}, {182, 55, 121}, {207, 65, 112}, {230, 81, 99}, {245, 105, 92}, {251, 135, 97},
    {254, 165, 113}, {254, 195, 135}, {253, 224, 162}, {252, 253, 191},
};
constexpr Rgb k_cividis[] = {
    {0, 34, 78}, {0, 40, 91}, {0, 46, 106}, {4, 51, 113}, {26, 56, 111}, {39, 62, 110}, {50, 67, 109},
    {59, 73, 108}, {67, 78, 108}, {75, 84, 108}, {82, 89, 109}, {90, 95, 110}, {97, 101, 111},
    {104, 106, 113}, {111, 112, 115}, {117, 118, 118}, {124, 123, 120}, {132, 129, 121}, {139, 135, 120},
    {147, 141, 120}, {155, 147, 118}, {163, 154, 117}, {171, 160, 114}, {179, 166, 112}, {187, 173, 108},
    {195, 180, 105}, {204, 186, 100}, {212, 193, 95}, {221, 201, 88}, {230, 208, 81}, {239, 215, 72},
    {248, 223, 60}, {254, 232, 56},
};
constexpr Rgb k_turbo[] = {
    {48, 18, 59}, {57, 42, 115}, {64, 64, 161}, {68, 86, 199}, {70, 107, 227}, {70, 127, 246}, {66, 147, 255},
    {55, 167, 250}, {41, 187, 236}, {29, 205, 216}, {24, 220, 195}, {30, 232, 176}, {49, 242, 153},
    {76, 249, 126}, {107, 253, 100}, {138, 255, 77}, {163, 253, 60}, {184, 247, 53}, {204, 237, 52},
    {222, 224, 55}, {237, 208, 58}, {248, 192, 58}, {253, 174, 53}, {254, 152, 44}, {251, 128, 34},
    {245, 104, 23}, {236, 82, 15}, {224, 64, 9}, {210, 49, 5}, {192, 35, 2}, {172, 23, 1}, {149, 13, 1},
    {122, 4, 3},
};

// Diverging: Moreland's "cool to warm" (2009), blue through light gray to red, symmetric in
// lightness; for signed maps (strain) centred on 0.
constexpr Rgb k_coolwarm[] = {
    {59, 76, 192}, {77, 104, 215}, {98, 130, 234}, {119, 154, 247}, {141, 176, 254}, {163, 194, 255},
    {184, 208, 249}, {204, 217, 238}, {221, 221, 221}, {236, 211, 197}, {244, 196, 173}, {246, 178, 148},
    {244, 154, 123}, {236, 127, 99}, {222, 96, 77}, {203, 62, 56}, {180, 4, 38},
};

struct Named {
  std::string_view name;
  std::span<const Rgb> anchors;
};

constexpr Rgb k_gray[] = {{0, 0, 0}, {255, 255, 255}};

constexpr Named k_maps[] = {
    {"gray", k_gray},       {"viridis", k_viridis}, {"inferno", k_inferno},
    {"magma", k_magma},     {"cividis", k_cividis}, {"turbo", k_turbo}, {"coolwarm", k_coolwarm},
};

constexpr std::string_view k_names[] = {"gray", "viridis", "inferno", "magma", "cividis", "turbo", "coolwarm"};

// Entry i (0..255) sits at x = i * (n - 1) / 255 along the n anchors; with j = floor(x) and
// f = x - j it is round((1 - f) * anchor[j] + f * anchor[j + 1]) per channel. Entries 0 and
// 255 are the first and last anchors exactly; gray gives entry i = (i, i, i).
std::array<Rgb, 256> interpolate(std::span<const Rgb> anchors) {
  std::array<Rgb, 256> table{};
  const std::size_t n = anchors.size();
  for (std::size_t i = 0; i < 256; ++i) {
    const double x = static_cast<double>(i) * static_cast<double>(n - 1) / 255.0;
    const std::size_t j = std::min(static_cast<std::size_t>(x), n - 2);
    const double f = x - static_cast<double>(j);
    for (std::size_t c = 0; c < 3; ++c) {
      const double v = (1 - f) * anchors[j][c] + f * anchors[j + 1][c];
      table[i][c] = static_cast<std::uint8_t>(std::lround(v));
    }
  }
  return table;
}

}  // namespace

std::span<const std::string_view> colormap_names() { return k_names; }

std::span<const Rgb8> colormap(std::string_view name) {
  // Built on first use (thread-safe static initialisation), then shared read-only.
  static const std::vector<std::array<Rgb, 256>> tables = [] {
    std::vector<std::array<Rgb, 256>> t;
    for (const auto& m : k_maps) t.push_back(interpolate(m.anchors));
    return t;
  }();
  for (std::size_t i = 0; i < std::size(k_maps); ++i)
    if (k_maps[i].name == name) return tables[i];
  throw InvalidArgument(
      fmt::format("unknown colour map '{}': expected one of {}", name, fmt::join(k_names, ", ")));
}

}  // namespace scandiff::io
