#include "input_options.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/open.hpp"

namespace scandiff::cli {

void InputOptions::add_to(CLI::App* cmd) {
  cmd->add_option("file", path,
                  "dataset: HDF5 (EMD 1.0 .h5/.emd, HyperSpy .hspy, Dectris *_master.h5), Merlin .mib (or its .hdr), "
                  "a TIFF/EDF/CBF image or stack, an SXDM frameset manifest (.json), or raw binary with --raw-shape")
      ->required();
  cmd->add_option("--raw-shape", raw_shape, "raw binary: scan and frame shape as ry,rx,qy,qx")
      ->delimiter(',')
      ->expected(4);
  cmd->add_option("--dtype", raw_dtype, "raw binary: element type (uint8, uint16, uint32, int32, float32, float64)")
      ->capture_default_str();
  cmd->add_option("--header-bytes", raw_header_bytes, "raw binary: bytes to skip before the first frame");
  cmd->add_flag("--big-endian", raw_big_endian, "raw binary: big-endian elements");
  cmd->add_option("--datapath", datapath,
                  "HDF5: the array to open, e.g. datacube_root/datacube (EMD) or __unnamed__ (HyperSpy experiment)");
  const char* mib = "Merlin .mib";
  cmd->add_option("--scan-shape", scan_shape,
                  "Merlin .mib, Dectris master, 3D HyperSpy stack, images: scan shape Y,X (rows, columns); wins over "
                  "every rule")
      ->delimiter(',')
      ->expected(2)
      ->group(mib);
  cmd->add_option("--skip-frames", skip_frames, "Merlin .mib: frames to drop at the start (spurious triggers)")
      ->check(CLI::NonNegativeNumber)
      ->group(mib);
  cmd->add_option("--flyback", flyback,
                  "Merlin .mib: fly-back frames (exposure > 5x the median) start each line: auto (detect when the "
                  ".hdr has no ScanX/ScanY), on (required), off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str()
      ->group(mib);
  cmd->add_flag("--fill-gaps", fill_gaps, "Merlin .mib: quad frames get the 3-pixel zero cross at the chip gaps (515x515)")
      ->group(mib);
  cmd->add_flag("--flip-ud", flip_ud, "Merlin .mib: flip every frame up-down (HyperSpy/epsic orientation)")->group(mib);
  cmd->add_flag("--series", series,
                "Merlin .mib: also read the sibling files <prefix><digits>.mib of a multi-file acquisition "
                "(automatic when FILE is the .hdr); images: read every <prefix><digits>.<ext> beside FILE, in "
                "numeric order")
      ->group(mib);
}

bool InputOptions::has_mib_options() const {
  return skip_frames != 0 || flyback != "auto" || fill_gaps || flip_ud || series;
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
  if (scan_shape.size() == 2) {
    if (scan_shape[0] <= 0 || scan_shape[1] <= 0)
      throw InvalidArgument(fmt::format("--scan-shape {},{}: both extents must be positive", scan_shape[0],
                                        scan_shape[1]));
    o.mib.scan_shape = std::pair{scan_shape[0], scan_shape[1]};
    o.stack_scan_shape = o.mib.scan_shape;
  }
  o.mib.skip_frames = skip_frames;
  o.mib.flyback = flyback == "on" ? io::MibFlyback::on : flyback == "off" ? io::MibFlyback::off : io::MibFlyback::automatic;
  o.mib.fill_gaps = fill_gaps;
  o.mib.flip_ud = flip_ud;
  o.mib.series = series;
  o.images.scan_shape = o.mib.scan_shape;
  o.images.series = series;
  auto source = io::open(path, o);
  const std::string& format = source->info().format;
  const bool image = format == "tiff" || format == "edf" || format == "cbf" || format == "image-series";
  const bool mib_only = skip_frames != 0 || flyback != "auto" || fill_gaps || flip_ud;
  if (mib_only && format != "mib")
    throw InvalidArgument(fmt::format("--skip-frames, --flyback, --fill-gaps and --flip-ud apply to Merlin .mib/.hdr "
                                      "input; {} is {}",
                                      path, format));
  if (series && format != "mib" && !image)
    throw InvalidArgument(
        fmt::format("--series applies to Merlin .mib/.hdr input and TIFF/EDF/CBF images; {} is {}", path, format));
  if (!scan_shape.empty() && format != "mib" && format != "dectris" && format != "hyperspy" && !image)
    throw InvalidArgument(fmt::format("--scan-shape applies to Merlin .mib/.hdr input, Dectris master files, 3D "
                                      "HyperSpy stacks and TIFF/EDF/CBF image series; {} is {}",
                                      path, format));
  return source;
}

}  // namespace scandiff::cli
