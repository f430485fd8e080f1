// How the pixels of one azimuthal-integration bin are combined into its value, chosen once and
// applied to every frame: the weighted mean (AzimuthalIntegrator::integrate), the quantile filter
// (median_filter, pyFAI's medfilt1d_ng) or sigma clipping (sigma_clip, pyFAI's sigma_clip_ng).
// `integrate --percentile` / `--sigma-clip`, the scan analyses (AzimuthalProfiles,
// AzimuthalCakes) and the Python bindings all go through integrate_filtered(), so a frame of a
// scan gets exactly the single-image result.
#pragma once

#include <string>

#include "scandiff/core/metadata.hpp"
#include "scandiff/xray/integrator.hpp"

namespace scandiff::xray {

struct BinFilter {
  enum class Kind { mean, quantile, sigma_clip };
  Kind kind = Kind::mean;
  // quantile: percentiles in percent, 0..100, as users type them (pyFAI's `percentile`); the
  // quantiles applied are min/100 .. max/100 (low == high: that quantile, 50 = weighted median).
  double percentile_low = 50, percentile_high = 50;
  // sigma_clip: threshold in standard deviations (>= 0) and at most max_iter iterations (0..1000).
  double threshold = 5;
  int max_iter = 5;

  static BinFilter quantile(double percentile_low, double percentile_high);
  static BinFilter sigma_clipping(double threshold, int max_iter);
};

// The parameter checks of median_filter and sigma_clip (one place for both the per-frame calls
// and the up-front checks of the scan analyses). InvalidArgument naming the parameter.
void check_quantiles(double q_min, double q_max);  // fractions: 0 <= q_min <= q_max <= 1
void check_sigma_clip(ErrorModel error_model, double threshold, int max_iter);
// Checks `filter` as the per-frame call will (the error model matters for sigma clipping).
void check_filter(const BinFilter& filter, ErrorModel error_model);

// The text of pattern headers ("# Azimuthal filter: ..."): "mean", "quantile 50%", "mean of
// quantiles 25%..75%", "sigma clipping (sigma_clip_ng) threshold 3, at most 5 iterations".
std::string describe(const BinFilter& filter);
// The filter for EMD metadata: {"filter": describe(), "percentile": [lo, hi]} or
// {"filter": ..., "sigma_clip_threshold": t, "max_iter": n}; {"filter": "mean"} for the mean.
Metadata filter_metadata(const BinFilter& filter);

// One frame through `filter` into `out`: integrate(frame, corrections, out) for the mean,
// otherwise out = median_filter(...) or sigma_clip(...) (their allocations per call).
void integrate_filtered(const AzimuthalIntegrator& integrator, const Array& frame,
                        const FrameCorrections& corrections, const BinFilter& filter, IntegrationResult& out);

}  // namespace scandiff::xray
