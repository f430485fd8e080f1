// Alignment of the scans of an SXDM frameset across θ: each scan's shift relative to the
// reference scan, estimated by phase correlation of per-scan 2D maps (an ROI-sum or total
// intensity map of the background-subtracted frames, or an MDA channel such as fluorescence).
//
// Phase correlation of maps a (moving scan) and b (reference), both (rows, cols), means removed:
//   X[k] = A[k]·conj(B[k]) / |A[k]·conj(B[k])|          (normalize = false: no division)
//   c(d) = Re Σ_k X[k] exp(+2πi (f_y(k_y)·d_y + f_x(k_x)·d_x))   (f = signed FFT frequency)
// c peaks at d = shift with a(p + shift) ≈ b(p), the shift convention of frameset.hpp. The
// integer peak comes from the inverse FFT (analysis/fft2, FFTW); with upsample u > 1 the peak is
// refined by evaluating c directly (a matrix DFT) on a grid of step 1/u over ±1.5 px around it
// (the upsampled-DFT refinement of Guizar-Sicairos et al., Opt. Lett. 33, 156 (2008)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/sxdm/detector_box.hpp"
#include "scandiff/sxdm/frameset.hpp"

namespace scandiff::sxdm {

struct PhaseCorrelation {
  double dy = 0, dx = 0;  // shift of `moving` relative to `reference`, scan steps
  double peak = 0;        // c at the peak / number of pixels (1 for identical maps, normalized)
};

// Throws InvalidArgument when the maps differ in shape, are not 2D, or upsample < 1.
PhaseCorrelation phase_correlation(const Array& reference, const Array& moving, std::int64_t upsample = 20,
                                   bool normalize = true);


// Which per-scan map to align: "sum" (total intensity of each background-subtracted frame),
// "roi:x0,y0,x1,y1" (the sum over a detector box: a rectangle virtual detector) or
// "mda:CHANNEL" (an MDA detector channel, e.g. "mda:D05"; MDA scans only).
struct AlignmentMap {
  enum class Kind { sum, roi, mda_channel };
  Kind kind = Kind::sum;
  DetectorBox box;
  std::string channel;
};
AlignmentMap parse_alignment_map(const std::string& text);

// Each scan's map on its own grid (no shift), float64 (rows, cols).
std::vector<Array> frameset_maps(const Frameset& frameset, const AlignmentMap& map, const engine::RunOptions& run = {});

// The shift of every scan relative to the reference from `maps` (one per scan, all of one
// shape): the reference gets (0, 0); scans whose manifest shift is manual keep it.
std::vector<ScanShift> estimate_shifts(const Frameset& frameset, const std::vector<Array>& maps,
                                       std::int64_t upsample = 20, bool normalize = true,
                                       std::vector<PhaseCorrelation>* details = nullptr);

}  // namespace scandiff::sxdm
