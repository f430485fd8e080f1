// NMF by scikit-learn's rules (1.4): multiplicative updates (_fit_multiplicative_update,
// Frobenius loss) and coordinate descent (_fit_coordinate_descent / _update_cdnmf_fast), with
// the same update order, zero guards and stopping tests. Each iteration reads X once: per row
// block, X_b·Hᵀ updates W_b and the same block then adds its part of the products with the new
// W_b that the H update needs.
#include "scandiff/analysis/nmf.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "eigen_blocks.hpp"
#include "scandiff/analysis/truncated_svd.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"

namespace scandiff::analysis {

using detail::RowMatrix;

namespace {

constexpr double float32_eps = 1.1920928955078125e-07;  // scikit-learn's guard for zero denominators
constexpr double init_zero = 1e-6;                      // nndsvd entries below this become 0

void check_nonnegative(const DenseMatrix& x) {
  if (x.rows < 1 || x.cols < 1)
    throw InvalidArgument(fmt::format("NMF: the input matrix is empty ({} x {})", x.rows, x.cols));
  for (std::size_t i = 0; i < x.values.size(); ++i) {
    const double v = x.values[i];
    if (!std::isfinite(v) || v < 0)
      throw InvalidArgument(fmt::format("NMF: entry ({}, {}) of the input is {}, expected finite and >= 0",
                                        static_cast<std::int64_t>(i) / x.cols, static_cast<std::int64_t>(i) % x.cols, v));
  }
}

void check_options(const DenseMatrix& x, const NmfOptions& o) {
  if (o.components < 1) throw InvalidArgument(fmt::format("NMF: components = {}, expected >= 1", o.components));
  if (o.init != NmfInit::random && o.components > std::min(x.rows, x.cols))
    throw InvalidArgument(fmt::format("NMF: init {} needs components <= min(positions, features) = {}, got {}",
                                      name_of(o.init), std::min(x.rows, x.cols), o.components));
  if (o.max_iter < 1) throw InvalidArgument(fmt::format("NMF: max_iter = {}, expected >= 1", o.max_iter));
  if (!(o.tol >= 0)) throw InvalidArgument(fmt::format("NMF: tol = {}, expected >= 0", o.tol));
}

// ||X − W·H||_F, summed over row blocks in a fixed order.
double frobenius_error(const DenseMatrix& x, const Eigen::Ref<const RowMatrix>& w, const Eigen::Ref<const RowMatrix>& h) {
  const auto xv = detail::view(x);
  const double sq = detail::reduce_row_blocks(x.rows, x.cols, 0.0, [&](std::int64_t r0, std::int64_t r1, double& acc) {
    acc += (xv.middleRows(r0, r1 - r0) - w.middleRows(r0, r1 - r0) * h).squaredNorm();
  });
  return std::sqrt(sq);
}

// m ← m ∘ numerator / denominator, a zero denominator replaced by float32 eps.
void multiply_by_ratio(auto&& m, const RowMatrix& numerator, RowMatrix& denominator) {
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      double& d = denominator(i, j);
      if (d == 0) d = float32_eps;
      m(i, j) *= numerator(i, j) / d;
    }
}

// The products the H update needs, summed over row blocks.
struct BlockSums {
  RowMatrix a;  // mu: Wᵀ·X (k × n); cd: Xᵀ·W (n × k)
  RowMatrix wtw;  // Wᵀ·W (k × k)
  double violation = 0;
  BlockSums& operator+=(const BlockSums& o) {
    a += o.a;
    wtw += o.wtw;
    violation += o.violation;
    return *this;
  }
};

NmfResult run_multiplicative(const DenseMatrix& x, RowMatrix w, RowMatrix h, const NmfOptions& o) {
  const auto xv = detail::view(x);
  const auto k = static_cast<Eigen::Index>(o.components);
  const double error_at_init = frobenius_error(x, w, h);
  double previous_error = error_at_init;
  NmfResult out;
  const BlockSums zero{RowMatrix::Zero(k, x.cols), RowMatrix::Zero(k, k), 0};
  int iter = 1;
  for (; iter <= o.max_iter; ++iter) {
    const RowMatrix hht = h * h.transpose();
    BlockSums sums = detail::reduce_row_blocks(x.rows, x.cols, zero, [&](std::int64_t r0, std::int64_t r1, BlockSums& acc) {
      const auto xb = xv.middleRows(r0, r1 - r0);
      auto wb = w.middleRows(r0, r1 - r0);
      const RowMatrix numerator = xb * h.transpose();  // X·Hᵀ
      RowMatrix denominator = wb * hht;                // W·H·Hᵀ
      multiply_by_ratio(wb, numerator, denominator);
      acc.a.noalias() += wb.transpose() * xb;  // Wᵀ·X with the new W
      acc.wtw.noalias() += wb.transpose() * wb;
    });
    RowMatrix denominator = sums.wtw * h;  // Wᵀ·W·H
    multiply_by_ratio(h, sums.a, denominator);
    if (o.tol > 0 && iter % 10 == 0) {
      const double error = frobenius_error(x, w, h);
      if (error_at_init == 0 || (previous_error - error) / error_at_init < o.tol) {
        out.converged = true;
        break;
      }
      previous_error = error;
    }
  }
  out.iterations = std::min(iter, o.max_iter);
  out.w = detail::to_dense(w);
  out.h = detail::to_dense(h);
  return out;
}

// One coordinate-descent sweep over the rows of `w` (rows × k): for t = 0 .. k − 1, with
// gradient g = (W·HHt − XHt)(i, t), w(i, t) ← max(0, w(i, t) − g / HHt(t, t)). Returns the sum of
// |projected gradient| (g, or min(0, g) where w(i, t) = 0). Rows are independent, so sweeping
// row by row equals scikit-learn's component-major loop.
double coordinate_sweep(auto&& w, const RowMatrix& hht, const RowMatrix& xht) {
  double violation = 0;
  const Eigen::Index k = w.cols();
  for (Eigen::Index i = 0; i < w.rows(); ++i)
    for (Eigen::Index t = 0; t < k; ++t) {
      double grad = -xht(i, t);
      for (Eigen::Index r = 0; r < k; ++r) grad += hht(t, r) * w(i, r);
      const double pg = w(i, t) == 0 ? std::min(0.0, grad) : grad;
      violation += std::abs(pg);
      const double hess = hht(t, t);
      if (hess != 0) w(i, t) = std::max(w(i, t) - grad / hess, 0.0);
    }
  return violation;
}

NmfResult run_coordinate_descent(const DenseMatrix& x, RowMatrix w, RowMatrix h, const NmfOptions& o) {
  const auto xv = detail::view(x);
  const auto k = static_cast<Eigen::Index>(o.components);
  RowMatrix ht = h.transpose();  // features × k
  const BlockSums zero{RowMatrix::Zero(x.cols, k), RowMatrix::Zero(k, k), 0};
  double violation_init = 0;
  NmfResult out;
  int iter = 1;
  for (; iter <= o.max_iter; ++iter) {
    const RowMatrix hht = ht.transpose() * ht;
    BlockSums sums = detail::reduce_row_blocks(x.rows, x.cols, zero, [&](std::int64_t r0, std::int64_t r1, BlockSums& acc) {
      const auto xb = xv.middleRows(r0, r1 - r0);
      auto wb = w.middleRows(r0, r1 - r0);
      const RowMatrix xht = xb * ht;
      acc.violation += coordinate_sweep(wb, hht, xht);
      acc.a.noalias() += xb.transpose() * wb;  // Xᵀ·W with the new W
      acc.wtw.noalias() += wb.transpose() * wb;
    });
    // The H update is the same sweep on Hᵀ with the roles of W and H exchanged.
    const double violation_h = detail::reduce_row_blocks(ht.rows(), k, 0.0, [&](std::int64_t r0, std::int64_t r1, double& acc) {
      const RowMatrix xtw = sums.a.middleRows(r0, r1 - r0);
      acc += coordinate_sweep(ht.middleRows(r0, r1 - r0), sums.wtw, xtw);
    });
    const double violation = sums.violation + violation_h;
    if (iter == 1) violation_init = violation;
    if (violation_init == 0 || violation / violation_init <= o.tol) {
      out.converged = true;
      break;
    }
  }
  out.iterations = std::min(iter, o.max_iter);
  out.w = detail::to_dense(w);
  out.h = detail::to_dense(RowMatrix(ht.transpose()));
  return out;
}

NmfFactors initialize(const DenseMatrix& x, int k, NmfInit init, std::uint64_t seed) {
  const double mean = detail::view(x).mean();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  NmfFactors f{DenseMatrix(x.rows, k), DenseMatrix(k, x.cols)};
  if (init == NmfInit::random) {
    const double scale = std::sqrt(mean / k);
    for (double& v : f.h.values) v = std::abs(scale * normal(rng));
    for (double& v : f.w.values) v = std::abs(scale * normal(rng));
    return f;
  }
  const TruncatedSvd svd = truncated_svd(x, k);
  const auto u = detail::view(svd.u);
  const auto vt = detail::view(svd.vt);
  auto w = detail::view(f.w);
  auto h = detail::view(f.h);
  w.col(0) = std::sqrt(svd.singular_values[0]) * u.col(0).cwiseAbs();
  h.row(0) = std::sqrt(svd.singular_values[0]) * vt.row(0).cwiseAbs();
  for (int j = 1; j < k; ++j) {
    // The dominant sign pattern of the pair (u_j, v_j): positive parts or negative parts.
    const Eigen::VectorXd xp = u.col(j).cwiseMax(0.0), xn = (-u.col(j)).cwiseMax(0.0);
    const Eigen::RowVectorXd yp = vt.row(j).cwiseMax(0.0), yn = (-vt.row(j)).cwiseMax(0.0);
    const double mp = xp.norm() * yp.norm(), mn = xn.norm() * yn.norm();
    const bool positive = mp > mn;
    const double sigma = positive ? mp : mn;
    if (sigma == 0) continue;
    const double lambda = std::sqrt(svd.singular_values[static_cast<std::size_t>(j)] * sigma);
    w.col(j) = lambda * (positive ? xp / xp.norm() : xn / xn.norm());
    h.row(j) = lambda * (positive ? yp / yp.norm() : yn / yn.norm());
  }
  auto fill_zeros = [&](DenseMatrix& m) {
    for (double& v : m.values) {
      if (v < init_zero) v = 0;
      if (v != 0) continue;
      if (init == NmfInit::nndsvda) v = mean;
      if (init == NmfInit::nndsvdar) v = std::abs(mean * normal(rng) / 100);
    }
  };
  fill_zeros(f.w);
  fill_zeros(f.h);
  return f;
}

}  // namespace

