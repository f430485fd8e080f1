// ColumnFft (analysis/fft_columns.hpp): batched DFTs along axis 0, from the array in place or
// from its transpose, against the directly summed DFT.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "scandiff/analysis/fft_columns.hpp"
#include "scandiff/core/error.hpp"

namespace sa = scandiff::analysis;
using cplx = std::complex<double>;

TEST(ColumnFft, BothInputLayoutsGiveTheDirectSum) {
  const std::int64_t rows = 24, cols = 7;
  std::vector<cplx> x(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = {std::sin(0.7 * static_cast<double>(i)), std::cos(1.3 * static_cast<double>(i)) + 0.1};
  // Inverse DFT along axis 0: X[r, c] = Σ_k x[k, c]·exp(+2πi k·r/rows).
  std::vector<cplx> direct(x.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      cplx s = 0;
      for (std::int64_t k = 0; k < rows; ++k)
        s += x[static_cast<std::size_t>(k * cols + c)] *
             std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(k * r) / static_cast<double>(rows));
      direct[static_cast<std::size_t>(r * cols + c)] = s;
    }
  std::vector<cplx> in_place = x;
  sa::ColumnFft(rows, cols, true).execute(in_place.data());
  std::vector<cplx> transposed(x.size()), out(x.size());
  for (std::int64_t k = 0; k < rows; ++k)
    for (std::int64_t c = 0; c < cols; ++c)
      transposed[static_cast<std::size_t>(c * rows + k)] = x[static_cast<std::size_t>(k * cols + c)];
  const std::vector<cplx> kept = transposed;
  const sa::ColumnFft from_transpose(rows, cols, true, sa::ColumnInput::transposed);
  EXPECT_EQ(from_transpose.input(), sa::ColumnInput::transposed);
  from_transpose.execute(transposed.data(), out.data());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(std::abs(in_place[i] - direct[i]), 0, 1e-12);
    EXPECT_NEAR(std::abs(out[i] - direct[i]), 0, 1e-12);
  }
  EXPECT_EQ(transposed, kept);  // the transposed input is not modified
  EXPECT_THROW(from_transpose.execute(out.data()), scandiff::InvalidArgument);
  EXPECT_THROW(sa::ColumnFft(rows, cols, true).execute(kept.data(), out.data()), scandiff::InvalidArgument);
}
