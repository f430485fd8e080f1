#include "scandiff/io/png.hpp"

#include "bitmap_font.hpp"

#include <png.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "input_file.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/colormap.hpp"
#include "scandiff/version.hpp"

namespace scandiff::io {
namespace {

// libpng reports errors by calling an error function that must not return; we record the
// message here and longjmp back to the setjmp in the phase functions below. Everything that
// libpng can jump over is a plain C object, so no C++ destructor is ever skipped.
struct PngState {
  char message[512];
  const char* file;  // for warnings
};

void on_png_error(png_structp png, png_const_charp msg) {
  auto* st = static_cast<PngState*>(png_get_error_ptr(png));
  if (st) std::snprintf(st->message, sizeof st->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp png, png_const_charp msg) {
  // Called from C: nothing may propagate out of here.
  try {
    const auto* st = static_cast<const PngState*>(png_get_error_ptr(png));
    log_warning("libpng: {}: {}", st && st->file ? st->file : "?", msg ? msg : "");
  } catch (...) {
  }
}

using FilePtr = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

// ---- writing ----

struct PngWriteSpec {
  png_uint_32 width, height;
  int bit_depth, color_type;
};

// The libpng calls of a write. Returns false when libpng reported an error (message in the
// error state). No object with a non-trivial destructor may live in this frame.
bool png_write_phase(png_structp png, png_infop info, std::FILE* fp, const PngWriteSpec& spec, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, fp);
  png_set_IHDR(png, info, spec.width, spec.height, spec.bit_depth, spec.color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_text text{};
  char key[] = "Software";
  char value[] = "scandiff " SCANDIFF_VERSION;
  text.compression = PNG_TEXT_COMPRESSION_NONE;
  text.key = key;
  text.text = value;
  png_set_text(png, info, &text, 1);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, info);
  return true;
}

struct PngWriteStructs {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteStructs() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

// ---- reading ----

struct PngReadHeader {
  png_uint_32 width = 0, height = 0;
  int file_bit_depth = 0, file_color_type = 0;  // as stored
  int bit_depth = 0, channels = 0;              // after our transforms
  png_size_t rowbytes = 0;
};

// Reads the header and sets up the transforms (palette -> RGB, low-bit gray -> 8 bits,
// alpha stripped, 16-bit samples in host order). No non-trivial objects in this frame.
bool png_read_header_phase(png_structp png, png_infop info, std::FILE* fp, PngReadHeader& h) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, fp);
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  int interlace = 0;
  png_get_IHDR(png, info, &h.width, &h.height, &h.file_bit_depth, &h.file_color_type, &interlace, nullptr,
               nullptr);
  if (h.file_color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (h.file_color_type == PNG_COLOR_TYPE_GRAY && h.file_bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (h.file_color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  if (h.file_bit_depth == 16 && std::endian::native == std::endian::little) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  h.bit_depth = png_get_bit_depth(png, info);
  h.channels = png_get_channels(png, info);
  h.rowbytes = png_get_rowbytes(png, info);
  return true;
}

bool png_read_pixels_phase(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

struct PngReadStructs {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReadStructs() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

int stored_channels(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 4;
  }
}

}  // namespace

void write_png(const std::filesystem::path& path, const Array& image2d, const PngOptions& options) {
  const std::string name = path.string();
  if (image2d.rank() != 2)
    throw InvalidArgument(
        fmt::format("{}: PNG needs a 2D image, got shape {}", name, shape_string(image2d.shape())));
  const std::int64_t h = image2d.shape(0), w = image2d.shape(1);
  if (h < 1 || w < 1 || h > PNG_UINT_31_MAX || w > PNG_UINT_31_MAX)
    throw InvalidArgument(fmt::format("{}: cannot write a PNG of shape {}", name, shape_string(image2d.shape())));
  if (options.bit_depth != 8 && options.bit_depth != 16)
    throw InvalidArgument(fmt::format("{}: PNG bit depth must be 8 or 16, got {}", name, options.bit_depth));
  const bool gray = options.colormap == "gray";
  const auto table = colormap(options.colormap);  // InvalidArgument for unknown names
  if (options.bit_depth == 16 && !gray)
    throw InvalidArgument(fmt::format("{}: 16-bit PNG is grayscale only; colour map '{}' writes 8-bit RGB", name,
                                      options.colormap));

  if (options.scale < 1 || options.scale > 64)
    throw InvalidArgument(fmt::format("{}: PNG scale must be 1..64, got {}", name, options.scale));
  if (options.colorbar && gray)
    throw InvalidArgument(fmt::format("{}: a colour bar needs a colour map other than gray", name));

  // All pixel work happens before libpng is involved.
  const std::uint16_t max_level = options.bit_depth == 16 ? 65535 : 255;
  const auto levels = display_levels(image2d, options.range, max_level);
  const std::size_t channels = gray ? 1 : 3, bytes = options.bit_depth / 8;
  std::int64_t out_w = w, out_h = h;
  std::vector<png_byte> pixels;
  if (options.scale == 1 && !options.colorbar) {
    pixels.resize(static_cast<std::size_t>(w) * channels * bytes * static_cast<std::size_t>(h));
    if (gray && bytes == 1) {
      for (std::size_t i = 0; i < levels.size(); ++i) pixels[i] = static_cast<png_byte>(levels[i]);
    } else if (gray) {  // PNG stores 16-bit samples big-endian
      for (std::size_t i = 0; i < levels.size(); ++i) {
        pixels[2 * i] = static_cast<png_byte>(levels[i] >> 8);
        pixels[2 * i + 1] = static_cast<png_byte>(levels[i] & 0xff);
      }
    } else {
      for (std::size_t i = 0; i < levels.size(); ++i) std::memcpy(&pixels[3 * i], table[levels[i]].data(), 3);
    }
  } else {
    // Scaled image (nearest neighbour) on a white canvas, then optionally the bar and its labels.
    const std::int64_t s = options.scale, text = 2, gap = 6, bar_w = 16;
    const DisplayLimits lim = display_limits(image2d, options.range);
    const std::string top = fmt::format("{:.3g}", lim.vmax), bottom = fmt::format("{:.3g}", lim.vmin);
    const std::int64_t label_w = static_cast<std::int64_t>(std::max(top.size(), bottom.size())) * (font::glyph_w + 1) * text;
    const std::int64_t img_w = w * s, img_h = h * s;
    out_h = options.colorbar ? std::max<std::int64_t>(img_h, 96) : img_h;
    out_w = img_w + (options.colorbar ? gap + bar_w + gap / 2 + label_w + gap / 2 : 0);
    if (gray && bytes == 2) throw InvalidArgument(fmt::format("{}: 16-bit PNG cannot be scaled", name));
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(out_w * out_h * 3), 255);
    for (std::int64_t y = 0; y < img_h; ++y)
      for (std::int64_t x = 0; x < img_w; ++x) {
        const auto l = levels[static_cast<std::size_t>((y / s) * w + x / s)];
        const auto o = static_cast<std::size_t>((y * out_w + x) * 3);
        if (gray) rgb[o] = rgb[o + 1] = rgb[o + 2] = static_cast<std::uint8_t>(l);
        else std::memcpy(&rgb[o], table[l].data(), 3);
      }
    if (options.colorbar) {
      const std::int64_t x0 = img_w + gap, y0 = font::glyph_h * text, y1 = out_h - font::glyph_h * text - 1;
      for (std::int64_t y = y0; y <= y1; ++y) {
        const auto l = static_cast<std::size_t>(std::lround(255.0 * static_cast<double>(y1 - y) / static_cast<double>(y1 - y0)));
        for (std::int64_t x = x0; x < x0 + bar_w; ++x) std::memcpy(&rgb[static_cast<std::size_t>((y * out_w + x) * 3)], table[l].data(), 3);
      }
      const std::int64_t lx = x0 + bar_w + gap / 2;
      font::draw(rgb, out_w, out_h, lx, 0, top, static_cast<int>(text));
      font::draw(rgb, out_w, out_h, lx, out_h - font::glyph_h * text, bottom, static_cast<int>(text));
    }
    if (gray) {
      pixels.resize(static_cast<std::size_t>(out_w * out_h));
      for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = rgb[3 * i];
    } else {
      pixels.assign(rgb.begin(), rgb.end());
    }
  }
  const std::size_t rowbytes = static_cast<std::size_t>(out_w) * channels * bytes;
  std::vector<png_bytep> rows(static_cast<std::size_t>(out_h));
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = pixels.data() + y * rowbytes;

  AtomicOutput out(path);
  FilePtr fp(std::fopen(out.temp_path().c_str(), "wb"), &std::fclose);
  if (!fp) throw IoError(fmt::format("{}: cannot write PNG: {}", name, std::strerror(errno)));

  PngState state{};
  state.file = name.c_str();
  PngWriteStructs s;
  s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.png || !s.info) throw IoError(fmt::format("{}: cannot write PNG: libpng could not start", name));

  const PngWriteSpec spec{static_cast<png_uint_32>(out_w), static_cast<png_uint_32>(out_h), options.bit_depth,
                          gray ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB};
  if (!png_write_phase(s.png, s.info, fp.get(), spec, rows.data()))
    throw IoError(fmt::format("{}: cannot write PNG: {}", name, state.message));
  // fclose flushes the last buffered bytes: a full disk may only show up here.
  if (std::fclose(fp.release()) != 0)
    throw IoError(fmt::format("{}: cannot write PNG: {}", name, std::strerror(errno)));
  out.commit();
}

Array read_png(const std::filesystem::path& path) {
  const std::string name = path.string();
  const auto file_size = detail::readable_file_size(path, "PNG");
  FilePtr fp(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!fp) throw IoError(fmt::format("{}: cannot read PNG: {}", name, std::strerror(errno)));
  png_byte sig[8] = {};
  if (std::fread(sig, 1, 8, fp.get()) != 8 || png_sig_cmp(sig, 0, 8) != 0)
    throw FormatError(fmt::format("{}: not a PNG file (no PNG signature)", name));

  PngState state{};
  state.file = name.c_str();
  PngReadStructs s;
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
  if (s.png) s.info = png_create_info_struct(s.png);
  if (!s.png || !s.info) throw IoError(fmt::format("{}: cannot read PNG: libpng could not start", name));

  PngReadHeader hdr;
  if (!png_read_header_phase(s.png, s.info, fp.get(), hdr))
    throw FormatError(fmt::format("{}: invalid PNG: {}", name, state.message));

  // Deflate expands at most ~1032:1, so a header claiming far more pixel data than the file
  // can hold is corrupt: reject it before allocating.
  const double stored_row =
      std::ceil(double(hdr.width) * stored_channels(hdr.file_color_type) * hdr.file_bit_depth / 8.0) + 1;
  if (stored_row * double(hdr.height) > 1100.0 * double(file_size) + 65536.0)
    throw FormatError(fmt::format("{}: invalid PNG: header claims {}x{} pixels, more than a {}-byte file can hold",
                                  name, hdr.width, hdr.height, file_size));
  if (hdr.file_color_type & PNG_COLOR_MASK_ALPHA)
    log_warning("{}: the PNG's alpha channel is dropped", name);

  const DType dtype = hdr.bit_depth == 16 ? DType::u16 : DType::u8;
  Shape shape{hdr.height, hdr.width};
  if (hdr.channels == 3) shape.push_back(3);
  if ((hdr.bit_depth != 8 && hdr.bit_depth != 16) || (hdr.channels != 1 && hdr.channels != 3))
    throw FormatError(fmt::format("{}: unsupported PNG layout ({} channels of {} bits)", name, hdr.channels,
                                  hdr.bit_depth));
  Array out(dtype, shape);
  if (hdr.rowbytes != static_cast<png_size_t>(hdr.width) * hdr.channels * size_of(dtype))
    throw FormatError(fmt::format("{}: unexpected PNG row size {}", name, hdr.rowbytes));
  std::vector<png_bytep> rows(hdr.height);
  for (std::size_t y = 0; y < rows.size(); ++y)
    rows[y] = reinterpret_cast<png_bytep>(out.bytes()) + y * hdr.rowbytes;
  if (!png_read_pixels_phase(s.png, s.info, rows.data()))
    throw FormatError(fmt::format("{}: invalid or truncated PNG: {}", name, state.message));
  return out;
}

}  // namespace scandiff::io
