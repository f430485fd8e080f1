// The k leading singular triplets of a matrix, X ≈ U·diag(s)·Vᵀ.
#pragma once

#include <vector>

#include "scandiff/analysis/dense_matrix.hpp"

namespace scandiff::analysis {

struct TruncatedSvd {
  std::vector<double> singular_values;  // k values, descending
  DenseMatrix u;                        // rows × k, orthonormal columns
  DenseMatrix vt;                       // k × cols, orthonormal rows
  double total_squared = 0;             // ||X||²_F = Σ of all squared singular values
};

// From the symmetric eigendecomposition (Eigen's SelfAdjointEigenSolver) of the Gram matrix of
// the smaller side, XᵀX (cols × cols) or X·Xᵀ (rows × rows), formed by blocked products in a
// fixed order with TBB (deterministic for any thread count). The other factor follows as
// U = X·V/s (or V = Xᵀ·U/s). Singular values below ~1e-7·s_max lose relative accuracy (the Gram
// matrix squares the condition number); the leading ones used by NMF initialisation and PCA are
// accurate to ~1e-12 relative. Signs: each right singular vector has its largest-magnitude entry
// positive. Components with s = 0 get zero vectors. Throws InvalidArgument for k < 1,
// k > min(rows, cols), or a smaller side above 16384 (the Gram matrix would exceed 2 GiB).
TruncatedSvd truncated_svd(const DenseMatrix& x, int k);

}  // namespace scandiff::analysis
