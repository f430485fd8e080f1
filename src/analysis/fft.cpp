#include "scandiff/analysis/fft.hpp"

#include <fftw3.h>

#include <mutex>

#include <fmt/format.h>

#include "fftw_planner.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

struct RealFft2D::Plans {
  fftw_plan forward = nullptr, inverse = nullptr;
};

RealFft2D::RealFft2D(std::int64_t ny, std::int64_t nx) : ny_(ny), nx_(nx), plans_(std::make_unique<Plans>()) {
  if (ny < 1 || nx < 1 || ny > (1 << 20) || nx > (1 << 20))
    throw InvalidArgument(fmt::format("fft: size {}x{} must be positive", ny, nx));
  // Plans are made on scratch arrays with FFTW's alignment; execution uses the new-array
  // interface, which needs buffers of the same alignment class: unaligned plans work with any.
  std::lock_guard lock(fftw_planner_mutex());
  double* r = fftw_alloc_real(static_cast<std::size_t>(ny * nx));
  fftw_complex* c = fftw_alloc_complex(static_cast<std::size_t>(spectrum_size()));
  const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
  plans_->forward = fftw_plan_dft_r2c_2d(static_cast<int>(ny), static_cast<int>(nx), r, c, flags);
  plans_->inverse = fftw_plan_dft_c2r_2d(static_cast<int>(ny), static_cast<int>(nx), c, r, flags);
  fftw_free(r);
  fftw_free(c);
  if (!plans_->forward || !plans_->inverse) throw Error(fmt::format("fft: FFTW could not plan a {}x{} transform", ny, nx));
}

RealFft2D::~RealFft2D() {
  std::lock_guard lock(fftw_planner_mutex());
  if (plans_->forward) fftw_destroy_plan(plans_->forward);
  if (plans_->inverse) fftw_destroy_plan(plans_->inverse);
}

void RealFft2D::forward(const double* image, std::complex<double>* spectrum) const {
  // r2c does not modify its input (FFTW guarantees this for out-of-place transforms).
  fftw_execute_dft_r2c(plans_->forward, const_cast<double*>(image), reinterpret_cast<fftw_complex*>(spectrum));
}

void RealFft2D::inverse(std::complex<double>* spectrum, double* image) const {
  fftw_execute_dft_c2r(plans_->inverse, reinterpret_cast<fftw_complex*>(spectrum), image);
}

}  // namespace scandiff::analysis
