#include "scandiff/io/tiff.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "input_file.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/version.hpp"

namespace scandiff::io {
namespace {

// ---- libtiff diagnostics ----
//
// libtiff prints errors and warnings to stderr through process-wide handlers unless told
// otherwise; the library must never print. We install handlers (once) that route warnings to
// scandiff's log and collect errors raised on this thread during a scandiff TIFF call, so
// they end up in the IoError/FormatError we throw. Errors raised outside such a call (another
// component of the process using libtiff) are logged.

thread_local std::string* t_errors = nullptr;     // the current call's error collector
thread_local const std::string* t_file = nullptr;  // the current call's file, for warnings

std::string format_va(const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt ? fmt : "", ap);
  return buf;
}

void on_tiff_error(const char* module, const char* fmt, va_list ap) {
  try {  // called from C: nothing may propagate
    std::string msg = format_va(fmt, ap);
    if (t_errors) {
      if (t_errors->size() < 2000) {
        if (!t_errors->empty()) *t_errors += "; ";
        *t_errors += msg;
      }
    } else {
      log_message(LogLevel::error, fmt::format("libtiff: {}: {}", module ? module : "", msg));
    }
  } catch (...) {
  }
}

// Tags libtiff does not know (detector vendors' private tags, e.g. Pilatus/Dectris 0x9000-0x9010)
// and text tags with embedded NUL bytes (Pilatus ImageDescription, Model, DateTime) do not
// matter to the pixels: they are logged at debug level, other warnings at warning level.
void on_tiff_warning(const char* module, const char* fmt, va_list ap) {
  try {
    if (!log_enabled(LogLevel::debug)) return;
    std::string msg = format_va(fmt, ap);
    const bool harmless = msg.find("Unknown field with tag") != std::string::npos ||
                          msg.find("contains null byte in value") != std::string::npos;
    const LogLevel level = harmless ? LogLevel::debug : LogLevel::warning;
    if (!log_enabled(level)) return;
    const std::string where = t_file ? *t_file + ": " : std::string();
    log_message(level, fmt::format("{}libtiff {}: {}", where, module ? module : "", msg));
  } catch (...) {
  }
}

void install_tiff_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(on_tiff_error);
    TIFFSetWarningHandler(on_tiff_warning);
  });
}

// Collects libtiff's errors for the duration of one read or write on this thread.
class TiffCall {
 public:
  explicit TiffCall(const std::string& file) : prev_errors_(t_errors), prev_file_(t_file) {
    install_tiff_handlers();
    t_errors = &errors;
    t_file = &file;
  }
  ~TiffCall() {
    t_errors = prev_errors_;
    t_file = prev_file_;
  }
  TiffCall(const TiffCall&) = delete;
  TiffCall& operator=(const TiffCall&) = delete;

  // The collected errors, or `fallback` when libtiff said nothing.
  std::string reason(std::string_view fallback) const { return errors.empty() ? std::string(fallback) : errors; }

  std::string errors;

 private:
  std::string* prev_errors_;
  const std::string* prev_file_;
};

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// ---- dtypes ----

struct SampleType {
  std::uint16_t bits, format;
};

SampleType sample_type(DType t) {
  switch (t) {
    case DType::u8: return {8, SAMPLEFORMAT_UINT};
    case DType::u16: return {16, SAMPLEFORMAT_UINT};
    case DType::u32: return {32, SAMPLEFORMAT_UINT};
    case DType::i32: return {32, SAMPLEFORMAT_INT};
    case DType::f32: return {32, SAMPLEFORMAT_IEEEFP};
    case DType::f64: return {64, SAMPLEFORMAT_IEEEFP};
  }
  throw InvalidArgument("unknown dtype");
}

bool dtype_of_sample(std::uint16_t bits, std::uint16_t format, DType& out) {
  const DType all[] = {DType::u8, DType::u16, DType::u32, DType::i32, DType::f32, DType::f64};
  for (DType t : all) {
    const auto s = sample_type(t);
    if (s.bits == bits && s.format == format) {
      out = t;
      return true;
    }
  }
  return false;
}

