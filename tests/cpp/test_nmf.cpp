// NMF, PCA and k-means on planted data: components recovered, stopping rules, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "scandiff/analysis/kmeans.hpp"
#include "scandiff/analysis/nmf.hpp"
#include "scandiff/analysis/pca.hpp"
#include "scandiff/core/error.hpp"

namespace {

using scandiff::analysis::DenseMatrix;
namespace an = scandiff::analysis;

// X = W·H with k planted components: Gaussian peaks as profiles (H) and random non-negative
// coefficients (W), each position dominated by one component.
struct Planted {
  DenseMatrix w, h, x;
};

Planted planted(std::int64_t rows, std::int64_t cols, int k, std::uint64_t seed) {
  Planted p{DenseMatrix(rows, k), DenseMatrix(k, cols), DenseMatrix(rows, cols)};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < cols; ++j) {
      const auto n = static_cast<double>(cols);
      const double centre = (c + 0.5) * n / k, d = (static_cast<double>(j) - centre) / (0.06 * n);
      p.h(c, j) = std::exp(-0.5 * d * d) + 0.05 * std::exp(-static_cast<double>(j) / n);
    }
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto main = static_cast<int>(i % k);
    for (int c = 0; c < k; ++c) p.w(i, c) = (c == main ? 1.0 : 0.0) + 0.3 * u(rng);
  }
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (int c = 0; c < k; ++c) s += p.w(i, c) * p.h(c, j);
      p.x(i, j) = s;
    }
  return p;
}

double cosine(const double* a, const double* b, std::int64_t n, std::int64_t stride_a = 1, std::int64_t stride_b = 1) {
  double ab = 0, aa = 0, bb = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    ab += a[i * stride_a] * b[i * stride_b];
    aa += a[i * stride_a] * a[i * stride_a];
    bb += b[i * stride_b] * b[i * stride_b];
  }
  return ab / std::sqrt(aa * bb);
}

// For every planted component, the best cosine similarity among the found ones.
std::vector<double> best_matches(const DenseMatrix& truth, const DenseMatrix& found) {
  std::vector<double> best;
  for (std::int64_t c = 0; c < truth.rows; ++c) {
    double b = 0;
    for (std::int64_t f = 0; f < found.rows; ++f) b = std::max(b, cosine(truth.row(c), found.row(f), truth.cols));
    best.push_back(b);
  }
  return best;
}

double norm(const DenseMatrix& m) {
  return std::sqrt(std::inner_product(m.values.begin(), m.values.end(), m.values.begin(), 0.0));
}

class NmfPlanted : public ::testing::TestWithParam<an::NmfSolver> {};

TEST_P(NmfPlanted, RecoversComponentsAndMaps) {
  const Planted p = planted(600, 120, 3, 7);
  an::NmfOptions o;
  o.components = 3;
  o.solver = GetParam();
  o.max_iter = 2000;
  o.tol = 1e-8;
  const an::NmfResult r = an::nmf(p.x, o);
  for (const double c : best_matches(p.h, r.h)) EXPECT_GE(c, 0.99);
  // Coefficient maps: compare columns of W (as rows of Wᵀ).
  DenseMatrix wt_truth(3, p.w.rows), wt_found(3, r.w.rows);
  for (std::int64_t i = 0; i < p.w.rows; ++i)
    for (int c = 0; c < 3; ++c) {
      wt_truth(c, i) = p.w(i, c);
      wt_found(c, i) = r.w(i, c);
    }
  for (const double c : best_matches(wt_truth, wt_found)) EXPECT_GE(c, 0.99);
  EXPECT_LT(r.reconstruction_error, 0.01 * norm(p.x));
}

INSTANTIATE_TEST_SUITE_P(Solvers, NmfPlanted,
                         ::testing::Values(an::NmfSolver::multiplicative, an::NmfSolver::coordinate_descent));

TEST(Nmf, ErrorScanFallsUntilThePlantedRank) {
  const Planted p = planted(300, 80, 3, 3);
  an::NmfOptions o;
  o.solver = an::NmfSolver::coordinate_descent;
  o.max_iter = 500;
  const auto scan = an::nmf_error_scan(p.x, 4, o);
  ASSERT_EQ(scan.size(), 4u);
  EXPECT_GT(scan[0].reconstruction_error, scan[1].reconstruction_error);
  EXPECT_GT(scan[1].reconstruction_error, scan[2].reconstruction_error);
  EXPECT_LT(scan[2].reconstruction_error, 0.01 * norm(p.x));
}

TEST(Nmf, InitialisationsAreNonNegativeAndNndsvdSparse) {
  const Planted p = planted(200, 50, 3, 1);
  for (const auto init : {an::NmfInit::nndsvd, an::NmfInit::nndsvda, an::NmfInit::nndsvdar, an::NmfInit::random}) {
    const auto f = an::nmf_initialize(p.x, 3, init, 5);
    EXPECT_TRUE(std::all_of(f.w.values.begin(), f.w.values.end(), [](double v) { return v >= 0; }));
    EXPECT_TRUE(std::all_of(f.h.values.begin(), f.h.values.end(), [](double v) { return v >= 0; }));
    const auto zeros = std::count(f.w.values.begin(), f.w.values.end(), 0.0);
    if (init == an::NmfInit::nndsvd) {
      EXPECT_GT(zeros, 0) << "nndsvd keeps the zeros of the sign split";
    }
    if (init == an::NmfInit::nndsvda) {
      EXPECT_EQ(zeros, 0) << "nndsvda fills them with mean(X)";
    }
  }
}

