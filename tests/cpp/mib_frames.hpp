// A tiny reader of Merlin .mib frames for tests, independent of the library: every frame is an
// ASCII header (its size in bytes is field 2 of the comma-separated header) followed by
// big-endian uint16 pixels, rows of `width` values. Only for U16 files.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"

namespace scandiff::test {

// Frames of an U16 .mib file as a float64 (n, height, width) array.
inline Array read_mib_u16(const std::string& path, std::int64_t height, std::int64_t width) {
  std::ifstream f(path, std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (raw.size() < 64) throw std::runtime_error("short mib file " + path);
  std::size_t c1 = raw.find(','), c2 = raw.find(',', c1 + 1), c3 = raw.find(',', c2 + 1);
  const std::size_t header = std::stoul(raw.substr(c2 + 1, c3 - c2 - 1));
  const std::size_t frame_bytes = header + static_cast<std::size_t>(height * width) * 2;
  const auto n = static_cast<std::int64_t>(raw.size() / frame_bytes);
  Array out(DType::f64, {n, height, width});
  double* p = out.data<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    const auto* px = reinterpret_cast<const unsigned char*>(raw.data() + static_cast<std::size_t>(i) * frame_bytes + header);
    for (std::int64_t k = 0; k < height * width; ++k) p[i * height * width + k] = px[2 * k] * 256.0 + px[2 * k + 1];
  }
  return out;
}

// Frame i of a (n, h, w) stack as a (h, w) array (a copy).
inline Array frame_of(const Array& stack, std::int64_t i) {
  Array out(stack.dtype(), {stack.shape(1), stack.shape(2)});
  const std::size_t bytes = out.nbytes();
  std::copy(stack.bytes() + static_cast<std::size_t>(i) * bytes, stack.bytes() + static_cast<std::size_t>(i + 1) * bytes,
            out.bytes());
  return out;
}

}  // namespace scandiff::test
