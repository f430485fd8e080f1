// Gaussian smoothing as scipy.ndimage.gaussian_filter defines it (float64 input):
// kernel w[i] = exp(−i²/(2σ²)) for i = −R..R, R = int(truncate·σ + 0.5), normalised to sum 1;
// separable, applied along axis 0 (rows, qy) then axis 1 (columns, qx); boundary mode
// 'nearest' (the edge pixel is repeated, the default) or scipy's default 'reflect'
// (d c b a | a b c d | d c b a: mirrored about the pixel edge).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace scandiff::analysis {

enum class BlurEdge { nearest, reflect };

// The normalised 1D kernel, 2R + 1 weights, centre at index R. Throws InvalidArgument for
// sigma <= 0 or truncate <= 0.
std::vector<double> gaussian_kernel(double sigma, double truncate = 4.0);

// Blurs the (ny, nx) C-order image `in` into `out` (ny·nx values, may not alias `in`) with the
// kernel above; `scratch` is resized as needed (reuse it across calls to avoid allocations).
void gaussian_blur(std::span<const double> in, std::span<double> out, std::int64_t ny, std::int64_t nx,
                   std::span<const double> kernel, std::vector<double>& scratch,
                   BlurEdge edge = BlurEdge::nearest);

// The 1D filter (scipy.ndimage.gaussian_filter1d / correlate1d with the kernel above):
// out[i] = Σ_t kernel[t]·in[i + t − R] with out-of-range indices per the boundary mode (any
// length, the reflection repeated when R exceeds it). `out` has in.size() values and may not
// alias `in`.
void gaussian_filter1d(std::span<const double> in, std::span<double> out, std::span<const double> kernel,
                       BlurEdge edge = BlurEdge::nearest);

}  // namespace scandiff::analysis
