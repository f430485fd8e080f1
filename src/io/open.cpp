#include "scandiff/io/open.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/dectris.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/hspy.hpp"
#include "scandiff/io/image_file.hpp"
#include "scandiff/sxdm/frameset.hpp"

namespace scandiff::io {

namespace fs = std::filesystem;

void require_readable_file(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw IoError(fmt::format("{}: no such file", path.string()));
  if (fs::is_directory(status))
    throw IoError(fmt::format("{}: is a folder, expected a data file", path.string()));
  if (!fs::is_regular_file(status)) throw IoError(fmt::format("{}: not a regular file", path.string()));
  if (::access(path.c_str(), R_OK) != 0) throw IoError(fmt::format("{}: permission denied", path.string()));
}

std::unique_ptr<Source> open(const fs::path& path, const OpenOptions& options) {
  require_readable_file(path);
  if (options.raw) return std::make_unique<RawSource>(path, *options.raw);
  if (is_hdf5_file(path)) {
    // HyperSpy and Dectris files by their own marks; any other HDF5 file is read as EMD 1.0,
    // whose reader says what the file lacks.
    if (is_hspy_file(path)) return open_hspy(path, {options.datapath, options.stack_scan_shape});
    if (is_dectris_file(path)) return open_dectris(path, {options.stack_scan_shape});
    return open_emd(path, options.datapath);
  }
  if (is_mib_file(path)) return open_mib(path, options.mib);
  if (sxdm::is_frameset_manifest(path)) return sxdm::open_frameset(path);
  if (detect_image_format(path)) return open_image_series({path}, options.images);
  throw FormatError(fmt::format("{}: not a recognised dataset; expected an HDF5 file (EMD 1.0, HyperSpy, Dectris "
                                "master), a Merlin .mib/.hdr acquisition, a TIFF/EDF/CBF image (or stack), or raw "
                                "binary described with --raw-shape and --dtype, or an SXDM frameset manifest (JSON)",
                                path.string()));
}

}  // namespace scandiff::io
