// Batched one-dimensional complex DFTs along axis 0 of a (rows, cols) C-order array: every
// column is transformed independently (FFTW "many" plans as careful as set_fft_planning() says;
// a SIMD plan for buffers at FFTW's 16-byte alignment, as std::vector gives, a slower one for
// others). Two input layouts: the array itself, transformed in place, or its transpose (each
// column's values contiguous), transformed out of place into the (rows, cols) array — with
// FFTW_ESTIMATE plans the second is ~1.5x faster for 129 columns of 256 (the first ~1.1x with
// FFTW_PATIENT plans).
// Planning takes the process-wide planner lock; execute() may then run from many threads at
// once on different buffers.
//   inverse: X[r, c] ← Σ_k X[k, c] · exp(+2πi k·r/rows)   (unnormalised)
//   forward: X[r, c] ← Σ_k X[k, c] · exp(−2πi k·r/rows)
#pragma once

#include <complex>
#include <cstdint>

namespace scandiff::analysis {

enum class ColumnInput { in_place, transposed };

class ColumnFft {
 public:
  // Throws InvalidArgument unless rows, cols >= 1.
  ColumnFft(std::int64_t rows, std::int64_t cols, bool inverse, ColumnInput input = ColumnInput::in_place);
  ~ColumnFft();
  ColumnFft(const ColumnFft&) = delete;
  ColumnFft& operator=(const ColumnFft&) = delete;

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  ColumnInput input() const { return input_; }
  // ColumnInput::in_place: `data` holds rows·cols values, C order; transformed in place.
  void execute(std::complex<double>* data) const;
  // ColumnInput::transposed: `columns` holds the (cols, rows) C-order transpose (not modified);
  // `out` receives the transform, (rows, cols) C order.
  void execute(const std::complex<double>* columns, std::complex<double>* out) const;

 private:
  std::int64_t rows_, cols_;
  ColumnInput input_;
  void* plan_ = nullptr;            // fftw_plan, for buffers at FFTW's alignment
  void* unaligned_plan_ = nullptr;  // for any other address
};

}  // namespace scandiff::analysis
