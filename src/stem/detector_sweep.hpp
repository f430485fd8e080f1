// Many virtual detectors evaluated in one sweep over a frame (private to stem).
//
// The detectors' weights are cut into row segments over which every detector's weight is
// constant ("uniform" segments: one exact pixel sum, then one multiply-add per detector that
// covers the segment), plus per-row spans of detectors whose weights vary from pixel to pixel
// ("dense": a dot product). Segments are sorted by pixel, so a frame is read once, in memory
// order, whatever the number of detectors.
//
// With an integer shift (sy, sx) the weights move with the origin and wrap around the edges
// (numpy.roll of the mask, as py4DSTEM's shift_center):
//   out[d] += scale · Σ_{i,j} w_d[i, j] · frame[(i + sy) mod H, (j + sx) mod W]
// Integer frames are summed exactly (uint32 / int64 per segment), so binary detectors give
// exact integer totals below 2^53.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scandiff/core/dtype.hpp"
#include "scandiff/stem/detector.hpp"

namespace scandiff::stem::detail {

class DetectorSweep {
 public:
  // All detectors must have the same frame shape; at least one.
  explicit DetectorSweep(const std::vector<const Detector*>& detectors);

  std::size_t detector_count() const { return detectors_; }
  // Adds each detector's weighted sum of `frame` (dtype `dtype`, C order (H, W)), with the
  // weights shifted by (sy, sx) pixels and the sums multiplied by `scale`, to out[0..count).
  void add(DType dtype, const std::byte* frame, std::int64_t sy, std::int64_t sx, double scale, double* out) const;

 private:
  struct Segment {
    std::int32_t row, col, length;
    std::uint32_t first_term, terms;  // uniform: terms_[first_term, first_term + terms)
    std::int32_t dense_detector;      // -1 for uniform segments; else the detector of a dense span
    std::size_t dense_offset;         // dense: weights in dense_weights_[dense_offset, + length)
  };
  struct Term {
    std::uint32_t detector;
    double weight;
  };
  template <class T>
  void add_typed(const T* frame, std::int64_t sy, std::int64_t sx, double scale, double* out) const;

  std::int64_t height_ = 0, width_ = 0;
  std::size_t detectors_ = 0;
  std::vector<Segment> segments_;  // sorted by (row, col)
  std::vector<Term> terms_;
  std::vector<double> dense_weights_;
};

}  // namespace scandiff::stem::detail
