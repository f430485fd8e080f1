#include "input_options.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/open.hpp"

namespace scandiff::cli {

void InputOptions::add_to(CLI::App* cmd) {
  cmd->add_option("file", path, "dataset: EMD 1.0 / HDF5 (.h5, .emd), or raw binary with --raw-shape")->required();
  cmd->add_option("--raw-shape", raw_shape, "raw binary: scan and frame shape as ry,rx,qy,qx")
      ->delimiter(',')
      ->expected(4);
  cmd->add_option("--dtype", raw_dtype, "raw binary: element type (uint8, uint16, uint32, int32, float32, float64)")
      ->capture_default_str();
  cmd->add_option("--header-bytes", raw_header_bytes, "raw binary: bytes to skip before the first frame");
  cmd->add_flag("--big-endian", raw_big_endian, "raw binary: big-endian elements");
  cmd->add_option("--datapath", datapath, "HDF5: the array node to open, e.g. datacube_root/datacube");
}

std::unique_ptr<io::Source> InputOptions::open() const {
  io::OpenOptions o;
  o.datapath = datapath;
  if (!raw_shape.empty()) {
    io::RawLayout r;
    r.scan_y = raw_shape[0];
    r.scan_x = raw_shape[1];
    r.frame_y = raw_shape[2];
    r.frame_x = raw_shape[3];
    for (auto n : raw_shape)
      if (n <= 0) throw InvalidArgument(fmt::format("--raw-shape: every extent must be positive, got {}", n));
    r.dtype = parse_dtype(raw_dtype, "--dtype");
    r.header_bytes = raw_header_bytes;
    r.big_endian = raw_big_endian;
    o.raw = r;
  }
  return io::open(path, o);
}

}  // namespace scandiff::cli
