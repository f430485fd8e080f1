#include "mib_decode.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace scandiff::io::mib_decode {

namespace {

// Byte swaps. 16-bit: shifts on values loaded with memcpy, which the compiler vectorises
// with baseline SSE2 whatever the alignment. 32-bit: compilers turn the shift form into a
// scalar bswap, so SSE2 does it explicitly (bytes within 16-bit lanes, then the halves).
void swap16(const std::byte* src, std::uint16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t v;
    std::memcpy(&v, src + 2 * i, 2);
    out[i] = static_cast<std::uint16_t>((v >> 8) | (v << 8));
  }
}

void swap32(const std::byte* src, std::uint32_t* out, std::size_t n) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 4 * i));
    x = _mm_or_si128(_mm_slli_epi16(x, 8), _mm_srli_epi16(x, 8));
    x = _mm_shufflehi_epi16(_mm_shufflelo_epi16(x, _MM_SHUFFLE(2, 3, 0, 1)), _MM_SHUFFLE(2, 3, 0, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), x);
  }
#endif
  for (; i < n; ++i) {
    std::uint32_t v;
    std::memcpy(&v, src + 4 * i, 4);
    out[i] = (v >> 24) | ((v >> 8) & 0x0000FF00u) | ((v << 8) & 0x00FF0000u) | (v << 24);
  }
}

std::uint64_t load64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The 64-bit big-endian word as a native value (b0 << 56 | ... | b7).
std::uint64_t word_be(const std::byte* p) {
  const std::uint64_t v = load64(p);
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(v);
  return v;
}

// bits[b] = the 8 pixels of byte b, least significant bit first, one byte each;
// reversed[b] = the same pixels, most significant bit first.
struct BitTables {
  std::array<std::array<std::uint8_t, 8>, 256> bits{}, reversed{};
  BitTables() {
    for (std::size_t b = 0; b < 256; ++b)
      for (std::size_t k = 0; k < 8; ++k) {
        bits[b][k] = static_cast<std::uint8_t>((b >> k) & 1);
        reversed[b][7 - k] = bits[b][k];
      }
  }
};
const BitTables bit_tables;

// RAW rows (reference §4): `n` pixels starting at the word at `src`, pixel k of a word in
// bits [k*w, (k+1)*w) of its big-endian value. Forward: out[p] = pixel p. Reversed (for
// the flipped quad chips): out[n-1-p] = pixel p, i.e. words from the last, pixels of a word
// from the most significant.
//  w = 1: the last byte of a word holds pixels 0-7 (LSB first).
//  w = 8: pixel k is byte 7-k: forward = the word's bytes reversed, reversed = as stored.
//  w = 16: pixel k is the big-endian u16 at byte 6-2k: forward = the native value of the
//          word stored little-endian; reversed = each big-endian u16 in stored order.
void raw_1bit(const std::byte* src, std::uint8_t* out, std::size_t n, bool rev) {
  const std::size_t words = n / 64;
  for (std::size_t w = 0; w < words; ++w, src += 8) {
    std::uint8_t* o = rev ? out + (words - 1 - w) * 64 : out + w * 64;
    for (std::size_t j = 0; j < 8; ++j) {
      const auto b = static_cast<std::uint8_t>(src[j]);
      if (rev)
        std::memcpy(o + 8 * j, bit_tables.reversed[b].data(), 8);
      else
        std::memcpy(o + 8 * (7 - j), bit_tables.bits[b].data(), 8);
    }
  }
}

void raw_8bit(const std::byte* src, std::uint8_t* out, std::size_t n, bool rev) {
  const std::size_t words = n / 8;
  for (std::size_t w = 0; w < words; ++w, src += 8) {
    if (rev) {
      std::memcpy(out + (words - 1 - w) * 8, src, 8);
    } else {
      // Pixel k = byte k of the big-endian value, least significant first: a little-endian
      // store of it (word_be swaps on little-endian hosts; swap back on big-endian ones).
      std::uint64_t v = word_be(src);
      if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
      std::memcpy(out + w * 8, &v, 8);
    }
  }
}

