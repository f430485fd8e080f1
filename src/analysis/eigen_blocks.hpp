// Private to src/analysis: Eigen views of DenseMatrix and a deterministic parallel reduction
// over fixed row blocks. The block size depends only on the matrix shape, and TBB's
// deterministic reduce splits and joins in a fixed order, so sums are bit-identical for any
// number of threads.
#pragma once

#include <algorithm>
#include <cstdint>

#include <Eigen/Dense>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>

#include "scandiff/analysis/dense_matrix.hpp"

namespace scandiff::analysis::detail {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMap = Eigen::Map<RowMatrix>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

inline ConstRowMap view(const DenseMatrix& m) { return ConstRowMap(m.values.data(), m.rows, m.cols); }
inline RowMap view(DenseMatrix& m) { return RowMap(m.values.data(), m.rows, m.cols); }

inline DenseMatrix to_dense(const RowMatrix& m) {
  DenseMatrix out(m.rows(), m.cols());
  view(out) = m;
  return out;
}

// Rows per block: about 1 MiB of a row-major matrix with `cols` columns (so a block of X stays
// in cache between the products that read it), at least 16 rows.
inline std::int64_t block_rows(std::int64_t cols) {
  return std::max<std::int64_t>(16, (std::int64_t{1} << 17) / std::max<std::int64_t>(cols, 1));
}

// Σ over blocks [r0, r1) of 0 .. rows (block_rows(cols) each), in block order, of
// fn(r0, r1, acc) (fn adds its part into acc, a value initialised from `zero`); deterministic
// for any thread count. Also used over column blocks (rows = columns, cols = rows).
template <class T, class Fn>
T reduce_row_blocks(std::int64_t rows, std::int64_t cols, const T& zero, Fn&& fn) {
  const std::int64_t step = block_rows(cols);
  const std::int64_t blocks = (rows + step - 1) / step;
  return tbb::parallel_deterministic_reduce(
      tbb::blocked_range<std::int64_t>(0, blocks, 1), zero,
      [&](const tbb::blocked_range<std::int64_t>& range, T acc) {
        for (std::int64_t b = range.begin(); b < range.end(); ++b)
          fn(b * step, std::min(rows, (b + 1) * step), acc);
        return acc;
      },
      [](T a, const T& b) {
        a += b;
        return a;
      });
}

// Runs fn inside an arena of `threads` workers (0 = all cores).
template <class Fn>
auto with_threads(int threads, Fn&& fn) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::this_task_arena::max_concurrency());
  return arena.execute(fn);
}

}  // namespace scandiff::analysis::detail