std::string_view sample_format_name(std::uint16_t f) {
  switch (f) {
    case SAMPLEFORMAT_UINT: return "unsigned integer";
    case SAMPLEFORMAT_INT: return "signed integer";
    case SAMPLEFORMAT_IEEEFP: return "floating point";
    case SAMPLEFORMAT_COMPLEXINT: return "complex integer";
    case SAMPLEFORMAT_COMPLEXIEEEFP: return "complex floating point";
    default: return "untyped";
  }
}

// ---- reading ----

struct PageInfo {
  std::uint32_t width = 0, height = 0;
  DType dtype = DType::u8;
  bool tiled = false;
  std::uint32_t tile_width = 0, tile_height = 0;
  std::uint32_t rows_per_strip = 0;
};

PageInfo page_info(TIFF* tif, const std::string& name, std::size_t page) {
  const auto fail = [&](const std::string& what) {
    return FormatError(fmt::format("{}: page {}: {}", name, page, what));
  };
  PageInfo p;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p.width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p.height))
    throw fail("no image size");
  if (p.width == 0 || p.height == 0) throw fail(fmt::format("empty image ({}x{})", p.width, p.height));

  std::uint16_t spp = 1, bits = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  const bool has_photometric = TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric) != 0;

  if (has_photometric && photometric == PHOTOMETRIC_PALETTE)
    throw fail("palette (indexed colour) images are not supported, only grayscale");
  if (spp != 1)
    throw fail(fmt::format("{} samples per pixel (RGB or with alpha); only grayscale (1 sample) is supported", spp));
  if (has_photometric && photometric != PHOTOMETRIC_MINISBLACK && photometric != PHOTOMETRIC_MINISWHITE)
    throw fail(fmt::format("photometric interpretation {} is not supported, only grayscale", photometric));
  if (has_photometric && photometric == PHOTOMETRIC_MINISWHITE)
    log_warning("{}: page {} is min-is-white; its stored values are returned unchanged", name, page);
  if (!dtype_of_sample(bits, format, p.dtype))
    throw fail(fmt::format("{}-bit {} samples are not supported (supported: 8/16/32-bit unsigned, 32-bit "
                           "signed, 32/64-bit float)",
                           bits, sample_format_name(format)));
  if (!TIFFIsCODECConfigured(compression))
    throw fail(fmt::format("compression scheme {} is not available in this libtiff", compression));

  p.tiled = TIFFIsTiled(tif) != 0;
  if (p.tiled) {
    if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &p.tile_width) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &p.tile_height) ||
        p.tile_width == 0 || p.tile_height == 0)
      throw fail("tiled image without a valid tile size");
  } else {
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &p.rows_per_strip);
    p.rows_per_strip = std::clamp<std::uint32_t>(p.rows_per_strip, 1, p.height);
  }
  return p;
}

void read_striped(TIFF* tif, const PageInfo& p, std::byte* dst, const std::string& name, std::size_t page,
                  const TiffCall& call) {
  const std::size_t rowbytes = std::size_t{p.width} * size_of(p.dtype);
  const std::uint32_t nstrips = TIFFNumberOfStrips(tif);
  const std::uint32_t needed = (p.height + p.rows_per_strip - 1) / p.rows_per_strip;
  if (nstrips < needed)
    throw FormatError(fmt::format("{}: page {}: {} strips where {} are needed", name, page, nstrips, needed));
  for (std::uint32_t s = 0; s < needed; ++s) {
    const std::uint32_t row0 = s * p.rows_per_strip;
    const std::uint32_t rows = std::min(p.rows_per_strip, p.height - row0);
    const auto want = static_cast<tmsize_t>(rows * rowbytes);
    const tmsize_t got = TIFFReadEncodedStrip(tif, s, dst + row0 * rowbytes, want);
    if (got != want)
      throw FormatError(fmt::format("{}: page {}: strip {} is truncated or corrupt: {}", name, page, s,
                                    call.reason("short read")));
  }
}

