// Colour maps for rendering scalar images: 256 sRGB entries each, index 0 for the
// lowest display level and 255 for the highest.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace scandiff::io {

using Rgb8 = std::array<std::uint8_t, 3>;

// The names colormap() accepts: "gray", "viridis", "inferno", "magma", "cividis", "turbo", and the
// diverging "coolwarm" (blue - gray - red, for signed maps such as strain).
std::span<const std::string_view> colormap_names();

// The 256-entry table of colour map `name` (case-sensitive). The tables are built once and
// live for the whole program. Throws InvalidArgument listing the valid names when unknown.
std::span<const Rgb8> colormap(std::string_view name);

}  // namespace scandiff::io
