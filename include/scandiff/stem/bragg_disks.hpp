// Bragg disk detection in one diffraction pattern, as py4DSTEM's find_Bragg_disks defines it
// on the CPU (stem-algorithms.md §4). Axes: a frame is (qy, qx), qx the column; peaks are
// reported as (qx, qy) = (column, row) in detector pixels, pixel centres at integers.
// py4DSTEM's (x, y) are our (qy, qx).
//
// Per pattern:
//   1. optional radial background (radial_bksb): py4DSTEM's get_radial_bksb_dp about the
//      pattern's origin (radial_background.hpp: the median over angle of the polar transform per
//      radial bin, smoothed, interpolated at every pixel's elliptical radius, subtracted, negative
//      values set to 0);
//   2. optional Gaussian, σ = sigma_dp (scipy gaussian_filter, mode 'reflect'), in float64
//      (py4DSTEM blurs integer patterns into their own dtype, truncating);
//   3. hybrid correlation: m = FFT2(DP)·conj(FFT2(kernel)), C = |m|^p·exp(i·arg m),
//      p = corr_power (1 cross, 0 phase correlation); cc = max(Re IFFT2(C), 0) (numpy's 1/N
//      normalisation, so intensities match py4DSTEM's). With no kernel, cc = DP and C = FFT2(DP)
//      (py4DSTEM then inverse-transforms the DP itself, a defect);
//   4. optional Gaussian σ = sigma_cc on cc ('reflect'); call the result ar;
//   5. local maxima of ar against its 8 periodic neighbours, ≥ the (−1) neighbours and > the
//      (+1) ones (py4DSTEM's tie rule); the first and last max(edge_boundary, 1) rows and
//      columns are excluded;
//   6. sorted by ar descending (ties: larger row, then larger column first, as numpy's sort of
//      the (x, y, intensity) records reversed);
//   7. filters in py4DSTEM's CPU order on the pixel values: I < min_absolute_intensity dropped
//      (when > 0); I/I[relative_to_peak] < min_relative_intensity dropped (when > 0 and there are
//      more than relative_to_peak peaks); greedy minimum spacing (a later peak closer than
//      min_peak_spacing, strictly, to a kept one is dropped; when > 0); the first max_num_peaks;
//   8. subpixel:
//      pixel:     none;
//      poly:      a parabola per axis through ar: δ = (I₊ − I₋)/(4I₀ − 2I₊ − 2I₋); the intensity
//                 becomes ar bilinearly interpolated at the refined position;
//      multicorr: poly, then from the poly position rounded to 0.5 px and then to 1/u (u the
//                 upsample factor) the band-limited correlation Re Σ C·exp(2πi(y·m_s/Ny +
//                 x·n_s/Nx)) (m_s, n_s signed frequency indices, the Nyquist index negative) is
//                 evaluated on a K×K grid of step 1/u, K = ceil(1.5u), centred at index
//                 g = floor(K/2); its argmax k, refined by a parabola when not on the grid border,
//                 gives y = y0 + (k − g + δ)/u (the same along x). Peaks are then re-sorted by
//                 intensity (which keeps the poly value).
//      The grid values are the Guizar-Sicairos matrix-multiply DFT that py4DSTEM computes per
//      peak; here the column transforms are shared by all peaks of a pattern (u batched FFTs
//      along qy of the modulated half spectrum, one 1/u residue at a time, since every grid row
//      lies on the 1/u lattice), so a peak costs K²·(Nx/2 + 1) instead of K·Ny·Nx, done as one
//      register-blocked matrix product per residue for all peaks (the Nyquist row folded in).
//      Equal to the direct sum to ~1e-12 px (tests/cpp/test_bragg.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <complex>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"
#include "scandiff/stem/radial_background.hpp"

