#include "scandiff/analysis/least_squares.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

std::vector<double> least_squares(std::span<const double> a, std::int64_t rows, std::int64_t cols,
                                  std::span<const double> b) {
  if (cols < 1 || rows < cols)
    throw InvalidArgument(fmt::format("least squares: {} equations for {} unknowns (need at least as many)", rows, cols));
  const auto m = static_cast<std::size_t>(rows), n = static_cast<std::size_t>(cols);
  if (a.size() != m * n || b.size() != m)
    throw InvalidArgument("least squares: matrix or right-hand side has the wrong size");
  std::vector<double> r(a.begin(), a.end()), y(b.begin(), b.end());
  double scale = 0;
  for (std::size_t j = 0; j < n; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < m; ++i) s += r[i * n + j] * r[i * n + j];
    scale = std::max(scale, std::sqrt(s));
  }
  if (scale == 0) throw InvalidArgument("least squares: the model matrix is zero");
  // Householder: for each column k, reflect rows k..m-1 so that column k is zero below the diagonal.
  for (std::size_t k = 0; k < n; ++k) {
    double norm = 0;
    for (std::size_t i = k; i < m; ++i) norm += r[i * n + k] * r[i * n + k];
    norm = std::sqrt(norm);
    if (norm <= 1e-12 * scale)
      throw InvalidArgument(fmt::format("least squares: the model is rank deficient (term {} depends on the others)", k));
    const double alpha = r[k * n + k] > 0 ? -norm : norm;
    std::vector<double> v(m - k);
    for (std::size_t i = k; i < m; ++i) v[i - k] = r[i * n + k];
    v[0] -= alpha;
    double vv = 0;
    for (double e : v) vv += e * e;
    auto reflect = [&](auto&& at) {  // x <- x − 2 v (v·x) / (v·v)
      double dot = 0;
      for (std::size_t i = k; i < m; ++i) dot += v[i - k] * at(i);
      const double f = 2 * dot / vv;
      for (std::size_t i = k; i < m; ++i) at(i) -= f * v[i - k];
    };
    for (std::size_t j = k; j < n; ++j) reflect([&](std::size_t i) -> double& { return r[i * n + j]; });
    reflect([&](std::size_t i) -> double& { return y[i]; });
  }
  // Back substitution R·x = Q^T·b (upper n×n block).
  std::vector<double> x(n);
  for (std::size_t k = n; k-- > 0;) {
    double s = y[k];
    for (std::size_t j = k + 1; j < n; ++j) s -= r[k * n + j] * x[j];
    x[k] = s / r[k * n + k];
  }
  return x;
}

}  // namespace scandiff::analysis
