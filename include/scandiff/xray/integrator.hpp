// Azimuthal integration with pyFAI's semantics (integrate1d / integrate2d, method (split, csr)):
// a sparse CSR matrix, rows = output bins, columns = pixels, values = the fraction c of the pixel
// in the bin, built once per geometry and options and applied to every frame.
//
// Per pixel: signal x = raw − dark, normalisation ω = normalization_factor · flat · P · Ω,
// variance σ² = max(1, raw) (+ dark) for the Poisson model. Pixels are invalid when masked,
// when |raw − dummy| <= delta_dummy (raw == dummy without delta), when flat is 0 (or the dummy),
// or when x, ω or σ² is NaN/Inf or ω == 0; they contribute nothing. Per bin:
//   I = Σ c·x / Σ c·ω, sem = √(Σ c²·σ²) / Σ c·ω; empty bins (Σ c·ω == 0) get `empty`.
// Bins are uniform in the internal unit (2θ rad, q nm⁻¹, r m) over [min, max·(1 + ε_f32)) of
// the pixel centres (no splitting) or of centre ± Δ (bbox) or of the corners (full), the lower
// bound clipped at 0; the positions returned are bin centres in the output unit.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/xray/geometry.hpp"

namespace scandiff::xray {

// no: a pixel goes whole to the bin of its centre; bbox: spread uniformly over centre ± Δ
// (Δ = largest |corner − centre|, in χ too for 2D); full: the exact area of the pixel's corner
// quadrilateral in (radial, χ) space falling in each bin.
enum class Splitting { no, bbox, full };
Splitting parse_splitting(std::string_view name);  // "no", "bbox", "full"
std::string_view splitting_name(Splitting s);

// poisson: σ² = max(1, raw) (+ dark); azimuthal: the spread of the pixels in the bin; hybrid
// (pyFAI's): azimuthal while sigma clipping, Poisson for the result (Poisson everywhere else).
enum class ErrorModel { none, poisson, azimuthal, hybrid };
ErrorModel parse_error_model(std::string_view name);  // "none", "poisson", "azimuthal", "hybrid"
std::string_view error_model_name(ErrorModel m);

// What fixes the sparse matrix (pyFAI rebuilds its CSR when any of these change).
struct IntegrationSetup {
  RadialUnit unit = RadialUnit::q_nm;
  std::int64_t npt_rad = 1000;
  std::int64_t npt_azim = 0;  // 0: 1D integration; > 0: 2D (npt_azim, npt_rad) caking
  Splitting splitting = Splitting::bbox;
  std::optional<std::pair<double, double>> radial_range;   // in the output unit
  std::optional<std::pair<double, double>> azimuth_range;  // degrees, χ in [−180, 180]
  // Static per-pixel normalisation, folded into the matrix build:
  bool solid_angle = true;
  std::optional<double> polarization_factor;  // none = no correction
  double polarization_offset_rad = 0;
  double normalization_factor = 1;
  Array mask;  // optional (rows, cols) of any integer/bool/float dtype: non-zero = masked
  Array flat;  // optional (rows, cols) flat field (divides), f32/f64/integer
};

// Per-frame corrections that do not change the matrix.
struct FrameCorrections {
  Array dark;                          // optional (rows, cols)
  std::optional<float> dummy;          // value marking invalid pixels
  float delta_dummy = 0;               // tolerance on dummy
  std::optional<float> valid_min;      // raw values below are invalid (a per-image threshold mask)
  std::optional<float> valid_max;      // raw values above are invalid
  ErrorModel error_model = ErrorModel::none;
  float empty = 0;                     // value of bins without any valid pixel
  bool keep_sums = true;               // also return sum_signal, sum_normalization and count
};

struct IntegrationResult {
  std::vector<double> radial;     // npt_rad bin centres, output unit
  std::vector<double> azimuthal;  // npt_azim bin centres, degrees (2D only)
  // 1D: npt_rad values; 2D: npt_azim × npt_rad, C order (azimuth, radial) as pyFAI returns.
  std::vector<double> intensity;
  std::vector<double> sigma;  // same shape as intensity when an error model is set, else empty
  // Per bin, same shape (empty unless FrameCorrections::keep_sums): Σ c·x, Σ c·ω, Σ c.
  std::vector<double> sum_signal, sum_normalization, count;
  // Standard deviation of the pixels' x/ω in each bin, √(Σ c²σ² / Σ c²ω²) (sigma_clip only).
  std::vector<double> std_dev;
};

// The CSR matrix in the layout of the output (1D: npt_rad rows; 2D: row = azim·npt_rad + rad).
// Columns are the pixels that feed at least one bin, in the order of the first bin they feed
// (memory locality when a frame is applied): column k is image pixel pixel[k] = i·cols + j.
struct CsrMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int64_t> row_start;  // rows + 1 offsets into `column` / `value`
  std::vector<std::int32_t> column;     // column index, ascending within a row
  std::vector<float> value;             // fraction of the pixel in the bin
  std::vector<std::int32_t> pixel;      // cols image pixel indices
};

class AzimuthalIntegrator {
 public:
  // Builds the matrix (parallel over pixels, deterministic). InvalidArgument for npt <= 0 or
  // > 10⁷ (or npt_rad·npt_azim > 10⁸), mask/flat of another shape than the geometry, a
  // non-finite or empty range, q without a wavelength.
  AzimuthalIntegrator(const DetectorGeometry& geometry, IntegrationSetup setup);