void read_tiled(TIFF* tif, const PageInfo& p, std::byte* dst, const std::string& name, std::size_t page,
                const TiffCall& call) {
  const std::size_t elem = size_of(p.dtype);
  const auto tile_bytes = static_cast<tmsize_t>(std::size_t{p.tile_width} * p.tile_height * elem);
  if (TIFFTileSize(tif) != tile_bytes)
    throw FormatError(fmt::format("{}: page {}: unexpected tile size {} bytes", name, page, TIFFTileSize(tif)));
  std::vector<std::byte> buf(static_cast<std::size_t>(tile_bytes));
  for (std::uint32_t y = 0; y < p.height; y += p.tile_height) {
    for (std::uint32_t x = 0; x < p.width; x += p.tile_width) {
      const std::uint32_t tile = TIFFComputeTile(tif, x, y, 0, 0);
      if (TIFFReadEncodedTile(tif, tile, buf.data(), tile_bytes) != tile_bytes)
        throw FormatError(fmt::format("{}: page {}: tile {} is truncated or corrupt: {}", name, page, tile,
                                      call.reason("short read")));
      const std::uint32_t rows = std::min(p.tile_height, p.height - y);
      const std::size_t cols = std::min(p.tile_width, p.width - x);
      for (std::uint32_t r = 0; r < rows; ++r)
        std::memcpy(dst + ((std::size_t{y} + r) * p.width + x) * elem, buf.data() + std::size_t{r} * p.tile_width * elem,
                    cols * elem);
    }
  }
}

}  // namespace

void write_tiff(const std::filesystem::path& path, const Array& image, const TiffOptions& options) {
  const std::string name = path.string();
  if (image.rank() != 2 && image.rank() != 3)
    throw InvalidArgument(fmt::format("{}: TIFF needs a 2D image or a 3D stack, got shape {}", name,
                                      shape_string(image.shape())));
  for (auto n : image.shape())
    if (n < 1 || n > 0xffffffffLL)
      throw InvalidArgument(fmt::format("{}: cannot write a TIFF of shape {}", name, shape_string(image.shape())));
  const bool deflate = options.compression == TiffOptions::Compression::deflate;
  if (deflate && (options.deflate_level < 1 || options.deflate_level > 9))
    throw InvalidArgument(fmt::format("{}: deflate level must be 1..9, got {}", name, options.deflate_level));
  if (deflate && !TIFFIsCODECConfigured(COMPRESSION_ADOBE_DEFLATE))
    throw InvalidArgument(fmt::format("{}: this libtiff was built without deflate compression", name));

  const Array data = image.is_contiguous() ? image : image.copy();
  const bool stack = data.rank() == 3;
  const std::int64_t pages = stack ? data.shape(0) : 1;
  const auto height = static_cast<std::uint32_t>(data.shape(stack ? 1 : 0));
  const auto width = static_cast<std::uint32_t>(data.shape(stack ? 2 : 1));
  const auto type = sample_type(data.dtype());
  const std::size_t rowbytes = std::size_t{width} * size_of(data.dtype());
  const std::size_t page_bytes = rowbytes * height;
  // Strips of about 64 KiB: small enough for random access, large enough for deflate.
  const auto rows_per_strip =
      static_cast<std::uint32_t>(std::clamp<std::size_t>(65536 / rowbytes, 1, std::size_t{height}));
  // Classic TIFF offsets are 32-bit: switch to BigTIFF well before 4 GiB.
  const bool bigtiff = data.nbytes() + std::size_t(pages) * 4096 > 0xF0000000ULL;

  AtomicOutput out(path);
  TiffCall call(name);
  TiffPtr tif(TIFFOpen(out.temp_path().c_str(), bigtiff ? "w8" : "w"));
  if (!tif) throw IoError(fmt::format("{}: cannot write TIFF: {}", name, call.reason("cannot create the file")));
  const auto fail = [&](std::string_view what) {
    return IoError(fmt::format("{}: cannot write TIFF ({}): {}", name, what, call.reason("libtiff failed")));
  };

  std::vector<std::byte> scratch(std::size_t{rows_per_strip} * rowbytes);  // libtiff may modify what it encodes
  for (std::int64_t p = 0; p < pages; ++p) {
    TIFF* t = tif.get();
    bool ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width) && TIFFSetField(t, TIFFTAG_IMAGELENGTH, height) &&
              TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, int{type.bits}) &&
              TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, int{type.format}) && TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) &&
              TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) &&
              TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
              TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows_per_strip) &&
              TIFFSetField(t, TIFFTAG_SOFTWARE, "scandiff " SCANDIFF_VERSION);
    if (ok && deflate)
      ok = TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
           TIFFSetField(t, TIFFTAG_ZIPQUALITY, options.deflate_level) &&
           TIFFSetField(t, TIFFTAG_PREDICTOR,
                        type.format == SAMPLEFORMAT_IEEEFP ? PREDICTOR_NONE : PREDICTOR_HORIZONTAL);
    else if (ok)
      ok = TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    if (ok && stack) {
      ok = TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
      if (ok && pages <= 0xffff) ok = TIFFSetField(t, TIFFTAG_PAGENUMBER, int(p), int(pages));
    }
    if (!ok) throw fail(fmt::format("tags of page {}", p));

    const std::byte* page = data.bytes() + std::size_t(p) * page_bytes;
    for (std::uint32_t row0 = 0, s = 0; row0 < height; row0 += rows_per_strip, ++s) {
      const std::size_t n = std::size_t{std::min(rows_per_strip, height - row0)} * rowbytes;
      std::memcpy(scratch.data(), page + std::size_t{row0} * rowbytes, n);
      if (TIFFWriteEncodedStrip(t, s, scratch.data(), static_cast<tmsize_t>(n)) < 0)
        throw fail(fmt::format("page {}, strip {}", p, s));
    }
    if (!TIFFWriteDirectory(t)) throw fail(fmt::format("directory of page {}", p));
  }
  if (!TIFFFlush(tif.get())) throw fail("flush");
  tif.reset();
  if (!call.errors.empty()) throw fail("close");
  out.commit();
}

