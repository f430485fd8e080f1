#include "scandiff/analysis/fft_columns.hpp"

#include <fftw3.h>

#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "fftw_planner.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

ColumnFft::ColumnFft(std::int64_t rows, std::int64_t cols, bool inverse) : rows_(rows), cols_(cols) {
  if (rows < 1 || cols < 1 || rows > (1 << 24) || cols > (1 << 24))
    throw InvalidArgument(fmt::format("column fft: shape {}x{} must be positive", rows, cols));
  const int n = static_cast<int>(rows), stride = static_cast<int>(cols);
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  fftw_complex* p = fftw_alloc_complex(static_cast<std::size_t>(rows * cols));
  // One transform of length `rows` per column: element stride `cols`, columns 1 apart. A SIMD
  // plan for buffers at FFTW's alignment (std::vector's), as careful as set_fft_planning() says,
  // and one for any address.
  for (const unsigned flags : {fftw_planner_flags(), unsigned{FFTW_ESTIMATE | FFTW_UNALIGNED}})
    (flags & FFTW_UNALIGNED ? unaligned_plan_ : plan_) =
        fftw_plan_many_dft(1, &n, static_cast<int>(cols), p, nullptr, stride, 1, p, nullptr, stride, 1,
                           inverse ? FFTW_BACKWARD : FFTW_FORWARD, flags);
  fftw_free(p);
  if (!plan_ || !unaligned_plan_)
    throw Error(fmt::format("column fft: FFTW could not plan {} transforms of length {}", cols, rows));
}

ColumnFft::~ColumnFft() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (plan_) fftw_destroy_plan(static_cast<fftw_plan>(plan_));
  if (unaligned_plan_) fftw_destroy_plan(static_cast<fftw_plan>(unaligned_plan_));
}

void ColumnFft::execute(std::complex<double>* data) const {
  auto* p = reinterpret_cast<fftw_complex*>(data);
  const bool aligned = fftw_alignment_of(reinterpret_cast<double*>(p)) == 0;
  fftw_execute_dft(static_cast<fftw_plan>(aligned ? plan_ : unaligned_plan_), p, p);
}

}  // namespace scandiff::analysis