NmfSolver parse_nmf_solver(std::string_view name) {
  if (name == "mu") return NmfSolver::multiplicative;
  if (name == "cd") return NmfSolver::coordinate_descent;
  throw InvalidArgument(fmt::format("NMF solver '{}': expected mu or cd", name));
}

NmfInit parse_nmf_init(std::string_view name) {
  if (name == "nndsvd") return NmfInit::nndsvd;
  if (name == "nndsvda") return NmfInit::nndsvda;
  if (name == "nndsvdar") return NmfInit::nndsvdar;
  if (name == "random") return NmfInit::random;
  throw InvalidArgument(fmt::format("NMF init '{}': expected nndsvd, nndsvda, nndsvdar or random", name));
}

std::string_view name_of(NmfSolver solver) { return solver == NmfSolver::multiplicative ? "mu" : "cd"; }

std::string_view name_of(NmfInit init) {
  switch (init) {
    case NmfInit::nndsvd: return "nndsvd";
    case NmfInit::nndsvda: return "nndsvda";
    case NmfInit::nndsvdar: return "nndsvdar";
    case NmfInit::random: return "random";
  }
  return "?";
}

NmfFactors nmf_initialize(const DenseMatrix& x, int components, NmfInit init, std::uint64_t seed) {
  check_nonnegative(x);
  NmfOptions o;
  o.components = components;
  o.init = init;
  check_options(x, o);
  return detail::with_threads(0, [&] { return initialize(x, components, init, seed); });
}

