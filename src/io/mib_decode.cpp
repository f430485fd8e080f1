#include "mib_decode.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace scandiff::io::mib_decode {

namespace {

// Byte swaps written as shifts on values loaded with memcpy, so that the compiler
// vectorises them with baseline SSE2 (no pshufb needed) and alignment does not matter.
void swap16(const std::byte* src, std::uint16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t v;
    std::memcpy(&v, src + 2 * i, 2);
    out[i] = static_cast<std::uint16_t>((v >> 8) | (v << 8));
  }
}

void swap32(const std::byte* src, std::uint32_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t v;
    std::memcpy(&v, src + 4 * i, 4);
    out[i] = (v >> 24) | ((v >> 8) & 0x0000FF00u) | ((v << 8) & 0x00FF0000u) | (v << 24);
  }
}

// bits[b] = the 8 pixels of byte b, least significant bit first, one byte each.
struct BitTable {
  std::array<std::array<std::uint8_t, 8>, 256> bits{};
  BitTable() {
    for (int b = 0; b < 256; ++b)
      for (int k = 0; k < 8; ++k) bits[static_cast<std::size_t>(b)][static_cast<std::size_t>(k)] =
          static_cast<std::uint8_t>((b >> k) & 1);
  }
};
const BitTable bit_table;

// One RAW row of `n` pixels (n a multiple of the pixels per word). Word bytes b0..b7 in
// file order form the big-endian value b0<<56 | ... | b7, so pixel k of the word lives in
// byte 7 - k*w/8: the last byte of the word holds the first pixels.
void raw_row_1bit(const std::byte* src, std::uint8_t* out, std::size_t n) {
  for (std::size_t w = 0; w < n / 64; ++w, src += 8, out += 64)
    for (std::size_t j = 0; j < 8; ++j)
      std::memcpy(out + 8 * (7 - j), bit_table.bits[static_cast<std::uint8_t>(src[j])].data(), 8);
}

void raw_row_8bit(const std::byte* src, std::uint8_t* out, std::size_t n) {
  for (std::size_t w = 0; w < n / 8; ++w, src += 8, out += 8)
    for (std::size_t k = 0; k < 8; ++k) out[k] = static_cast<std::uint8_t>(src[7 - k]);
}

void raw_row_16bit(const std::byte* src, std::uint16_t* out, std::size_t n) {
  for (std::size_t w = 0; w < n / 4; ++w, src += 8, out += 4)
    for (std::size_t k = 0; k < 4; ++k)
      out[k] = static_cast<std::uint16_t>((static_cast<unsigned>(src[6 - 2 * k]) << 8) |
                                          static_cast<unsigned>(src[7 - 2 * k]));
}

// Raw row y of the frame, decoded into `out` (raw_w pixels of T).
template <class T>
void raw_row(const MibFrameHeader& h, const std::byte* src, std::int64_t y, std::int64_t raw_w, T* out) {
  const auto n = static_cast<std::size_t>(raw_w);
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    if (h.counter_depth == 1)
      raw_row_1bit(src + static_cast<std::size_t>(y) * n / 8, out, n);
    else
      raw_row_8bit(src + static_cast<std::size_t>(y) * n, out, n);
  } else if constexpr (std::is_same_v<T, std::uint16_t>) {
    raw_row_16bit(src + static_cast<std::size_t>(y) * n * 2, out, n);
  } else {
    // 24-bit: the high 12-bit frame, then the low one, each raw_w x height 16-bit pixels.
    std::uint16_t hi[4096], lo[4096];
    const std::size_t half = n * static_cast<std::size_t>(h.height) * 2;
    for (std::size_t x0 = 0; x0 < n; x0 += 4096) {
      const std::size_t m = std::min<std::size_t>(4096, n - x0);
      raw_row_16bit(src + (static_cast<std::size_t>(y) * n + x0) * 2, hi, m);
      raw_row_16bit(src + half + (static_cast<std::size_t>(y) * n + x0) * 2, lo, m);
      for (std::size_t i = 0; i < m; ++i) out[x0 + i] = (static_cast<std::uint32_t>(hi[i]) << 12) + lo[i];
    }
  }
}

