// --detector "[NAME=]SHAPE:NUMBERS" or "[NAME=]mask:FILE[:NODE]" (and --mask for `com`):
//   point:qy,qx   circle:qy,qx,r   annulus:qy,qx,r_in,r_out   rectangle:qy_min,qy_max,qx_min,qx_max
// in the units of --units (px, A^-1, mrad), from the detector corner or, with
// --relative-to-origin, from the mean diffraction origin. qy is the row, qx the column.
// A mask file (PNG grayscale or an EMD/HDF5 node) is used as weights; PNG levels as given.
#pragma once

#include <cstddef>
#include <string>

#include "scandiff/stem/detector_geometry.hpp"

namespace scandiff::cli {

struct DetectorOption {
  std::string name;  // NAME, or "<shape>_<index>"
  stem::DetectorGeometry geometry;
};

DetectorOption parse_detector_option(const std::string& text, std::size_t index, stem::DetectorUnits units,
                                     bool relative_to_origin, std::string_view what);

}  // namespace scandiff::cli
