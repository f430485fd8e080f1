#include "scandiff/analysis/fft_columns.hpp"

#include <fftw3.h>

#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "fftw_planner.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

ColumnFft::ColumnFft(std::int64_t rows, std::int64_t cols, bool inverse, ColumnInput input)
    : rows_(rows), cols_(cols), input_(input) {
  if (rows < 1 || cols < 1 || rows > (1 << 24) || cols > (1 << 24))
    throw InvalidArgument(fmt::format("column fft: shape {}x{} must be positive", rows, cols));
  const int n = static_cast<int>(rows), c = static_cast<int>(cols);
  const bool transposed = input == ColumnInput::transposed;
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  fftw_complex* in = fftw_alloc_complex(static_cast<std::size_t>(rows * cols));
  fftw_complex* out = transposed ? fftw_alloc_complex(static_cast<std::size_t>(rows * cols)) : in;
  // One transform of length `rows` per column. Output: element stride `cols`, columns 1 apart;
  // input the same (in place) or element stride 1, columns `rows` apart (transposed). A SIMD
  // plan for buffers at FFTW's alignment (std::vector's), as careful as set_fft_planning() says,
  // and one for any address.
  for (const unsigned flags : {fftw_planner_flags(), unsigned{FFTW_ESTIMATE | FFTW_UNALIGNED}})
    (flags & FFTW_UNALIGNED ? unaligned_plan_ : plan_) =
        fftw_plan_many_dft(1, &n, c, in, nullptr, transposed ? 1 : c, transposed ? n : 1, out, nullptr, c, 1,
                           inverse ? FFTW_BACKWARD : FFTW_FORWARD, flags | (transposed ? FFTW_PRESERVE_INPUT : 0u));
  if (out != in) fftw_free(out);
  fftw_free(in);
  if (!plan_ || !unaligned_plan_)
    throw Error(fmt::format("column fft: FFTW could not plan {} transforms of length {}", cols, rows));
}

ColumnFft::~ColumnFft() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (plan_) fftw_destroy_plan(static_cast<fftw_plan>(plan_));
  if (unaligned_plan_) fftw_destroy_plan(static_cast<fftw_plan>(unaligned_plan_));
}

void ColumnFft::execute(std::complex<double>* data) const {
  if (input_ != ColumnInput::in_place) throw InvalidArgument("column fft: planned for a transposed input");
  auto* p = reinterpret_cast<fftw_complex*>(data);
  const bool aligned = fftw_alignment_of(reinterpret_cast<double*>(p)) == 0;
  fftw_execute_dft(static_cast<fftw_plan>(aligned ? plan_ : unaligned_plan_), p, p);
}

void ColumnFft::execute(const std::complex<double>* columns, std::complex<double>* out) const {
  if (input_ != ColumnInput::transposed) throw InvalidArgument("column fft: planned for an in-place input");
  // The plan preserves its input (FFTW_PRESERVE_INPUT), so the const_cast never writes.
  auto* i = reinterpret_cast<fftw_complex*>(const_cast<std::complex<double>*>(columns));
  auto* o = reinterpret_cast<fftw_complex*>(out);
  const bool aligned =
      fftw_alignment_of(reinterpret_cast<double*>(i)) == 0 && fftw_alignment_of(reinterpret_cast<double*>(o)) == 0;
  fftw_execute_dft(static_cast<fftw_plan>(aligned ? plan_ : unaligned_plan_), i, o);
}

}  // namespace scandiff::analysis