namespace {

// Checks the TIFF signature (telling "not a TIFF" apart from "cannot open" before libtiff sees
// the file) and opens it for reading. Returns the file size through `file_size`.
TiffPtr open_for_reading(const std::filesystem::path& path, const std::string& name, TiffCall& call,
                         std::uintmax_t& file_size) {
  file_size = detail::readable_file_size(path, "TIFF");
  {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw IoError(fmt::format("{}: cannot read TIFF: {}", name, std::strerror(errno)));
    unsigned char m[4] = {};
    f.read(reinterpret_cast<char*>(m), 4);
    const bool le = m[0] == 'I' && m[1] == 'I' && (m[2] == 42 || m[2] == 43) && m[3] == 0;
    const bool be = m[0] == 'M' && m[1] == 'M' && m[2] == 0 && (m[3] == 42 || m[3] == 43);
    if (f.gcount() != 4 || !(le || be))
      throw FormatError(fmt::format("{}: not a TIFF file (no TIFF header)", name));
  }
  TiffPtr tif(TIFFOpen(path.c_str(), "r"));
  if (!tif) throw FormatError(fmt::format("{}: invalid TIFF: {}", name, call.reason("libtiff cannot open it")));
  return tif;
}

void read_page(TIFF* tif, const PageInfo& info, std::byte* dst, const std::string& name, std::size_t page,
               const TiffCall& call) {
  if (info.tiled)
    read_tiled(tif, info, dst, name, page, call);
  else
    read_striped(tif, info, dst, name, page, call);
}

}  // namespace

