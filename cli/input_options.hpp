// The options every subcommand that reads a dataset shares: the file, and how to read
// raw binary files that carry no description of themselves.
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

  void add_to(CLI::App* cmd);
  std::unique_ptr<io::Source> open() const;
};

}  // namespace scandiff::cli
