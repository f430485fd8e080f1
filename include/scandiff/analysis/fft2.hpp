// Two-dimensional complex discrete Fourier transforms (FFTW), for Fourier shifts of
// diffraction patterns and Fourier integration of phase gradients.
//
// Conventions (numpy.fft.fft2 / ifft2 without the 1/N of ifft2):
//   forward:  X[ky, kx] = sum_{y, x} x[y, x] · exp(-2πi (ky·y/ny + kx·x/nx))
//   inverse:  x[y, x]   = sum_{ky, kx} X[ky, kx] · exp(+2πi (ky·y/ny + kx·x/nx))   (unnormalised)
// Arrays are C order (ny, nx): the last index is the fast one. Frequency index k stands for
// fftfreq(n)[k] = k/n for k < ceil(n/2), (k - n)/n otherwise (cycles per pixel); see fft_frequency.
#pragma once

#include <complex>
#include <cstdint>

namespace scandiff::analysis {

// The frequency (cycles per sample) of index k of an n-point transform, as numpy.fft.fftfreq(n)[k].
inline double fft_frequency(std::int64_t k, std::int64_t n) {
  const std::int64_t half = (n - 1) / 2 + 1;  // indices [0, half) are the non-negative frequencies
  return static_cast<double>(k < half ? k : k - n) / static_cast<double>(n);
}

// An in-place 2D complex transform of a fixed shape. Planning (FFTW_ESTIMATE) is serialised
// by a process-wide lock; forward() and inverse() may then be called from many threads at once
// on different buffers (any alignment).
class Fft2 {
 public:
  // Throws InvalidArgument unless ny, nx >= 1.
  Fft2(std::int64_t ny, std::int64_t nx);
  ~Fft2();
  Fft2(const Fft2&) = delete;
  Fft2& operator=(const Fft2&) = delete;

  std::int64_t ny() const { return ny_; }
  std::int64_t nx() const { return nx_; }
  // `data` holds ny*nx values, C order; transformed in place.
  void forward(std::complex<double>* data) const;
  void inverse(std::complex<double>* data) const;

 private:
  std::int64_t ny_, nx_;
  void* forward_plan_ = nullptr;  // fftw_plan
  void* inverse_plan_ = nullptr;
};

}  // namespace scandiff::analysis
