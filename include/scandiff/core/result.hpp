// A named result array with its axes, units and provenance: what analyses produce
// and what writers (EMD, HyperSpy, PNG, TIFF, text) consume.
#pragma once

#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"

namespace scandiff {

// One axis of a result: coordinate of index k is origin + k * step, in `units`.
struct Axis {
  std::string name;  // "ry", "rx", "qy", "qx", "q", "phi", ...
  double origin = 0;
  double step = 1;
  std::string units = "pixels";
};

struct Result {
  std::string name;         // e.g. "bright_field", "mean_diffraction"
  Array data;               // C order, one Axis per dimension
  std::vector<Axis> axes;   // axes.size() == data.rank()
  std::string units;        // units of the values, e.g. "counts"
  // What produced it: analysis name, parameters, input file, scandiff version.
  Metadata provenance;
};

}  // namespace scandiff
