#include "scandiff/analysis/pca.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "eigen_blocks.hpp"
#include "scandiff/analysis/truncated_svd.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

PcaResult pca(const DenseMatrix& x, int components, int threads) {
  if (x.rows < 2) throw InvalidArgument(fmt::format("PCA: {} rows, expected at least 2", x.rows));
  if (components < 1 || components > std::min(x.rows, x.cols))
    throw InvalidArgument(fmt::format("PCA: {} components of a {} x {} matrix (expected 1 .. {})", components, x.rows,
                                      x.cols, std::min(x.rows, x.cols)));
  return detail::with_threads(threads, [&] {
    PcaResult out;
    const Eigen::RowVectorXd mean = detail::view(x).colwise().mean();
    DenseMatrix centred(x.rows, x.cols);
    detail::view(centred) = detail::view(x).rowwise() - mean;
    const TruncatedSvd svd = truncated_svd(centred, components);
    const double dof = static_cast<double>(x.rows - 1);
    const double total_variance = svd.total_squared / dof;
    for (const double s : svd.singular_values) {
      out.singular_values.push_back(s);
      out.explained_variance.push_back(s * s / dof);
      out.explained_variance_ratio.push_back(total_variance > 0 ? s * s / dof / total_variance : 0.0);
    }
    out.mean.assign(mean.data(), mean.data() + mean.size());
    out.components = svd.vt;
    out.scores = DenseMatrix(x.rows, components);
    detail::view(out.scores) = detail::view(svd.u) * Eigen::Map<const Eigen::VectorXd>(svd.singular_values.data(),
                                                                                         components).asDiagonal();
    return out;
  });
}

}  // namespace scandiff::analysis