  const IntegrationSetup& setup() const { return setup_; }
  const CsrMatrix& matrix() const { return csr_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  // Bin edges actually used, internal units: radial [min, max) and azimuthal (rad).
  std::pair<double, double> radial_bounds() const { return {rad_min_, rad_max_}; }
  std::pair<double, double> azimuth_bounds() const { return {azim_min_, azim_max_}; }

  // Integrates one (rows, cols) frame of any numeric dtype (converted to float32 as pyFAI does).
  // Parallel over bins with TBB; the result does not depend on the thread count.
  IntegrationResult integrate(const Array& frame, const FrameCorrections& corrections = {}) const;
  // The same into `out`, reusing its vectors' memory (for series of frames).
  void integrate(const Array& frame, const FrameCorrections& corrections, IntegrationResult& out) const;

  // Quantile filter along the azimuth (pyFAI's medfilt1d_ng rule, for any splitting and in 2D
  // too): the entries of each bin are sorted by corrected intensity x/ω (ties by c·x), the
  // cumulative Σ c·ω gives each entry the span [lower, upper); the entries with upper >= q_min·total
  // and lower <= q_max·total are kept and I = Σ c·x / Σ c·ω over them (q_min = q_max = 0.5: the
  // weighted median; (0.25, 0.75): the mean of the second and third quartiles). sigma (with an
  // error model) = √(Σ c²σ²) / Σ c·ω over the kept entries; with the azimuthal model σ² is
  // (x − ω·I)². InvalidArgument unless 0 <= q_min <= q_max <= 1.
  IntegrationResult median_filter(const Array& frame, const FrameCorrections& corrections, double q_min = 0.5,
                                  double q_max = 0.5) const;

  // Sigma clipping along the azimuth, pyFAI's sigma_clip_ng (not the legacy sigma_clip, which
  // clips a 2D cake): per bin, the mean I = Σ c·x / Σ c·ω and std = √(V / Σ c²ω²) over the kept
  // entries, with V = Σ c²σ² (poisson) or, for azimuthal/hybrid, the weighted running update
  // V += ω_b²·(x_b/ω_b − I_before)·(x_b/ω_b − I_after) with ω_b = c·ω taken in pixel order
  // (pyFAI's accumulator). Each iteration drops the entries with |x/ω − I| > k·std, where
  // k = max(threshold, √(2 ln(max(3, Σ c) / √(2π)))) (Chauvenet's criterion), then recomputes;
  // it stops after max_iter iterations or when nothing is dropped. Hybrid clips with the
  // azimuthal V and reports the Poisson one of the kept entries. Result: intensity = I,
  // sigma = √V / Σ c·ω (sem), std_dev = std, count = Σ c over the kept entries. An entry dropped
  // in one bin stays in the others (pyFAI drops the pixel everywhere; the same without
  // splitting, the case pyFAI supports). InvalidArgument for the error model none, a negative
  // or non-finite threshold, or max_iter outside 0..1000.
  IntegrationResult sigma_clip(const Array& frame, const FrameCorrections& corrections, double threshold = 5,
                               int max_iter = 5) const;

 private:
  void build(const DetectorGeometry& geometry);
  // Per-frame float32 scratch (rows·cols), reused across calls; thread-safe.
  std::vector<float> take_buffer() const;
  void give_buffer(std::vector<float> buffer) const;
  // Pass 1 of a frame: signal x = raw − dark per matrix column (NaN where invalid), Poisson
  // variance when asked; returns whether any pixel is invalid.
  bool preprocess(const Array& frame, const FrameCorrections& corrections, std::vector<float>& signal,
                  std::vector<float>& variance) const;
  void fill_positions(IntegrationResult& out) const;
  // 1D fast path: the frame read once in image order, each pixel's fractions added to per-chunk
  // bin sums (the matrix transposed, CSC); false (nothing done) when a pixel turns out invalid or
  // the case is not covered (2D, dummy/thresholds, azimuthal errors, strided frames).
  bool integrate_by_pixels(const Array& frame, const FrameCorrections& corrections, IntegrationResult& out) const;
  // 2D without splitting, integer frames, no dark: the frame read once in image order, each
  // pixel's value (as float32, then exactly as an integer) added to its bin in int64 per-thread
  // sums: exact, so the result does not depend on the thread count and equals the CSR product.
  // false (nothing done) when the case is not covered.
  bool integrate_integer_no_split(const Array& frame, const FrameCorrections& corrections,
                                  IntegrationResult& out) const;

  IntegrationSetup setup_;
  std::int64_t rows_ = 0, cols_ = 0;
  double rad_min_ = 0, rad_max_ = 0, azim_min_ = 0, azim_max_ = 0;
  CsrMatrix csr_;
  std::vector<float> norm_;          // static ω per matrix column (flat · P · Ω · factor)
  std::vector<double> bin_norm_;     // Σ c·ω per bin over the static valid pixels
  std::vector<double> bin_count_;    // Σ c per bin over the static valid pixels
  std::vector<double> bin_c2w2_;     // Σ c²·ω² per bin
  // The matrix by image pixel (1D only): entries csc_start_[p] .. csc_start_[p+1] of pixel p.
  std::vector<std::int64_t> csc_start_;
  std::vector<std::int32_t> csc_bin_;
  std::vector<float> csc_value_;
  // 2D without splitting: the bin (output layout) of each image pixel, −1 for none.
  std::vector<std::int32_t> pixel_bin_;
  mutable std::mutex pool_mutex_;
  mutable std::vector<std::vector<float>> pool_;
};

}  // namespace scandiff::xray
