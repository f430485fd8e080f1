// Calibrant d-spacing lists (pyFAI/Dioptas `.D` files): comment lines starting with '#'
// (`# Calibrant: Gold (Au)`, the cell, the reference), then one reflection per line,
// "d [Å] # (h, k, l) multiplicity", sorted by decreasing d.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace scandiff::io {

struct CalibrantRing {
  double d_A = 0;       // lattice-plane spacing, Å
  std::string comment;  // what followed '#' on the line, e.g. "(1, 1, 1) 8"
};

struct Calibrant {
  std::string name;                  // from "# Calibrant: ...", else the file stem
  std::vector<CalibrantRing> rings;  // in file order (decreasing d)
};

// Parses the text of a .D file. Throws FormatError naming `name` when a line does not start
// with a positive number or no ring is listed.
Calibrant parse_calibrant(std::string_view text, std::string_view name);

// Reads a .D file; IoError when it cannot be read (at most 16 MiB), otherwise as above.
Calibrant read_calibrant(const std::filesystem::path& path);

}  // namespace scandiff::io
