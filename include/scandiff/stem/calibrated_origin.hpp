// The diffraction origin (beam centre) at every scan position, in detector pixels (qy = row,
// qx = column), taken from a Calibration:
//   - per-position maps origin_qy_map / origin_qx_map (float (ry, rx)) when both are set;
//   - otherwise the global origin (origin_qy_px, origin_qx_px), the same everywhere.
// The mean origin is the mean of the maps (as py4DSTEM's set_origin computes qx0_mean), or the
// global origin; the shift at a position is origin − mean (py4DSTEM's get_origin_shift).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "scandiff/core/calibration.hpp"

namespace scandiff::stem {

class Origin {
 public:
  // Throws InvalidArgument naming `what` (e.g. "--shift-center") when the calibration has no
  // origin, when the maps do not have the scan shape (scan_y, scan_x), or hold NaN/inf.
  static Origin from_calibration(const Calibration& cal, std::int64_t scan_y, std::int64_t scan_x,
                                 std::string_view what);
  // True when the calibration holds a global origin or both per-position maps.
  static bool calibrated(const Calibration& cal);

  bool per_position() const { return !qy_.empty(); }
  double mean_qy_px() const { return mean_qy_; }
  double mean_qx_px() const { return mean_qx_; }
  // The origin at linear scan position `frame` (ry * scan_x + rx).
  double qy_px(std::int64_t frame) const { return qy_.empty() ? mean_qy_ : qy_[static_cast<std::size_t>(frame)]; }
  double qx_px(std::int64_t frame) const { return qx_.empty() ? mean_qx_ : qx_[static_cast<std::size_t>(frame)]; }
  // origin − mean origin at `frame`: how far the pattern has moved (descan), pixels.
  double shift_qy_px(std::int64_t frame) const { return qy_px(frame) - mean_qy_; }
  double shift_qx_px(std::int64_t frame) const { return qx_px(frame) - mean_qx_; }

 private:
  std::vector<double> qy_, qx_;  // per position, or empty for a global origin
  double mean_qy_ = 0, mean_qx_ = 0;
};

}  // namespace scandiff::stem
