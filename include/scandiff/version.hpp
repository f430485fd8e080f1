// scandiff version: the single source of truth (CMake reads it by regex).
#pragma once

#define SCANDIFF_VERSION "0.1.0"

namespace scandiff {
inline constexpr const char* version = SCANDIFF_VERSION;
}  // namespace scandiff
