// Principal component analysis: X − mean(X) = U·S·Vᵀ (truncated_svd), as scikit-learn's PCA
// with the full solver: components Vᵀ, explained variance s²/(rows − 1), its ratio to the total
// variance, and the scores (X − mean)·V. X is positions × features.
#pragma once

#include <vector>

#include "scandiff/analysis/dense_matrix.hpp"

namespace scandiff::analysis {

struct PcaResult {
  DenseMatrix components;                     // k × features, unit rows
  std::vector<double> explained_variance;     // k values, s²/(rows − 1)
  std::vector<double> explained_variance_ratio;  // k values, of the total variance
  std::vector<double> singular_values;        // k values
  std::vector<double> mean;                   // features, the subtracted column means
  DenseMatrix scores;                         // positions × k
};

// Throws InvalidArgument for fewer than 2 rows, components < 1 or > min(rows, cols).
PcaResult pca(const DenseMatrix& x, int components, int threads = 0);

}  // namespace scandiff::analysis
