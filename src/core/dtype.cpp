#include "scandiff/core/dtype.hpp"

#include <array>
#include <utility>

namespace scandiff {

std::string_view name_of(DType t) {
  switch (t) {
    case DType::u8: return "uint8";
    case DType::u16: return "uint16";
    case DType::u32: return "uint32";
    case DType::i32: return "int32";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
  }
  return "unknown";
}

DType parse_dtype(std::string_view text, std::string_view what) {
  static constexpr std::array<std::pair<std::string_view, DType>, 12> names{{
      {"u8", DType::u8}, {"uint8", DType::u8}, {"u16", DType::u16}, {"uint16", DType::u16},
      {"u32", DType::u32}, {"uint32", DType::u32}, {"i32", DType::i32}, {"int32", DType::i32},
      {"f32", DType::f32}, {"float32", DType::f32}, {"f64", DType::f64}, {"float64", DType::f64},
  }};
  for (const auto& [n, t] : names)
    if (n == text) return t;
  throw InvalidArgument(std::string(what) + ": unknown element type '" + std::string(text) +
                        "', expected one of uint8, uint16, uint32, int32, float32, float64");
}

DType sum_dtype(DType t) {
  switch (t) {
    case DType::u8:
    case DType::u16: return DType::u32;
    case DType::u32:
    case DType::i32: return DType::f64;
    case DType::f32: return DType::f32;
    case DType::f64: return DType::f64;
  }
  throw InvalidArgument("sum_dtype: unknown dtype code " + std::to_string(static_cast<int>(t)));
}

}  // namespace scandiff