namespace scandiff::stem {

enum class Subpixel { pixel, poly, multicorr };

// "pixel" (py4DSTEM's name; "none" accepted), "poly", "multicorr".
Subpixel parse_subpixel(std::string_view name);
std::string_view subpixel_name(Subpixel s);

// py4DSTEM's find_Bragg_disks parameters and defaults (its camelCase names in comments).
struct DiskDetectionOptions {
  double corr_power = 1;                // corrPower, in [0, 1]
  double sigma_dp = 0;                  // px, Gaussian on the pattern (0: none)
  double sigma_cc = 2;                  // px, Gaussian on the correlation (0: none)
  Subpixel subpixel = Subpixel::multicorr;
  int upsample_factor = 16;             // multicorr only, >= 3
  double min_absolute_intensity = 0;    // minAbsoluteIntensity
  double min_relative_intensity = 0.005;  // minRelativeIntensity
  int relative_to_peak = 0;             // relativeToPeak
  double min_peak_spacing = 60;         // minPeakSpacing, px
  int edge_boundary = 20;               // edgeBoundary, px
  int max_num_peaks = 70;               // maxNumPeaks, >= 1
  bool radial_background = false;       // radial_bksb
  PolarOptions radial_polar{};          // its polar bins (py4DSTEM's PolarDatacube qmin, qmax, qstep, n_annular...)
};

// Throws InvalidArgument naming the first option that is out of range (e.g. "disk detection:
// upsample_factor must be >= 3 (got 1)"), for absurd values of a frame of (ny, nx) pixels too
// (e.g. an edge boundary that leaves no pixel).
void validate(const DiskDetectionOptions& options, std::int64_t ny, std::int64_t nx);

struct BraggPeak {
  double qx = 0, qy = 0;   // detector pixels: column, row
  double intensity = 0;    // correlation value (ar) at the peak
};

// Finds disks in frames of one shape with one kernel. Immutable after construction, so one
// finder serves all threads; each thread brings its own Workspace (buffers).
class DiskFinder {
 public:
  // `kernel`: 2D (qy, qx) of the frame shape (e.g. probe_kernel()), or empty for no template.
  // `ellipse`: the calibration's, used by the radial background only.
  // Throws InvalidArgument for bad options (validate()), a kernel of another shape or with NaN.
  DiskFinder(const Array& kernel, std::int64_t ny, std::int64_t nx, const DiskDetectionOptions& options,
             const std::optional<Ellipse>& ellipse = std::nullopt);
  ~DiskFinder();
  DiskFinder(const DiskFinder&) = delete;
  DiskFinder& operator=(const DiskFinder&) = delete;

  // Per-thread buffers (sizes set by make_workspace(); contents are scratch).
  struct Workspace {
    std::vector<double> input;  // for the caller: a frame converted to float64 (find() does not use it)
    std::vector<double> dp, blurred, cc, ar, scratch;
    std::vector<std::complex<double>> spectrum, corr, tmp;
    // multicorr: one slab (ny, nx/2 + 1) of H (grid rows t ≡ r mod u), the per-peak column
    // phases M (nx/2 + 1 each), the slab rows the peaks need times their M, the per-peak K×K
    // grids, one product's outputs, its row pointers and target grid rows, and the per-peak
    // grid origins (ty, tx).
    // (slab_in: the modulated spectrum, transposed, where the column FFT takes that layout.)
    std::vector<std::complex<double>> slab, slab_in, col_mod, modulated;
    std::vector<double> grid, dots;
    std::vector<const double*> row_ptrs;
    std::vector<std::int64_t> row_target, starts;
    std::vector<std::uint8_t> flags;         // local-maximum flags of one row
    std::vector<BraggPeak> sorted;           // candidate maxima
    RadialBackground::Workspace radial;      // radial background (its polar plan of the last origin)
  };

  std::unique_ptr<Workspace> make_workspace() const;

  // Peaks of one frame (ny·nx float64 values, C order), strongest first, into `peaks`
  // (cleared first). origin_qy/qx are used by the radial background only.
  void find(const double* frame, Workspace& ws, std::vector<BraggPeak>& peaks, double origin_qy = 0,
            double origin_qx = 0) const;

  const DiskDetectionOptions& options() const { return options_; }
  std::int64_t ny() const { return ny_; }
  std::int64_t nx() const { return nx_; }

 private:
  struct Impl;
  std::int64_t ny_, nx_;
  DiskDetectionOptions options_;
  std::unique_ptr<Impl> impl_;
};

// Convenience: peaks of one 2D frame (any dtype), without the radial background (it needs the
// origin; InvalidArgument when options.radial_background is set).
std::vector<BraggPeak> find_bragg_disks(const Array& frame, const Array& kernel, const DiskDetectionOptions& options);

}  // namespace scandiff::stem
