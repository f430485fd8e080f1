// The options every subcommand that reads a dataset shares: the file, how to read raw
// binary files that carry no description of themselves, and how to lay out the frames of
// a Merlin acquisition (whose files carry no scan shape).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "scandiff/io/source.hpp"

namespace scandiff::cli {

struct InputOptions {
  std::string path;
  std::vector<std::int64_t> raw_shape;  // --raw-shape ry,rx,qy,qx
  std::string raw_dtype = "uint16";
  std::size_t raw_header_bytes = 0;
  bool raw_big_endian = false;
  std::string datapath;
  // Merlin .mib / .hdr
  std::vector<std::int64_t> scan_shape;  // --scan-shape Y,X
  std::int64_t skip_frames = 0;          // --skip-frames N
  std::string flyback = "auto";          // --flyback on|off|auto
  bool fill_gaps = false;                // --fill-gaps
  bool flip_ud = false;                  // --flip-ud
  bool series = false;                   // --series

  void add_to(CLI::App* cmd);
  bool has_mib_options() const;
  std::unique_ptr<io::Source> open() const;
};

}  // namespace scandiff::cli
