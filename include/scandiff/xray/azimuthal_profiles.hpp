// Azimuthal integration of every frame of a scan, as an engine::Analysis: the CSR matrix of an
// AzimuthalIntegrator (built once) applied per frame, giving a 1D profile per scan position.
// Each frame goes through the chosen BinFilter (mean, quantile filter or sigma clipping) with the
// single-image functions, so each position's profile is that frame's single-image result.
#pragma once

#include <memory>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/xray/bin_filter.hpp"
#include "scandiff/xray/integrator.hpp"

namespace scandiff::xray {

class AzimuthalProfiles : public engine::Analysis {
 public:
  // `integrator` must be 1D (npt_azim == 0); its detector shape must match the dataset's frames.
  // InvalidArgument for a filter the per-frame call would refuse (check_filter; sigma clipping
  // needs corrections.error_model other than none).
  AzimuthalProfiles(std::shared_ptr<const AzimuthalIntegrator> integrator, FrameCorrections corrections = {},
                    BinFilter filter = {});

  std::string name() const override { return "azimuthal_profiles"; }
  void prepare(const io::DatasetInfo& info) override;
  // The per-position arrays below: (ry·rx·npt) float32 each.
  std::size_t output_bytes() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void finish() override;
  // "azimuthal_profiles" (ry, rx, npt) float32 (the bins' intensity) and "mean_profile" (npt)
  // float64 (mean over the positions of the per-position profiles), radial axis in the
  // integrator's unit. With an error model also "sigma_profiles" (ry, rx, npt) float32 (the
  // standard error of each bin); with sigma clipping also "std_profiles" (the standard deviation
  // of the kept pixels' x/ω) and "count_profiles" (Σ c over the kept pixels), float32.
  // The provenance names the filter (filter_metadata) and the error model.
  std::vector<Result> results() const override;

 private:
  bool keeps_sigma() const { return corrections_.error_model != ErrorModel::none; }
  bool keeps_clip_stats() const { return filter_.kind == BinFilter::Kind::sigma_clip; }

  std::shared_ptr<const AzimuthalIntegrator> integrator_;
  FrameCorrections corrections_;
  BinFilter filter_;
  io::DatasetInfo info_;
  Array profiles_, sigma_, std_, count_;  // (ry, rx, npt) float32; the last three when kept
  std::vector<double> mean_, radial_;
};

}  // namespace scandiff::xray
