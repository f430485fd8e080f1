// Bragg vectors: per scan position, a list of diffraction peaks (qx, qy, intensity), as
// py4DSTEM's BraggVectors. Raw vectors are in detector pixels (qx = column, qy = row, pixel
// centres at integers); calibrated vectors are relative to the origin, in the calibration's
// detector units, after the steps below (stem-algorithms.md §6, in py4DSTEM's order, each only
// when selected):
//   1. origin:    q ← q − o(ry, rx) (per-position origin maps, else the global origin);
//   2. ellipse:   q ← R(θ)·diag(b/a, 1)·R(θ)ᵀ·q, θ from +qx toward +qy: the a-axis component is
//                 compressed by b/a (the ellipse becomes a circle of radius b);
//   3. pixel:     q ← q·detector_pixel_size;
//   4. rotation:  if qr_flip, (qx, qy) ← (qy, qx); then q ← R(qr_rotation_rad)·q,
//                 R(t) = [[cos t, −sin t], [sin t, cos t]] acting on (qx, qy).
// R(t) in (qx, qy) is py4DSTEM's rotation by −t in its (row, column) frame, which is why
// io/emd.hpp stores QR_rotation = −qr_rotation_rad.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/stem/bragg_disks.hpp"

namespace scandiff::stem {

struct CalibrationSteps {
  bool origin = true, ellipse = true, pixel = true, rotation = true;
};

class BraggVectors {
 public:
  BraggVectors() = default;
  // Empty lists for a (scan_y, scan_x) scan of (frame_y, frame_x) frames. Throws InvalidArgument
  // for non-positive extents.
  BraggVectors(std::int64_t scan_y, std::int64_t scan_x, std::int64_t frame_y, std::int64_t frame_x);

  std::int64_t scan_y() const { return scan_y_; }
  std::int64_t scan_x() const { return scan_x_; }
  std::int64_t frame_y() const { return frame_y_; }
  std::int64_t frame_x() const { return frame_x_; }
  std::int64_t positions() const { return scan_y_ * scan_x_; }
  std::int64_t total_peaks() const;

  // The list at linear position ry·scan_x + rx. set() may be called concurrently for
  // different positions. Both throw InvalidArgument for an index out of range.
  const std::vector<BraggPeak>& at(std::int64_t position) const;
  const std::vector<BraggPeak>& at(std::int64_t ry, std::int64_t rx) const { return at(ry * scan_x_ + rx); }
  void set(std::int64_t position, std::vector<BraggPeak> peaks);

  // Calibrated copy; units() says what the coordinates are in. Throws InvalidArgument when a
  // selected step needs a calibration value that is missing (origin) or invalid (ellipse axes,
  // pixel size), naming it. Applying it to already calibrated vectors is refused.
  BraggVectors calibrated(const Calibration& cal, const CalibrationSteps& steps = {}) const;
  bool is_calibrated() const { return calibrated_; }
  const std::string& units() const { return units_; }

  // Only the peaks whose nearest detector pixel (raw vectors) is non-zero in `mask_q`
  // ((frame_y, frame_x), any numeric dtype); peaks outside the detector are dropped.
  BraggVectors masked_q(const Array& mask_q) const;
  // Only the positions where `mask_r` ((scan_y, scan_x)) is non-zero keep their peaks.
  BraggVectors masked_r(const Array& mask_r) const;

  // To and from the EMD layout (raw vectors only: py4DSTEM recomputes calibrated ones).
  io::EmdBraggVectors to_emd() const;
  static BraggVectors from_emd(const io::EmdBraggVectors& v);

 private:
  std::int64_t scan_y_ = 0, scan_x_ = 0, frame_y_ = 0, frame_x_ = 0;
  std::vector<std::vector<BraggPeak>> peaks_;
  bool calibrated_ = false;
  std::string units_ = "pixels";
};

// Bragg vector map: the 2D histogram of the vectors, each peak's intensity (or 1 with
// `count` = true) split bilinearly over the four bins around it. Bin (i, j) of the (ny, nx)
// map is centred at q = ((i − origin_y)·step, (j − origin_x)·step) = (qy, qx) in the vectors'
// units; peaks whose four bins fall outside are dropped. For raw vectors with sampling s:
// step = 1/s, origin 0, shape (s·frame_y, s·frame_x). Throws InvalidArgument for step <= 0 or
// a non-positive shape.
Array bragg_vector_map(const BraggVectors& v, std::int64_t ny, std::int64_t nx, double step, double origin_y,
                       double origin_x, bool count = false);
// The raw-vector map above with `sampling` bins per detector pixel (sampling >= 1).
Array bragg_vector_map(const BraggVectors& raw, int sampling = 1);

// Origin from the unscattered beam: at every position, the brightest peak (or with
// `nearest_to` set the peak nearest to that (qy, qx) guess). Returns {origin_qy, origin_qx}
// float64 (scan_y, scan_x) maps in detector pixels, NaN where a position has no peak. Raw
// vectors only.
struct OriginMaps {
  Array qy, qx;
};
OriginMaps origin_from_vectors(const BraggVectors& raw, const double* nearest_qy = nullptr,
                               const double* nearest_qx = nullptr);

// Virtual image from vectors: at every position, Σ intensity of the peaks within `radius`
// (inclusive) of any of the (qx, qy) `centers` (each peak counted once), in the vectors' units.
// float64 (scan_y, scan_x).
struct QPoint {
  double qx = 0, qy = 0;
};
Array vectors_virtual_image(const BraggVectors& v, std::span<const QPoint> centers, double radius);

}  // namespace scandiff::stem
