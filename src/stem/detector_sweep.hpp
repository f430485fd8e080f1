// Many virtual detectors evaluated in one sweep over a frame (private to stem).
//
// The detectors' weights are cut into row segments over which every detector's weight is
// constant ("uniform" segments), plus per-row spans of detectors whose weights vary from pixel to
// pixel ("dense"). A frame is evaluated in two steps:
//   1. one exact pixel sum per uniform segment, segments sorted by pixel, so the frame is read
//      once, in memory order, whatever the number of detectors;
//   2. per detector, Σ over its segments of weight · segment sum (held in a register, a short
//      sparse dot product), plus its dense spans' dot products.
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
  // `scratch` is the caller's (one per thread), resized as needed.
  void add(DType dtype, const std::byte* frame, std::int64_t sy, std::int64_t sx, double scale, double* out,
           std::vector<double>& scratch) const;

 private:
  struct Span {
    std::int32_t row, col, length;
  };
  struct Term {
    std::uint32_t segment;  // uniform: index into segments_; dense: index into dense_
    double weight;          // uniform only
  };
  struct Dense {
    Span span;
    std::size_t weights;  // offset into dense_weights_
  };
  template <class T>
  void add_typed(const T* frame, std::int64_t sy, std::int64_t sx, double scale, double* out,
                 std::vector<double>& sums) const;

  std::int64_t height_ = 0, width_ = 0;
  std::size_t detectors_ = 0;
  std::vector<Span> segments_;            // uniform segments, sorted by (row, col)
  std::vector<std::size_t> term_start_;   // detector d: terms_[term_start_[d], term_start_[d + 1])
  std::vector<Term> terms_;
  std::vector<Dense> dense_;              // dense spans, sorted by detector then row
  std::vector<std::size_t> dense_start_;  // detector d: dense_[dense_start_[d], dense_start_[d + 1])
  std::vector<double> dense_weights_;
};

}  // namespace scandiff::stem::detail
