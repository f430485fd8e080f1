// Batched one-dimensional complex DFTs along axis 0 of a (rows, cols) C-order array: every
// column is transformed independently, in place (FFTW "many" plan, FFTW_ESTIMATE; a SIMD plan
// for buffers at FFTW's 16-byte alignment, as std::vector gives, a slower one for others).
// Planning takes the process-wide planner lock; execute() may then run from many threads at
// once on different buffers.
//   inverse: X[r, c] ← Σ_k X[k, c] · exp(+2πi k·r/rows)   (unnormalised)
//   forward: X[r, c] ← Σ_k X[k, c] · exp(−2πi k·r/rows)
#pragma once

#include <complex>
#include <cstdint>

namespace scandiff::analysis {

class ColumnFft {
 public:
  // Throws InvalidArgument unless rows, cols >= 1.
  ColumnFft(std::int64_t rows, std::int64_t cols, bool inverse);
  ~ColumnFft();
  ColumnFft(const ColumnFft&) = delete;
  ColumnFft& operator=(const ColumnFft&) = delete;

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  // `data` holds rows·cols values, C order; transformed in place.
  void execute(std::complex<double>* data) const;

 private:
  std::int64_t rows_, cols_;
  void* plan_ = nullptr;            // fftw_plan, for buffers at FFTW's alignment
  void* unaligned_plan_ = nullptr;  // for any other address
};

}  // namespace scandiff::analysis
