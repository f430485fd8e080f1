// Element types of detector data and results, with compile-time dispatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "scandiff/core/error.hpp"

namespace scandiff {

enum class DType : std::uint8_t { u8, u16, u32, i32, f32, f64 };

// Bytes per element.
constexpr std::size_t size_of(DType t) {
  switch (t) {
    case DType::u8: return 1;
    case DType::u16: return 2;
    case DType::u32: case DType::i32: case DType::f32: return 4;
    case DType::f64: return 8;
  }
  return 0;
}

// Short lower-case name as numpy spells it: "uint16", "float32", ...
std::string_view name_of(DType t);
// Parses "u8"/"uint8", "u16"/"uint16", ..., "f32"/"float32", "f64"/"float64".
// Throws InvalidArgument naming `what` (e.g. "--dtype") when unknown.
DType parse_dtype(std::string_view text, std::string_view what = "dtype");

template <class T> struct dtype_of;
template <> struct dtype_of<std::uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<std::uint16_t> { static constexpr DType value = DType::u16; };
template <> struct dtype_of<std::uint32_t> { static constexpr DType value = DType::u32; };
template <> struct dtype_of<std::int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <class T> inline constexpr DType dtype_v = dtype_of<std::remove_cv_t<T>>::value;

// Calls f(T{}) with T the C++ type of `t`: visit_dtype(t, [&](auto tag){ using T = decltype(tag); ...}).
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::u8: return f(std::uint8_t{});
    case DType::u16: return f(std::uint16_t{});
    case DType::u32: return f(std::uint32_t{});
    case DType::i32: return f(std::int32_t{});
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
  }
  throw InvalidArgument("unknown dtype code " + std::to_string(static_cast<int>(t)));
}

constexpr bool is_integer(DType t) { return t != DType::f32 && t != DType::f64; }

// The dtype that holds the exact sum of up to 65536 elements of `t` (binning in Q or R):
//   uint8, uint16 -> uint32   (65535 * 65536 < 2^32)
//   uint32, int32 -> float64  (exact: 2^32 * 65536 < 2^53)
//   float32 -> float32 (summed in float64, rounded once), float64 -> float64
DType sum_dtype(DType t);

}  // namespace scandiff
