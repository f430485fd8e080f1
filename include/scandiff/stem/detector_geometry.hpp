// A virtual detector as a user describes it — shape, numbers, units, and whether positions
// are relative to the diffraction origin — and its resolution into a pixel Detector for a
// dataset (py4DSTEM's get_calibrated_detector_geometry, stem-algorithms.md §1).
//
// Numbers, with our axis names (qy = row, qx = column; py4DSTEM's (qx, qy) is our (qy, qx)):
//   point      qy, qx
//   circle     qy, qx, radius
//   annulus    qy, qx, inner radius, outer radius
//   rectangle  qy_min, qy_max, qx_min, qx_max
// Resolution, in this order:
//   1. units: pixels as given; "A^-1" or "mrad": every number divided by
//      Calibration::detector_pixel_size, which requires Calibration::detector_units to be the
//      same unit (InvalidArgument otherwise);
//   2. relative_to_origin: the mean origin (stem/calibrated_origin.hpp) is added to the centre (point,
//      circle, annulus) or to the bounds (rectangle), in pixels.
// py4DSTEM adds the origin *before* dividing by the pixel size when both `centered` and
// `calibrated` are set, mixing pixels and Å⁻¹; we convert first (see docs/virtual-imaging.md).
// A mask detector is used as given (units and origin do not apply).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/stem/detector.hpp"

namespace scandiff::stem {

enum class DetectorShape { point, circle, annulus, rectangle, mask };
enum class DetectorUnits { pixels, inv_A, mrad };

std::string_view name_of(DetectorShape shape);
// "pixels", "A^-1" or "mrad": Calibration::detector_units' spelling.
std::string_view name_of(DetectorUnits units);
// "px"/"pixels", "A^-1"/"1/A"/"inv_A", "mrad"; InvalidArgument naming `what` otherwise.
DetectorUnits parse_detector_units(std::string_view text, std::string_view what);

struct DetectorGeometry {
  DetectorShape shape = DetectorShape::circle;
  std::vector<double> values;  // the numbers of the table above, in `units`
  Array mask;                  // for DetectorShape::mask: (qy, qx) weights
  DetectorUnits units = DetectorUnits::pixels;
  bool relative_to_origin = false;
};

// Parses "SHAPE:N1,N2,..." with SHAPE one of point, circle, annulus, rectangle (py4DSTEM's
// aliases circular, annular, square, rectangular are accepted), e.g. "annulus:63.5,63.5,20,60".
// Masks need a file and are parsed by the caller. Throws InvalidArgument naming `what`.
DetectorGeometry parse_detector_geometry(std::string_view text, std::string_view what);

// The detector in pixels for frames of `info` (shape, calibration). Throws InvalidArgument
// naming `what` for mismatched units, a missing origin or an invalid geometry.
Detector resolve_detector(const DetectorGeometry& geometry, const io::DatasetInfo& info, std::string_view what);

}  // namespace scandiff::stem
