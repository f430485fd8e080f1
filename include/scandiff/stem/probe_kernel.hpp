// Correlation kernels made from a vacuum probe (py4DSTEM's Probe.get_kernel,
// stem-algorithms.md §3). The probe p (float64 (qy, qx)) is first shifted so that its centre
// (given, or measure_probe_size's centre of mass) sits on pixel (0, 0); distances r are then the
// FFT-wrapped distances to that corner: r² = dy² + dx², d = ((i + n/2) mod n) − n/2.
//   flat:           K = p/Σp
//   gaussian(σ):    K = p/Σp − G/ΣG,  G = exp(−r²/(2σ²⟨r²⟩)), ⟨r²⟩ = Σ r²p/Σp  (σ relative to
//                   the probe's own r.m.s. radius)
//   sigmoid:        K = p/Σp − S/ΣS,  S = cos²(π/2·clip((r − ri)/(ro − ri), 0, 1))   (sine squared)
//   logistic:       K = p/Σp − S/ΣS,  S = 1/(1 + exp((r − r0)/s)), r0 = (ri + ro)/2, s = (ro − ri)/4
// The subtracted terms make K integrate to 0, so flat background does not correlate.
// py4DSTEM maps its "sigmoid_log" mode to the sine-squared function (a defect); here "logistic"
// is the logistic function. Both have their half point at r0; the logistic one has tails beyond
// [ri, ro] (about 2% of its step at ri and ro), the sine-squared one is exactly 1 inside ri
// and 0 outside ro.
// Shift: Fourier (sinc interpolation, periodic) or bilinear (periodic), py4DSTEM's defaults are
// Fourier for flat and bilinear for the others.
#pragma once

#include <optional>
#include <string_view>

#include "scandiff/core/array.hpp"

namespace scandiff::stem {

enum class KernelMode { flat, gaussian, sigmoid, logistic };

// "flat", "gaussian", "sigmoid" (sine squared), "logistic"; throws InvalidArgument otherwise.
KernelMode parse_kernel_mode(std::string_view name);
std::string_view kernel_mode_name(KernelMode mode);

struct KernelOptions {
  KernelMode mode = KernelMode::sigmoid;
  double sigma = 2;         // gaussian: width relative to the probe's r.m.s. radius
  double inner_px = 0;      // sigmoid/logistic: ri
  double outer_px = 0;      // sigmoid/logistic: ro (> ri)
  std::optional<double> center_qy_px, center_qx_px;  // probe centre; unset: measure_probe_size
  std::optional<bool> bilinear;  // unset: py4DSTEM's default for the mode
};

// The kernel, float64 (qy, qx) of the probe's shape. Throws InvalidArgument naming the option
// for a non-2D or non-positive probe, sigma <= 0, or ri >= ro / ri < 0 for the sigmoids.
Array probe_kernel(const Array& probe, const KernelOptions& options);

// `image` (float64 (qy, qx)) shifted by (dy, dx) pixels with periodic wrap: Fourier shift
// (multiply the spectrum by exp(−2πi(ky·dy + kx·dx)), real part) or bilinear interpolation.
Array shift_image(const Array& image, double dy, double dx, bool bilinear);

}  // namespace scandiff::stem