void raw_16bit(const std::byte* src, std::uint16_t* out, std::size_t n, bool rev) {
  const std::size_t words = n / 4;
  for (std::size_t w = 0; w < words; ++w, src += 8) {
    if (rev) {
      swap16(src, out + (words - 1 - w) * 4, 4);
    } else {
      const std::uint64_t v = word_be(src);
      for (std::size_t k = 0; k < 4; ++k) out[w * 4 + k] = static_cast<std::uint16_t>(v >> (16 * k));
    }
  }
}

std::size_t raw_bytes(std::size_t pixels, int depth) {
  return depth == 1 ? pixels / 8 : depth == 6 ? pixels : 2 * pixels;
}

// Pixels [x0, x0 + n) of raw row y, forward or reversed, as T.
template <class T>
void raw_span(const MibFrameHeader& h, const std::byte* src, std::int64_t y, std::int64_t raw_w, std::int64_t x0,
              std::int64_t n, bool rev, T* out) {
  const auto first = static_cast<std::size_t>(y * raw_w + x0), count = static_cast<std::size_t>(n);
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    if (h.counter_depth == 1)
      raw_1bit(src + raw_bytes(first, 1), out, count, rev);
    else
      raw_8bit(src + raw_bytes(first, 6), out, count, rev);
  } else if constexpr (std::is_same_v<T, std::uint16_t>) {
    raw_16bit(src + raw_bytes(first, 12), out, count, rev);
  } else {
    // 24-bit: the high 12-bit frame, then the low one, each raw_w x height 16-bit pixels.
    const std::size_t half = static_cast<std::size_t>(raw_w * h.height) * 2;
    std::uint16_t hi[1024], lo[1024];
    for (std::size_t done = 0; done < count; done += 1024) {
      const std::size_t m = std::min<std::size_t>(1024, count - done);
      // Reversed: this chunk holds the last pixels of the span.
      const std::size_t at = rev ? first + count - done - m : first + done;
      raw_16bit(src + 2 * at, hi, m, rev);
      raw_16bit(src + half + 2 * at, lo, m, rev);
      for (std::size_t i = 0; i < m; ++i) out[done + i] = (static_cast<std::uint32_t>(hi[i]) << 12) + lo[i];
    }
  }
}

// Asks for raw row y + 4 (both halves of a 24-bit frame) ahead of use. The quad decoder
// reads each row in three pieces, and the hardware prefetcher does not follow that on
// memory-mapped page-cache data: decoding ran at a third of the speed without this.
// Always inlined: GCC deletes calls to a function whose only effect is prefetching.
[[gnu::always_inline]] inline void prefetch_row(const MibFrameHeader& h, const std::byte* src, std::int64_t y) {
  constexpr std::int64_t distance = 4;
  if (y + distance >= h.height) return;
  const std::size_t halves = h.counter_depth == 24 ? 2 : 1;
  const std::size_t half = h.data_bytes / halves, row = half / static_cast<std::size_t>(h.height);
  for (std::size_t k = 0; k < halves; ++k) {
    const std::byte* p = src + k * half + static_cast<std::size_t>(y + distance) * row;
    for (std::size_t b = 0; b < row; b += 64) __builtin_prefetch(p + b);
  }
}

template <class T>
void decode_raw(const MibFrameHeader& h, const std::byte* src, T* out) {
  const std::int64_t raw_w = h.counter_depth == 24 ? h.width / 2 : h.width;
  if (!h.quad()) {
    for (std::int64_t y = 0; y < h.height; ++y) {
      prefetch_row(h, src, y);
      raw_span(h, src, y, raw_w, 0, raw_w, false, out + y * raw_w);
    }
    return;
  }
  // Raw row y = chips [4|3|2|1] of cw pixels: chips 1|2 to output row y as stored, chips 3|4
  // (raw columns 0..2cw-1) to output row 2*rows-1-y right to left.
  const std::int64_t cw = raw_w / 4, ow = 2 * cw, rows = 2 * h.height;
  for (std::int64_t y = 0; y < h.height; ++y) {
    prefetch_row(h, src, y);
    T* top = out + y * ow;
    raw_span(h, src, y, raw_w, 3 * cw, cw, false, top);       // chip 1
    raw_span(h, src, y, raw_w, 2 * cw, cw, false, top + cw);  // chip 2
    raw_span(h, src, y, raw_w, 0, 2 * cw, true, out + (rows - 1 - y) * ow);
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
