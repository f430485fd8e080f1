#include "scandiff/analysis/class_means.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

ClassMeans threshold_class_means(const DenseMatrix& coefficients, const Array& signal, double q) {
  if (!(q >= 0 && q <= 1)) throw InvalidArgument(fmt::format("class means: quantile {}, expected 0 .. 1", q));
  const std::int64_t positions = coefficients.rows, k = coefficients.cols;
  if (signal.rank() < 1 || signal.size() == 0 || signal.size() % std::max<std::int64_t>(positions, 1) != 0 ||
      (signal.rank() >= 2 && signal.size() / signal.shape().back() != positions))
    throw InvalidArgument(fmt::format("class means: {} coefficient rows but the signal has shape {}", positions,
                                      shape_string(signal.shape())));
  const std::int64_t channels = signal.size() / positions;
  const Array contiguous = signal.is_contiguous() ? signal : signal.copy();
  ClassMeans out;
  out.means = DenseMatrix(k, channels);
  out.masks = Array(DType::u8, {k, positions});
  auto* mask = out.masks.data<std::uint8_t>();
  for (std::int64_t c = 0; c < k; ++c) {
    std::vector<double> column(static_cast<std::size_t>(positions));
    for (std::int64_t i = 0; i < positions; ++i) column[static_cast<std::size_t>(i)] = coefficients(i, c);
    const double t = quantile(column, q);
    out.thresholds.push_back(t);
    std::int64_t n = 0;
    visit_dtype(contiguous.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* s = contiguous.data<T>();
      for (std::int64_t i = 0; i < positions; ++i) {
        if (!(coefficients(i, c) >= t)) continue;
        mask[c * positions + i] = 1;
        ++n;
        for (std::int64_t e = 0; e < channels; ++e) out.means(c, e) += static_cast<double>(s[i * channels + e]);
      }
    });
    for (std::int64_t e = 0; e < channels; ++e) out.means(c, e) = n > 0 ? out.means(c, e) / static_cast<double>(n) : 0.0;
    out.counts.push_back(n);
  }
  return out;
}

}  // namespace scandiff::analysis
