// Which scan positions enter a virtual diffraction pattern, and with what weight: py4DSTEM's
// real-space `mask` argument of get_virtual_diffraction (stem-algorithms.md §2).
//   all        every position, weight 1;
//   selection  the positions where a (ry, rx) mask is non-zero, weight 1 (py4DSTEM: a bool mask);
//   weights    every position, each pattern multiplied by w[ry, rx] (py4DSTEM: a float mask):
//              mean = Σ w·DP / Σ w, while max and median act on w·DP over all positions
//              (a zero weight contributes a pattern of zeros).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"

namespace scandiff::stem {

class ScanWeights {
 public:
  enum class Kind { all, selection, weights };

  ScanWeights() = default;  // all positions
  // `mask`: any numeric (ry, rx) array; non-zero selects. Throws InvalidArgument unless 2D.
  static ScanWeights selection(const Array& mask);
  // `weights`: any numeric (ry, rx) array of finite values. Throws InvalidArgument unless 2D and finite.
  static ScanWeights weights(const Array& weights);

  Kind kind() const { return kind_; }
  // Throws InvalidArgument naming `what` unless the mask fits the scan (scan_y, scan_x), selects
  // at least one position, and (weights) the weights do not sum to zero.
  void check(std::int64_t scan_y, std::int64_t scan_x, std::string_view what) const;

  bool included(std::int64_t frame) const { return kind_ != Kind::selection || values_[idx(frame)] != 0; }
  double weight(std::int64_t frame) const { return kind_ == Kind::weights ? values_[idx(frame)] : 1.0; }
  // Positions that enter (all frames for all and weights), of a scan of `frames` positions.
  std::int64_t count(std::int64_t frames) const;
  // The denominator of the mean: the number of positions, or Σ w.
  double total_weight(std::int64_t frames) const;
  Metadata describe() const;

 private:
  static std::size_t idx(std::int64_t f) { return static_cast<std::size_t>(f); }
  Kind kind_ = Kind::all;
  std::vector<double> values_;  // scan order
  std::int64_t scan_y_ = 0, scan_x_ = 0;
};

}  // namespace scandiff::stem
