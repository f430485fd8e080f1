#include "scandiff/analysis/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>
#include <oneapi/tbb/parallel_for.h>

#include "eigen_blocks.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

using detail::RowMatrix;

namespace {

// Squared distance of every row of X to its nearest centre, and that centre's index.
void assign(const DenseMatrix& x, const RowMatrix& centers, std::vector<int>& labels, std::vector<double>& dist) {
  const auto xv = detail::view(x);
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, x.rows, 256), [&](const tbb::blocked_range<std::int64_t>& r) {
    for (std::int64_t i = r.begin(); i < r.end(); ++i) {
      double best = std::numeric_limits<double>::infinity();
      int at = 0;
      for (Eigen::Index c = 0; c < centers.rows(); ++c) {
        const double d = (xv.row(i) - centers.row(c)).squaredNorm();
        if (d < best) {
          best = d;
          at = static_cast<int>(c);
        }
      }
      labels[static_cast<std::size_t>(i)] = at;
      dist[static_cast<std::size_t>(i)] = best;
    }
  });
}

// Squared distance of every row of X to row `row` of X.
std::vector<double> distances_to(const DenseMatrix& x, std::int64_t row) {
  const auto xv = detail::view(x);
  std::vector<double> d(static_cast<std::size_t>(x.rows));
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, x.rows, 1024), [&](const tbb::blocked_range<std::int64_t>& r) {
    for (std::int64_t i = r.begin(); i < r.end(); ++i) d[static_cast<std::size_t>(i)] = (xv.row(i) - xv.row(row)).squaredNorm();
  });
  return d;
}

double sum(const std::vector<double>& v) {
  double s = 0;
  for (const double a : v) s += a;
  return s;
}

// k-means++ with greedy local trials: each new centre is the best (lowest total squared
// distance) of 2 + ⌊ln k⌋ rows drawn with probability proportional to their squared distance to
// the nearest centre chosen so far.
RowMatrix seed_centers(const DenseMatrix& x, int k, std::mt19937_64& rng) {
  const auto xv = detail::view(x);
  RowMatrix centers(k, x.cols);
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::uniform_int_distribution<std::int64_t> first(0, x.rows - 1);
  const std::int64_t c0 = first(rng);
  centers.row(0) = xv.row(c0);
  std::vector<double> closest = distances_to(x, c0);
  double potential = sum(closest);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> cumulative(closest.size());
  for (int c = 1; c < k; ++c) {
    double acc = 0;
    for (std::size_t i = 0; i < closest.size(); ++i) cumulative[i] = acc += closest[i];
    std::int64_t best_row = 0;
    double best_potential = std::numeric_limits<double>::infinity();
    std::vector<double> best_closest;
    for (int t = 0; t < trials; ++t) {
      const double target = uniform(rng) * potential;
      const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), target);
      const std::int64_t row = std::min<std::int64_t>(it - cumulative.begin(), x.rows - 1);
      std::vector<double> d = distances_to(x, row);
      for (std::size_t i = 0; i < d.size(); ++i) d[i] = std::min(d[i], closest[i]);
      const double p = sum(d);
      if (p < best_potential) {
        best_potential = p;
        best_row = row;
        best_closest = std::move(d);
      }
    }
    centers.row(c) = xv.row(best_row);
    closest = std::move(best_closest);
    potential = best_potential;
  }
  return centers;
}

struct ClusterSums {
  RowMatrix sums;  // clusters × features
  Eigen::VectorXd counts;
  ClusterSums& operator+=(const ClusterSums& o) {
    sums += o.sums;
    counts += o.counts;
    return *this;
  }
};

KMeansResult lloyd(const DenseMatrix& x, const KMeansOptions& o, std::uint64_t seed, double tol_scaled) {
  const auto xv = detail::view(x);
  const int k = o.clusters;
  std::mt19937_64 rng(seed);
  RowMatrix centers = seed_centers(x, k, rng);
  std::vector<int> labels(static_cast<std::size_t>(x.rows)), previous;
  std::vector<double> dist(labels.size());
  assign(x, centers, labels, dist);
  const ClusterSums zero{RowMatrix::Zero(k, x.cols), Eigen::VectorXd::Zero(k)};
  KMeansResult out;
  for (out.iterations = 1; out.iterations <= o.max_iter; ++out.iterations) {
    ClusterSums s = detail::reduce_row_blocks(x.rows, x.cols, zero, [&](std::int64_t r0, std::int64_t r1, ClusterSums& acc) {
      for (std::int64_t i = r0; i < r1; ++i) {
        const int c = labels[static_cast<std::size_t>(i)];
        acc.sums.row(c) += xv.row(i);
        acc.counts(c) += 1;
      }
    });
    RowMatrix updated = centers;
    for (int c = 0; c < k; ++c) {
      if (s.counts(c) > 0) {
        updated.row(c) = s.sums.row(c) / s.counts(c);
        continue;
      }
      // An empty cluster takes the row farthest from its centre.
      const auto far = std::max_element(dist.begin(), dist.end()) - dist.begin();
      updated.row(c) = xv.row(far);
      dist[static_cast<std::size_t>(far)] = 0;
    }
    const double shift = (updated - centers).squaredNorm();
    centers = std::move(updated);
    previous = labels;
    assign(x, centers, labels, dist);
    if (labels == previous || shift <= tol_scaled) break;
  }
  out.iterations = std::min(out.iterations, o.max_iter);
  out.labels = std::move(labels);
  out.centers = detail::to_dense(centers);
  out.inertia = sum(dist);
  return out;
}

}  // namespace

KMeansResult kmeans(const DenseMatrix& x, const KMeansOptions& o) {
  if (o.clusters < 1 || o.clusters > x.rows)
    throw InvalidArgument(fmt::format("k-means: {} clusters of {} rows (expected 1 .. rows)", o.clusters, x.rows));
  if (o.max_iter < 1) throw InvalidArgument(fmt::format("k-means: max_iter = {}, expected >= 1", o.max_iter));
  if (!(o.tol >= 0)) throw InvalidArgument(fmt::format("k-means: tol = {}, expected >= 0", o.tol));
  if (o.n_init < 1) throw InvalidArgument(fmt::format("k-means: n_init = {}, expected >= 1", o.n_init));
  for (const double v : x.values)
    if (!std::isfinite(v)) throw InvalidArgument("k-means: the input holds a NaN or infinite value");
  return detail::with_threads(o.threads, [&] {
    // scikit-learn's tolerance: relative to the mean variance of the features.
    const auto xv = detail::view(x);
    const Eigen::RowVectorXd mean = xv.colwise().mean();
    const double mean_variance = (xv.rowwise() - mean).squaredNorm() / static_cast<double>(x.rows * x.cols);
    KMeansResult best;
    for (int run = 0; run < o.n_init; ++run) {
      KMeansResult r = lloyd(x, o, o.seed + static_cast<std::uint64_t>(run), o.tol * mean_variance);
      if (run == 0 || r.inertia < best.inertia) best = std::move(r);
    }
    return best;
  });
}

}  // namespace scandiff::analysis