template <class T>
void decode_raw(const MibFrameHeader& h, const std::byte* src, T* out) {
  const std::int64_t raw_w = h.counter_depth == 24 ? h.width / 2 : h.width;
  if (!h.quad()) {
    for (std::int64_t y = 0; y < h.height; ++y) raw_row(h, src, y, raw_w, out + y * raw_w);
    return;
  }
  const std::int64_t cw = raw_w / 4, ow = 2 * cw, rows = 2 * h.height;
  thread_local std::vector<T> row;
  row.resize(static_cast<std::size_t>(raw_w));
  for (std::int64_t y = 0; y < h.height; ++y) {
    raw_row(h, src, y, raw_w, row.data());
    T* top = out + y * ow;
    std::copy_n(row.data() + 3 * cw, cw, top);       // chip 1
    std::copy_n(row.data() + 2 * cw, cw, top + cw);  // chip 2
    T* bottom = out + (rows - 1 - y) * ow;           // chips 3 | 4, flipped in x and y
    std::reverse_copy(row.data(), row.data() + 2 * cw, bottom);
  }
}

template <class T>
void place(const T* in, std::int64_t fy, std::int64_t fx, bool flip, bool gap, T* out) {
  const std::int64_t ox = placed_extent(fx, gap), oy = placed_extent(fy, gap);
  if (gap) std::fill_n(out, oy * ox, T{0});
  const std::int64_t hy = fy / 2, hx = fx / 2;
  for (std::int64_t r = 0; r < fy; ++r) {
    std::int64_t d = flip ? fy - 1 - r : r;
    if (gap && d >= hy) d += 3;
    const T* s = in + r * fx;
    T* o = out + d * ox;
    if (!gap) {
      std::copy_n(s, fx, o);
    } else {
      std::copy_n(s, hx, o);
      std::copy_n(s + hx, fx - hx, o + hx + 3);
    }
  }
}

}  // namespace

void decode_frame(const MibFrameHeader& h, const std::byte* src, std::byte* out) {
  const auto n = static_cast<std::size_t>(h.width * h.height);
  switch (h.pixel_type) {
    case MibPixelType::u08: std::memcpy(out, src, n); return;
    case MibPixelType::u16: swap16(src, reinterpret_cast<std::uint16_t*>(out), n); return;
    case MibPixelType::u32: swap32(src, reinterpret_cast<std::uint32_t*>(out), n); return;
    case MibPixelType::r64:
      if (h.dtype == DType::u8) decode_raw(h, src, reinterpret_cast<std::uint8_t*>(out));
      else if (h.dtype == DType::u16) decode_raw(h, src, reinterpret_cast<std::uint16_t*>(out));
      else decode_raw(h, src, reinterpret_cast<std::uint32_t*>(out));
      return;
  }
}

void place_frame(const std::byte* frame, std::int64_t frame_y, std::int64_t frame_x, DType dtype, bool flip_ud,
                 bool gap_cross, std::byte* out) {
  switch (dtype) {
    case DType::u8:
      place(reinterpret_cast<const std::uint8_t*>(frame), frame_y, frame_x, flip_ud, gap_cross,
            reinterpret_cast<std::uint8_t*>(out));
      return;
    case DType::u16:
      place(reinterpret_cast<const std::uint16_t*>(frame), frame_y, frame_x, flip_ud, gap_cross,
            reinterpret_cast<std::uint16_t*>(out));
      return;
    default:
      place(reinterpret_cast<const std::uint32_t*>(frame), frame_y, frame_x, flip_ud, gap_cross,
            reinterpret_cast<std::uint32_t*>(out));
      return;
  }
}

}  // namespace scandiff::io::mib_decode
