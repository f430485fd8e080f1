// Mean spectra (or profiles) of the positions where a component is strong: the ePSIC
// NMF–EDX correlation. For component c, the positions whose coefficient W(i, c) is at or above
// the `quantile` quantile of column c (numpy's linear-interpolation percentile, e.g. 0.9 for
// the 90th percentile) form its class; the class mean is the mean of those positions' rows of
// a second per-position signal (an EDX spectrum image with the same scan).
#pragma once

#include <cstdint>
#include <vector>

#include "scandiff/analysis/dense_matrix.hpp"
#include "scandiff/core/array.hpp"

namespace scandiff::analysis {

struct ClassMeans {
  DenseMatrix means;                  // components × channels
  std::vector<std::int64_t> counts;   // positions in each class
  std::vector<double> thresholds;     // the coefficient threshold of each component
  Array masks;                        // uint8 (components, positions): 1 inside the class
};

// numpy.percentile(values, 100·q) with linear interpolation; values are copied. NaN when empty.
double quantile(std::vector<double> values, double q);

// `coefficients` is positions × components (NMF's W); `signal` has `positions` rows of
// channels in C order, any dtype, e.g. a (ry, rx, channels) spectrum image. Throws
// InvalidArgument when the position counts differ or quantile is outside [0, 1].
ClassMeans threshold_class_means(const DenseMatrix& coefficients, const Array& signal, double quantile);

}  // namespace scandiff::analysis
