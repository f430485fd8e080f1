// Hdf5Storage: chunking and compression filters of frame datasets, and the HDF5 plugin path.
#include "scandiff/io/hdf5_storage.hpp"

#include <H5PLpublic.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "hdf5_util.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::io {

namespace {

constexpr int gzip_default_level = 4;
constexpr int blosc_default_level = 5;

// Blosc filter parameters (cd_values 4..6; 0..3 are filled in by the filter itself).
constexpr unsigned blosc_shuffle = 1, blosc_bitshuffle = 2;
constexpr unsigned blosc_lz4 = 1;
// Bitshuffle: cd_values[3] = block size (0 = automatic), cd_values[4] = 2 for LZ4.
constexpr unsigned bitshuffle_lz4_stage = 2;

int level_or_default(const Hdf5Storage& s) {
  if (s.level != 0) return s.level;
  return s.compression == Hdf5Compression::blosc ? blosc_default_level : gzip_default_level;
}

}  // namespace

std::int64_t Hdf5Storage::frames_per_chunk(std::int64_t scan_x) const {
  if (!chunked()) return 0;
  return std::clamp<std::int64_t>(chunk_frames, 1, std::max<std::int64_t>(scan_x, 1));
}

std::string Hdf5Storage::describe(std::int64_t scan_x) const {
  if (!chunked()) return "contiguous";
  const std::int64_t n = frames_per_chunk(scan_x);
  std::string text = fmt::format("chunks of {} frame{}", n, n == 1 ? "" : "s");
  if (compression == Hdf5Compression::none) return text;
  text += fmt::format(", {}", name_of(compression));
  if (compression == Hdf5Compression::gzip || compression == Hdf5Compression::blosc)
    text += fmt::format(" level {}", level_or_default(*this));
  return text;
}

Hdf5Compression parse_hdf5_compression(std::string_view text, std::string_view option) {
  if (text == "none") return Hdf5Compression::none;
  if (text == "gzip") return Hdf5Compression::gzip;
  if (text == "lz4") return Hdf5Compression::lz4;
  if (text == "bitshuffle-lz4" || text == "bslz4") return Hdf5Compression::bitshuffle_lz4;
  if (text == "blosc") return Hdf5Compression::blosc;
  throw InvalidArgument(
      fmt::format("{} '{}': expected none, gzip, lz4, bitshuffle-lz4 (bslz4) or blosc", option, text));
}

std::string_view name_of(Hdf5Compression c) {
  switch (c) {
    case Hdf5Compression::none: return "none";
    case Hdf5Compression::gzip: return "gzip";
    case Hdf5Compression::lz4: return "lz4";
    case Hdf5Compression::bitshuffle_lz4: return "bitshuffle-lz4";
    case Hdf5Compression::blosc: return "blosc";
  }
  return "?";
}

int hdf5_filter_id(Hdf5Compression c) {
  switch (c) {
    case Hdf5Compression::none: return 0;
    case Hdf5Compression::gzip: return H5Z_FILTER_DEFLATE;
    case Hdf5Compression::lz4: return 32004;
    case Hdf5Compression::bitshuffle_lz4: return 32008;
    case Hdf5Compression::blosc: return 32001;
  }
  return 0;
}

bool hdf5_filter_available(int filter_id) {
  h5::Lock lock;
  return h5::filter_available(static_cast<H5Z_filter_t>(filter_id));
}

namespace h5 {

void add_plugin_folders() {
  static bool done = false;  // guarded by the HDF5 lock the caller holds
  if (done) return;
  done = true;
  // Debian/Ubuntu install filter plugins here (hdf5-filter-plugin, bitshuffle, ...). The library
  // searches its own built-in folder already unless HDF5_PLUGIN_PATH replaces it.
  static constexpr std::array<const char*, 3> folders{"/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins",
                                                      "/usr/lib/aarch64-linux-gnu/hdf5/serial/plugins",
                                                      "/usr/local/hdf5/lib/plugin"};
  unsigned n = 0;
  if (H5PLsize(&n) < 0) n = 0;
  std::vector<std::string> known;
  for (unsigned i = 0; i < n; ++i) {
    char buffer[4096] = {};
    if (H5PLget(i, buffer, sizeof buffer) > 0) known.emplace_back(buffer);
  }
  for (const char* folder : folders) {
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) continue;
    if (std::find(known.begin(), known.end(), folder) == known.end()) H5PLappend(folder);
  }
  H5Eclear2(H5E_DEFAULT);
}

