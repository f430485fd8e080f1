// Virtual detectors: weights over the detector plane (qy, qx), as py4DSTEM defines them
// (reference/stem-algorithms.md §1), with our axis names: qy = row, qx = column.
//   point:     the one pixel (trunc(qy), trunc(qx)) (py4DSTEM's int(), rounding toward zero)
//   circle:    (qy - qy0)^2 + (qx - qx0)^2 <  r^2              (strict)
//   annulus:   r_in^2 < (qy - qy0)^2 + (qx - qx0)^2 < r_out^2  (both strict)
//   rectangle: rows round(qy_min) .. round(qy_max) - 1, columns round(qx_min) .. round(qx_max) - 1
//              (round = numpy's, halves to even)
//   mask:      any 2D numeric array, used as weights
// All geometry in detector pixels; pixel (i, j) has its centre at (qy, qx) = (i, j).
// Calibrated units and positions relative to the diffraction origin: detector_geometry.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"

namespace scandiff::stem {

class Detector {
 public:
  static Detector point(std::int64_t frame_y, std::int64_t frame_x, double qy, double qx);
  static Detector circle(std::int64_t frame_y, std::int64_t frame_x, double qy0, double qx0, double radius);
  static Detector annulus(std::int64_t frame_y, std::int64_t frame_x, double qy0, double qx0, double r_in,
                          double r_out);
  static Detector rectangle(std::int64_t frame_y, std::int64_t frame_x, double qy_min, double qy_max, double qx_min,
                            double qx_max);
  static Detector from_mask(const Array& mask);

  std::int64_t frame_y() const { return frame_y_; }
  std::int64_t frame_x() const { return frame_x_; }
  // The weights as a float64 (qy, qx) array.
  Array weights() const;
  // Geometry and parameters, for provenance.
  const Metadata& parameters() const { return parameters_; }
  // Adds `key: value` to the parameters (e.g. the geometry as the user gave it).
  void annotate(const std::string& key, Metadata value) { parameters_[key] = std::move(value); }

  // Runs of equal, non-zero weight along rows: pixels [offset, offset + length) of a frame.
  struct Run {
    std::int64_t offset;
    std::int64_t length;
    double weight;
  };
  const std::vector<Run>& runs() const { return runs_; }

 private:
  static Detector from_weights(std::int64_t frame_y, std::int64_t frame_x, const std::vector<double>& w,
                               Metadata parameters);
  std::int64_t frame_y_ = 0, frame_x_ = 0;
  std::vector<Run> runs_;
  Metadata parameters_;
};

}  // namespace scandiff::stem
