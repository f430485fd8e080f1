#include "scandiff/analysis/fft2.hpp"

#include <fftw3.h>

#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "fftw_planner.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::analysis {

namespace {

fftw_plan make_plan(std::int64_t ny, std::int64_t nx, int sign) {
  std::vector<std::complex<double>> scratch(static_cast<std::size_t>(ny * nx));
  auto* p = reinterpret_cast<fftw_complex*>(scratch.data());
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  // In place, any alignment: the same plan serves every caller's buffer through fftw_execute_dft.
  return fftw_plan_dft_2d(static_cast<int>(ny), static_cast<int>(nx), p, p, sign, FFTW_ESTIMATE | FFTW_UNALIGNED);
}

}  // namespace

Fft2::Fft2(std::int64_t ny, std::int64_t nx) : ny_(ny), nx_(nx) {
  if (ny < 1 || nx < 1 || ny > (1 << 24) || nx > (1 << 24))
    throw InvalidArgument(fmt::format("fft: shape {}x{} must be positive", ny, nx));
  forward_plan_ = make_plan(ny, nx, FFTW_FORWARD);
  inverse_plan_ = make_plan(ny, nx, FFTW_BACKWARD);
  if (!forward_plan_ || !inverse_plan_) throw Error(fmt::format("fft: FFTW could not plan a {}x{} transform", ny, nx));
}

Fft2::~Fft2() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (forward_plan_) fftw_destroy_plan(static_cast<fftw_plan>(forward_plan_));
  if (inverse_plan_) fftw_destroy_plan(static_cast<fftw_plan>(inverse_plan_));
}

void Fft2::forward(std::complex<double>* data) const {
  auto* p = reinterpret_cast<fftw_complex*>(data);
  fftw_execute_dft(static_cast<fftw_plan>(forward_plan_), p, p);
}

void Fft2::inverse(std::complex<double>* data) const {
  auto* p = reinterpret_cast<fftw_complex*>(data);
  fftw_execute_dft(static_cast<fftw_plan>(inverse_plan_), p, p);
}

}  // namespace scandiff::analysis
