#include "scandiff/io/source.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io {

void DatasetInfo::validate() const {
  if (scan_y <= 0 || scan_x <= 0 || frame_y <= 0 || frame_x <= 0)
    throw FormatError(fmt::format("{}: dataset shape {} is invalid, expected four positive extents "
                                  "(scan y, scan x, detector y, detector x)",
                                  path, shape_string(shape())));
}

std::vector<Axis> DatasetInfo::scan_axes() const {
  const auto& c = calibration;
  return {{"ry", 0, c.scan_pixel_size, c.scan_units}, {"rx", 0, c.scan_pixel_size, c.scan_units}};
}

std::vector<Axis> DatasetInfo::detector_axes() const {
  const auto& c = calibration;
  return {{"qy", 0, c.detector_pixel_size, c.detector_units}, {"qx", 0, c.detector_pixel_size, c.detector_units}};
}

void Source::check_range(std::int64_t first, std::int64_t count) const {
  if (first < 0 || count < 0 || first + count > info_.frame_count())
    throw InvalidArgument(fmt::format("{}: frames [{}, {}) requested, but the scan has {} frames", info_.path, first,
                                      first + count, info_.frame_count()));
}

}  // namespace scandiff::io