TEST(Nmf, DeterministicForAnyThreadCountAndSeed) {
  const Planted p = planted(5000, 64, 3, 11);  // several row blocks
  an::NmfOptions o;
  o.components = 3;
  o.max_iter = 30;
  o.init = an::NmfInit::random;
  o.seed = 42;
  for (const auto solver : {an::NmfSolver::multiplicative, an::NmfSolver::coordinate_descent}) {
    o.solver = solver;
    o.threads = 1;
    const auto one = an::nmf(p.x, o);
    o.threads = 2;
    const auto two = an::nmf(p.x, o);
    EXPECT_EQ(one.w.values, two.w.values);
    EXPECT_EQ(one.h.values, two.h.values);
    EXPECT_EQ(one.reconstruction_error, two.reconstruction_error);
  }
}

TEST(Nmf, StopsEarlyWithTolerance) {
  const Planted p = planted(300, 40, 2, 2);
  an::NmfOptions o;
  o.components = 2;
  o.max_iter = 5000;
  o.tol = 1e-2;
  const auto r = an::nmf(p.x, o);
  EXPECT_TRUE(r.converged);
  EXPECT_LT(r.iterations, 5000);
  EXPECT_EQ(r.iterations % 10, 0) << "mu tests the tolerance every 10 iterations";
}

TEST(Nmf, RejectsBadInput) {
  DenseMatrix x(4, 3);
  std::fill(x.values.begin(), x.values.end(), 1.0);
  an::NmfOptions o;
  o.components = 4;
  EXPECT_THROW(an::nmf(x, o), scandiff::InvalidArgument);  // more than min(rows, cols) with nndsvda
  o.components = 2;
  x(1, 1) = -1;
  EXPECT_THROW(an::nmf(x, o), scandiff::InvalidArgument);
  x(1, 1) = std::nan("");
  EXPECT_THROW(an::nmf(x, o), scandiff::InvalidArgument);
  EXPECT_THROW(an::nmf(DenseMatrix(), o), scandiff::InvalidArgument);
  EXPECT_THROW(an::parse_nmf_solver("als"), scandiff::InvalidArgument);
  EXPECT_THROW(an::parse_nmf_init("svd"), scandiff::InvalidArgument);
}

TEST(Pca, ExplainedVarianceOfPlantedDirections) {
  // Rows spread with standard deviations 5, 2 and 0.5 along three orthogonal directions.
  const std::int64_t rows = 4000, cols = 6;
  DenseMatrix x(rows, cols);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n01;
  const double sd[3] = {5, 2, 0.5};
  for (std::int64_t i = 0; i < rows; ++i)
    for (int d = 0; d < 3; ++d) {
      const double a = sd[d] * n01(rng);
      x(i, 2 * d) += a / std::sqrt(2.0) + 1.0;
      x(i, 2 * d + 1) += a / std::sqrt(2.0) - 3.0;
    }
  const auto r = an::pca(x, 3);
  ASSERT_EQ(r.explained_variance.size(), 3u);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(r.explained_variance[d] / (sd[d] * sd[d]), 1.0, 0.08);
  EXPECT_NEAR(r.explained_variance_ratio[0] + r.explained_variance_ratio[1] + r.explained_variance_ratio[2], 1.0, 1e-9);
  EXPECT_NEAR(std::abs(r.components(0, 0)), 1 / std::sqrt(2.0), 1e-2);
  EXPECT_NEAR(r.mean[1], -3.0, 0.2);
}

TEST(KMeans, SeparatedClustersGetExactLabels) {
  const std::int64_t per = 50;
  const double centres[4][2] = {{0, 0}, {10, 0}, {0, 10}, {10, 10}};
  DenseMatrix x(4 * per, 2);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n01;
  for (std::int64_t i = 0; i < 4 * per; ++i)
    for (int d = 0; d < 2; ++d) x(i, d) = centres[i / per][d] + 0.3 * n01(rng);
  an::KMeansOptions o;
  o.clusters = 4;
  o.seed = 1;
  const auto r = an::kmeans(x, o);
  // Labels agree with the truth up to a permutation: one label per true cluster, all distinct.
  std::vector<int> first(4);
  for (int c = 0; c < 4; ++c) {
    first[c] = r.labels[c * per];
    for (std::int64_t i = c * per; i < (c + 1) * per; ++i) EXPECT_EQ(r.labels[i], first[c]);
  }
  std::sort(first.begin(), first.end());
  EXPECT_EQ(std::unique(first.begin(), first.end()), first.end());
  EXPECT_LT(r.inertia, 4 * per * 2 * 0.3 * 0.3 * 1.5);
}

}  // namespace
