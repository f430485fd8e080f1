// Integrated DPC (iDPC): the phase φ whose gradient is a given field, by Fourier integration.
// With (gx, gy) = (∂φ/∂rx, ∂φ/∂ry) in radians per scan pixel on the (ry, rx) grid,
//   Φ(fy, fx) = (fx·Gx + fy·Gy) / (2πi·(fx² + fy² + ε)),   Φ(0, 0) = 0,
// where G = FFT2(g), fy, fx the fftfreq of the row and column index (cycles per scan pixel),
// and ε = regularization (0 by default; a positive value damps the lowest frequencies).
// φ = Re IFFT2(Φ) has zero mean. With `mirror` (default) the gradient field is first extended
// to 2H x 2W by mirroring the phase (gx odd and gy even across the column mirror, and the
// reverse across the row mirror), which makes it periodic and removes the edge artefacts of a
// plain periodic integration; the result is cropped back to H x W.
// Non-finite gradient values are treated as 0. (py4DSTEM's DPC reaches the same φ by gradient
// descent on a finite-difference residual; this is the direct solution.)
#pragma once

#include "scandiff/core/array.hpp"

namespace scandiff::stem {

struct PhaseIntegrationOptions {
  bool mirror = true;
  double regularization = 0;  // ε, in (cycles per scan pixel)²
};

// Throws InvalidArgument unless gx and gy are 2D maps of one shape.
Array integrate_gradient(const Array& gx, const Array& gy, const PhaseIntegrationOptions& options = {});

}  // namespace scandiff::stem