bool filter_available(H5Z_filter_t id) {
  add_plugin_folders();
  const htri_t r = H5Zfilter_avail(id);
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

std::string filter_install_hint(H5Z_filter_t id) {
  switch (id) {
    case 32001: return "Blosc: install the Debian package hdf5-filter-plugin-blosc-serial";
    case 32004: return "LZ4: install the Debian package hdf5-filter-plugin";
    case 32008: return "bitshuffle/LZ4: install the Debian package bitshuffle";
    default: return "install its HDF5 filter plugin";
  }
}

Handle frames_dataset_plist(const Shape& shape, DType dtype, const Hdf5Storage& storage, const std::string& where) {
  const std::string what = fmt::format("{}: cannot create the frame dataset", where);
  Handle dcpl = checked<IoError>(H5Pcreate(H5P_DATASET_CREATE), what);
  if (!storage.chunked()) {
    // Space allocated now and never filled: the frames have a fixed file offset that only the
    // writer touches (hdf5_direct.hpp), and no time goes into writing zeros first.
    check<IoError>(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), what);
    check<IoError>(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), what);
    check<IoError>(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), what);
    return dcpl;
  }
  if (storage.chunk_frames < 0)
    throw InvalidArgument(fmt::format("{}: frames per chunk must be positive, got {}", where, storage.chunk_frames));
  if (storage.level < 0 || storage.level > 9)
    throw InvalidArgument(fmt::format("{}: compression level {} is out of range, expected 1..9", where, storage.level));
  if (shape.size() != 4) throw InvalidArgument(fmt::format("{}: chunked frame datasets must be 4D", where));
  const hsize_t chunk[4] = {1, hsize_t(storage.frames_per_chunk(shape[1])), hsize_t(shape[2]), hsize_t(shape[3])};
  std::size_t chunk_bytes = size_of(dtype);
  for (const hsize_t c : chunk) chunk_bytes *= c;
  if (chunk_bytes >= (std::size_t{4} << 30))
    throw InvalidArgument(fmt::format("{}: a chunk of {} frames would hold {} bytes; HDF5 chunks must stay below "
                                      "4 GiB: use fewer frames per chunk",
                                      where, chunk[1], chunk_bytes));
  check<IoError>(H5Pset_chunk(dcpl.get(), 4, chunk), what);
  const H5Z_filter_t id = hdf5_filter_id(storage.compression);
  if (id != 0 && !filter_available(id))
    throw IoError(fmt::format("{}: {} compression needs HDF5 filter {}, which cannot be loaded ({}; HDF5 looks for "
                              "plugins in HDF5_PLUGIN_PATH or its built-in plugin folder)",
                              where, name_of(storage.compression), id, filter_install_hint(id)));
  // Plugin filters are optional, as h5py sets them: a chunk the filter cannot shrink (e.g. Blosc
  // on a tiny or random chunk) is stored as it is, marked in its filter mask, instead of failing.
  const int level = level_or_default(storage);
  switch (storage.compression) {
    case Hdf5Compression::none: break;
    case Hdf5Compression::gzip: check<IoError>(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(level)), what); break;
    case Hdf5Compression::lz4: {
      const unsigned cd[1] = {0};  // block size: the filter's default
      check<IoError>(H5Pset_filter(dcpl.get(), id, H5Z_FLAG_OPTIONAL, 1, cd), what);
      break;
    }
    case Hdf5Compression::bitshuffle_lz4: {
      const unsigned cd[5] = {0, 0, static_cast<unsigned>(size_of(dtype)), 0, bitshuffle_lz4_stage};
      check<IoError>(H5Pset_filter(dcpl.get(), id, H5Z_FLAG_OPTIONAL, 5, cd), what);
      break;
    }
    case Hdf5Compression::blosc: {
      const unsigned shuffle = size_of(dtype) > 1 ? blosc_bitshuffle : blosc_shuffle;
      const unsigned cd[7] = {2, 2, static_cast<unsigned>(size_of(dtype)), 0, static_cast<unsigned>(level), shuffle,
                              blosc_lz4};
      check<IoError>(H5Pset_filter(dcpl.get(), id, H5Z_FLAG_OPTIONAL, 7, cd), what);
      break;
    }
  }
  return dcpl;
}

Handle create_frames_dataset(hid_t loc, const std::string& name, const Shape& shape, DType dtype,
                             const Hdf5Storage& storage, const std::string& where) {
  Handle dcpl = frames_dataset_plist(shape, dtype, storage, where);
  const std::string what = fmt::format("{}: cannot create the frame dataset", where);
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space = checked<IoError>(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), what);
  // Chunk cache: room for two chunks (at most 256 MiB, outside the engine's memory budget), so
  // that a chunk half filled by one block of frames waits in memory for the next block instead of
  // being compressed, read back and rewritten.
  Handle dapl = checked<IoError>(H5Pcreate(H5P_DATASET_ACCESS), what);
  if (storage.chunked()) {
    const std::size_t chunk_bytes = size_of(dtype) * static_cast<std::size_t>(storage.frames_per_chunk(shape.at(1)) *
                                                                        shape.at(2) * shape.at(3));
    const std::size_t cache_bytes = std::clamp(2 * chunk_bytes, std::size_t{1} << 20, std::size_t{256} << 20);
    check<IoError>(H5Pset_chunk_cache(dapl.get(), 10007, cache_bytes, 1.0), what);
  }
  return checked<IoError>(
      H5Dcreate2(loc, name.c_str(), native_type(dtype), space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()), what);
}

}  // namespace h5

}  // namespace scandiff::io