NmfResult nmf(const DenseMatrix& x, const NmfOptions& options) {
  check_nonnegative(x);
  check_options(x, options);
  return detail::with_threads(options.threads, [&] {
    NmfFactors start = initialize(x, options.components, options.init, options.seed);
    RowMatrix w = detail::view(start.w), h = detail::view(start.h);
    NmfResult r = options.solver == NmfSolver::multiplicative ? run_multiplicative(x, std::move(w), std::move(h), options)
                                                              : run_coordinate_descent(x, std::move(w), std::move(h), options);
    r.reconstruction_error = frobenius_error(x, detail::view(r.w), detail::view(r.h));
    if (!r.converged && options.tol > 0)
      log_warning("NMF ({}, k = {}) reached max_iter = {} before the tolerance {}", name_of(options.solver),
                  options.components, options.max_iter, options.tol);
    return r;
  });
}

std::vector<NmfScanPoint> nmf_error_scan(const DenseMatrix& x, int max_components, NmfOptions options) {
  if (max_components < 1)
    throw InvalidArgument(fmt::format("NMF error scan: up to {} components, expected >= 1", max_components));
  std::vector<NmfScanPoint> scan;
  for (int k = 1; k <= max_components; ++k) {
    options.components = k;
    const NmfResult r = nmf(x, options);
    scan.push_back({k, r.reconstruction_error, r.iterations});
  }
  return scan;
}

}  // namespace scandiff::analysis
