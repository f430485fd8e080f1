// The per-bin filter of azimuthal integration: parameter checks, description, dispatch.
#include "scandiff/xray/bin_filter.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::xray {

BinFilter BinFilter::quantile(double percentile_low, double percentile_high) {
  BinFilter f;
  f.kind = Kind::quantile;
  f.percentile_low = percentile_low;
  f.percentile_high = percentile_high;
  return f;
}

BinFilter BinFilter::sigma_clipping(double threshold, int max_iter) {
  BinFilter f;
  f.kind = Kind::sigma_clip;
  f.threshold = threshold;
  f.max_iter = max_iter;
  return f;
}

void check_quantiles(double q_min, double q_max) {
  if (!(q_min >= 0 && q_min <= q_max && q_max <= 1))
    throw InvalidArgument(fmt::format("quantiles ({}, {}): expected 0 <= low <= high <= 1", q_min, q_max));
}

void check_sigma_clip(ErrorModel error_model, double threshold, int max_iter) {
  if (error_model == ErrorModel::none)
    throw InvalidArgument("sigma clipping needs an error model: poisson, azimuthal or hybrid");
  if (!(threshold >= 0) || !std::isfinite(threshold))
    throw InvalidArgument(fmt::format("sigma-clip threshold {}: expected a finite value >= 0", threshold));
  if (max_iter < 0 || max_iter > 1000)
    throw InvalidArgument(fmt::format("sigma-clip iterations {}: expected 0..1000", max_iter));
}

namespace {

// The quantiles (fractions, ascending) of a quantile filter.
std::pair<double, double> quantiles_of(const BinFilter& f) {
  const double lo = f.percentile_low / 100, hi = f.percentile_high / 100;
  return {std::min(lo, hi), std::max(lo, hi)};
}

}  // namespace

void check_filter(const BinFilter& filter, ErrorModel error_model) {
  switch (filter.kind) {
    case BinFilter::Kind::mean:
      return;
    case BinFilter::Kind::quantile: {
      const auto in_range = [](double p) { return p >= 0 && p <= 100; };  // false for NaN
      if (!in_range(filter.percentile_low) || !in_range(filter.percentile_high))
        throw InvalidArgument(fmt::format("percentile {},{}: expected values in 0..100 (percent)",
                                          filter.percentile_low, filter.percentile_high));
      const auto [lo, hi] = quantiles_of(filter);
      check_quantiles(lo, hi);
      return;
    }
    case BinFilter::Kind::sigma_clip:
      check_sigma_clip(error_model, filter.threshold, filter.max_iter);
      return;
  }
}

std::string describe(const BinFilter& f) {
  switch (f.kind) {
    case BinFilter::Kind::quantile:
      return f.percentile_low == f.percentile_high
                 ? fmt::format("quantile {}%", f.percentile_low)
                 : fmt::format("mean of quantiles {}%..{}%", f.percentile_low, f.percentile_high);
    case BinFilter::Kind::sigma_clip:
      return fmt::format("sigma clipping (sigma_clip_ng) threshold {}, at most {} iterations", f.threshold,
                         f.max_iter);
    case BinFilter::Kind::mean:
      break;
  }
  return "mean";
}

Metadata filter_metadata(const BinFilter& f) {
  Metadata md{{"filter", describe(f)}};
  if (f.kind == BinFilter::Kind::quantile) md["percentile"] = {f.percentile_low, f.percentile_high};
  if (f.kind == BinFilter::Kind::sigma_clip) {
    md["sigma_clip_threshold"] = f.threshold;
    md["max_iter"] = f.max_iter;
  }
  return md;
}

void integrate_filtered(const AzimuthalIntegrator& integrator, const Array& frame,
                        const FrameCorrections& corrections, const BinFilter& filter, IntegrationResult& out) {
  switch (filter.kind) {
    case BinFilter::Kind::mean:
      integrator.integrate(frame, corrections, out);
      return;
    case BinFilter::Kind::quantile: {
      const auto [lo, hi] = quantiles_of(filter);
      out = integrator.median_filter(frame, corrections, lo, hi);
      return;
    }
    case BinFilter::Kind::sigma_clip:
      out = integrator.sigma_clip(frame, corrections, filter.threshold, filter.max_iter);
      return;
  }
}

}  // namespace scandiff::xray
