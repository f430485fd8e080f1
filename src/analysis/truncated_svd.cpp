#include "scandiff/analysis/truncated_svd.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "eigen_blocks.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

using detail::RowMatrix;

namespace {

constexpr std::int64_t max_gram_side = 16384;

// Flips the sign of the pair (column j of `left`, row j of `right`) so that the largest-
// magnitude entry of the right row is positive.
void fix_signs(RowMatrix& left, RowMatrix& right) {
  for (Eigen::Index j = 0; j < right.rows(); ++j) {
    Eigen::Index at = 0;
    right.row(j).cwiseAbs().maxCoeff(&at);
    if (right(j, at) < 0) {
      right.row(j) *= -1;
      left.col(j) *= -1;
    }
  }
}

}  // namespace

TruncatedSvd truncated_svd(const DenseMatrix& x, int k) {
  const std::int64_t m = x.rows, n = x.cols;
  if (k < 1 || k > std::min(m, n))
    throw InvalidArgument(fmt::format("truncated SVD: {} components requested of a {} x {} matrix (expected 1 .. {})",
                                      k, m, n, std::min(m, n)));
  const bool tall = n <= m;  // eigendecompose XᵀX (n × n) when tall, X·Xᵀ (m × m) when wide
  const std::int64_t side = tall ? n : m;
  if (side > max_gram_side)
    throw InvalidArgument(fmt::format("truncated SVD: a {} x {} matrix has a smaller side of {} above {} (bin the "
                                      "data or use a random initialisation)",
                                      m, n, side, max_gram_side));
  const auto xv = detail::view(x);
  RowMatrix gram;
  if (tall) {
    const RowMatrix zero = RowMatrix::Zero(n, n);
    gram = detail::reduce_row_blocks(m, n, zero, [&](std::int64_t r0, std::int64_t r1, RowMatrix& acc) {
      const auto block = xv.middleRows(r0, r1 - r0);
      acc.noalias() += block.transpose() * block;
    });
  } else {
    const RowMatrix zero = RowMatrix::Zero(m, m);
    gram = detail::reduce_row_blocks(n, m, zero, [&](std::int64_t c0, std::int64_t c1, RowMatrix& acc) {
      const auto block = xv.middleCols(c0, c1 - c0);
      acc.noalias() += block * block.transpose();
    });
  }
  Eigen::SelfAdjointEigenSolver<RowMatrix> eig(gram);
  if (eig.info() != Eigen::Success) throw Error("truncated SVD: the eigensolver did not converge");
  // Eigenvalues ascend: the last k columns, reversed, are the leading ones.
  TruncatedSvd out;
  out.total_squared = std::max(0.0, gram.trace());
  RowMatrix small(side, k);  // V (tall) or U (wide)
  out.singular_values.resize(static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) {
    const Eigen::Index src = side - 1 - j;
    out.singular_values[static_cast<std::size_t>(j)] = std::sqrt(std::max(0.0, eig.eigenvalues()(src)));
    small.col(j) = eig.eigenvectors().col(src);
  }
  // The other factor: U = X·V/s or V = Xᵀ·U/s (zero where s = 0).
  RowMatrix other = tall ? RowMatrix(xv * small) : RowMatrix(xv.transpose() * small);
  for (int j = 0; j < k; ++j) {
    const double s = out.singular_values[static_cast<std::size_t>(j)];
    if (s > 0) {
      other.col(j) /= s;
    } else {
      other.col(j).setZero();
      small.col(j).setZero();
    }
  }
  RowMatrix u = tall ? other : small;
  RowMatrix vt = tall ? RowMatrix(small.transpose()) : RowMatrix(other.transpose());
  fix_signs(u, vt);
  out.u = detail::to_dense(u);
  out.vt = detail::to_dense(vt);
  return out;
}

}  // namespace scandiff::analysis
