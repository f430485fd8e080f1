// 2D real-to-complex FFTs (FFTW, double precision) of a fixed size, usable from many threads.
// The plans are made once (under a process-wide lock, as FFTW requires; as careful as
// set_fft_planning() says, fft_planning.hpp, default FFTW_ESTIMATE); forward()
// and inverse() then run on caller buffers concurrently. Buffers at FFTW's SIMD alignment (16
// bytes, as std::vector and malloc give on x86-64) take the fast plans, other addresses slower
// unaligned ones (results may then differ in the last bits).
//
// Layout (FFTW's): a real (ny, nx) C-order image <-> its half spectrum, (ny, nx/2 + 1) complex
// values in C order. inverse() is unnormalised: inverse(forward(x)) = ny·nx·x.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>

namespace scandiff::analysis {

class RealFft2D {
 public:
  // Throws InvalidArgument for a non-positive size.
  RealFft2D(std::int64_t ny, std::int64_t nx);
  ~RealFft2D();
  RealFft2D(const RealFft2D&) = delete;
  RealFft2D& operator=(const RealFft2D&) = delete;

  std::int64_t ny() const { return ny_; }
  std::int64_t nx() const { return nx_; }
  std::int64_t spectrum_size() const { return ny_ * (nx_ / 2 + 1); }

  // `image` (ny·nx values) -> `spectrum` (spectrum_size() values). `image` is not modified.
  void forward(const double* image, std::complex<double>* spectrum) const;
  // `spectrum` -> `image`, unnormalised. `spectrum` is overwritten (FFTW's c2r destroys its input).
  void inverse(std::complex<double>* spectrum, double* image) const;

 private:
  std::int64_t ny_, nx_;
  struct Plans;
  std::unique_ptr<Plans> plans_;
};

}  // namespace scandiff::analysis