TiffPages read_tiff_pages(const std::filesystem::path& path) {
  const std::string name = path.string();
  TiffCall call(name);
  std::uintmax_t file_size = 0;
  TiffPtr tif = open_for_reading(path, name, call, file_size);
  const auto npages = static_cast<std::int64_t>(TIFFNumberOfDirectories(tif.get()));
  if (npages == 0 || !call.errors.empty())
    throw FormatError(fmt::format("{}: corrupt chain of pages (directories): {}", name, call.reason("no pages")));
  const PageInfo first = page_info(tif.get(), name, 0);
  return {npages, first.height, first.width, first.dtype};
}

Array read_tiff_page(const std::filesystem::path& path, std::int64_t page) {
  const std::string name = path.string();
  TiffCall call(name);
  std::uintmax_t file_size = 0;
  TiffPtr tif = open_for_reading(path, name, call, file_size);
  if (page < 0 || page > 0xffff || !TIFFSetDirectory(tif.get(), static_cast<tdir_t>(page)))
    throw FormatError(fmt::format("{}: has no page {}: {}", name, page, call.reason("no such directory")));
  const PageInfo info = page_info(tif.get(), name, static_cast<std::size_t>(page));
  const std::size_t bytes = std::size_t{info.width} * info.height * size_of(info.dtype);
  if (double(bytes) > 5000.0 * double(file_size) + 1048576.0)
    throw FormatError(fmt::format("{}: page {} of {}x{} {} cannot fit in a {}-byte file", name, page, info.height,
                                  info.width, name_of(info.dtype), file_size));
  Array out(info.dtype, {info.height, info.width});
  read_page(tif.get(), info, out.bytes(), name, static_cast<std::size_t>(page), call);
  return out;
}

Array read_tiff(const std::filesystem::path& path) {
  const std::string name = path.string();
  TiffCall call(name);
  std::uintmax_t file_size = 0;
  TiffPtr tif = open_for_reading(path, name, call, file_size);

  // Count the pages by walking the directory chain (no tags are parsed, so libtiff's warnings
  // about a page appear once, when it is read below). A broken chain is an error rather than
  // a silently shortened stack.
  const auto npages = static_cast<std::size_t>(TIFFNumberOfDirectories(tif.get()));
  if (npages == 0 || !call.errors.empty())
    throw FormatError(fmt::format("{}: corrupt chain of pages (directories): {}", name, call.reason("no pages")));

  const PageInfo first = page_info(tif.get(), name, 0);
  const std::size_t page_bytes = std::size_t{first.width} * first.height * size_of(first.dtype);
  // No supported codec expands data by more than a few thousand times (deflate ~1032:1,
  // LZW ~2700:1): a header claiming more is corrupt, so refuse before allocating.
  if (double(page_bytes) * double(npages) > 5000.0 * double(file_size) + 1048576.0)
    throw FormatError(fmt::format("{}: {} page(s) of {}x{} {} cannot fit in a {}-byte file", name, npages,
                                  first.height, first.width, name_of(first.dtype), file_size));

  Shape shape{first.height, first.width};
  if (npages > 1) shape.insert(shape.begin(), static_cast<std::int64_t>(npages));
  Array out(first.dtype, shape);

  for (std::size_t p = 0; p < npages; ++p) {
    PageInfo info = first;
    if (p > 0) {
      if (!TIFFReadDirectory(tif.get()))
        throw FormatError(
            fmt::format("{}: cannot read the directory of page {}: {}", name, p, call.reason("corrupt")));
      info = page_info(tif.get(), name, p);
      if (info.width != first.width || info.height != first.height || info.dtype != first.dtype)
        throw FormatError(fmt::format("{}: page {} is {}x{} {} but page 0 is {}x{} {}; pages of different shapes "
                                      "or types cannot be stacked",
                                      name, p, info.height, info.width, name_of(info.dtype), first.height,
                                      first.width, name_of(first.dtype)));
    }
    read_page(tif.get(), info, out.bytes() + p * page_bytes, name, p, call);
  }
  return out;
}

}  // namespace scandiff::io
