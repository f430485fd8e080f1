// A dense row-major matrix of doubles: the exchange type of the matrix factorisations
// (NMF, PCA, k-means). Rows are scan positions, columns are features (profile bins or
// pattern pixels), so a (ry, rx, n) stack of profiles is the matrix (ry·rx) × n as stored.
#pragma once

#include <cstdint>
#include <vector>

namespace scandiff::analysis {

struct DenseMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<double> values;  // rows·cols values, element (i, j) at i·cols + j

  DenseMatrix() = default;
  DenseMatrix(std::int64_t r, std::int64_t c) : rows(r), cols(c), values(static_cast<std::size_t>(r * c), 0.0) {}

  double& operator()(std::int64_t i, std::int64_t j) { return values[static_cast<std::size_t>(i * cols + j)]; }
  double operator()(std::int64_t i, std::int64_t j) const { return values[static_cast<std::size_t>(i * cols + j)]; }
  const double* row(std::int64_t i) const { return values.data() + i * cols; }
};

}  // namespace scandiff::analysis
