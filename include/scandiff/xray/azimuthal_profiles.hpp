// Azimuthal integration of every frame of a scan, as an engine::Analysis: the CSR matrix of an
// AzimuthalIntegrator (built once) applied per frame, giving a 1D profile per scan position.
#pragma once

#include <memory>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/xray/integrator.hpp"

namespace scandiff::xray {

class AzimuthalProfiles : public engine::Analysis {
 public:
  // `integrator` must be 1D (npt_azim == 0); its detector shape must match the dataset's frames.
  AzimuthalProfiles(std::shared_ptr<const AzimuthalIntegrator> integrator, FrameCorrections corrections = {});

  std::string name() const override { return "azimuthal_profiles"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void finish() override;
  // "azimuthal_profiles" (ry, rx, npt) float32 and "mean_profile" (npt) float64 (mean over the
  // positions of the per-position profiles), radial axis in the integrator's unit.
  std::vector<Result> results() const override;

 private:
  std::shared_ptr<const AzimuthalIntegrator> integrator_;
  FrameCorrections corrections_;
  io::DatasetInfo info_;
  Array profiles_;
  std::vector<double> mean_, radial_;
};

}  // namespace scandiff::xray
