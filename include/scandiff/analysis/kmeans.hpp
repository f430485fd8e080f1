// k-means clustering of the rows of X (positions × features): k-means++ seeding with greedy
// local trials (2 + ⌊ln k⌋ candidates per centre, as scikit-learn), then Lloyd iterations until
// the labels stop changing or the summed squared centre shift is <= tol · mean column variance.
#pragma once

#include <cstdint>
#include <vector>

#include "scandiff/analysis/dense_matrix.hpp"

namespace scandiff::analysis {

struct KMeansOptions {
  int clusters = 2;
  int max_iter = 300;
  double tol = 1e-4;
  std::uint64_t seed = 0;  // std::mt19937_64 seed of the k-means++ draws
  int n_init = 1;          // runs from different seeds (seed, seed+1, ...); the lowest inertia wins
  int threads = 0;         // 0 = all cores; results are identical for any thread count
};

struct KMeansResult {
  std::vector<int> labels;  // one per row, 0 .. clusters − 1
  DenseMatrix centers;      // clusters × features
  double inertia = 0;       // Σ squared distance of each row to its centre
  int iterations = 0;
};

// Throws InvalidArgument for clusters < 1 or > rows, max_iter < 1, tol < 0, n_init < 1, or a
// non-finite entry. An emptied cluster is moved to the row farthest from its centre.
KMeansResult kmeans(const DenseMatrix& x, const KMeansOptions& options);

}  // namespace scandiff::analysis
