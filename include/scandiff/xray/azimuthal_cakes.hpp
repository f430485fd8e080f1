// Per-position 2D cakes of a scan, as an engine::Analysis: the CSR matrix of a 2D
// AzimuthalIntegrator (built once) applied to every frame, each cake (npt_azim, npt_rad) float32
// streamed into a FrameSink (e.g. an EMD datacube (ry, rx, npt_azim, npt_rad)) in scan order, so
// that memory stays within the engine's budget whatever the scan size; plus the mean cake. Each
// frame goes through the chosen BinFilter with the single-image functions (the quantile filter
// and sigma clipping work per 2D bin, as for one image); only the intensity is kept.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/io/frame_sink.hpp"
#include "scandiff/xray/bin_filter.hpp"
#include "scandiff/xray/integrator.hpp"

namespace scandiff::xray {

class AzimuthalCakes : public engine::Analysis {
 public:
  // `integrator` must be 2D (npt_azim > 0) with the dataset's detector shape. `sink` takes
  // frames of npt_azim × npt_rad float32 values (intensity, C order (azimuth, radial)); it must
  // outlive the pass. InvalidArgument for a filter the per-frame call would refuse (check_filter).
  AzimuthalCakes(std::shared_ptr<const AzimuthalIntegrator> integrator, io::FrameSink& sink,
                 FrameCorrections corrections = {}, BinFilter filter = {});

  std::string name() const override { return "azimuthal_cakes"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override;
  std::unique_ptr<engine::Partial> make_partial() const override;
  // A block's cakes are held until merge() writes them in frame order.
  std::size_t partial_bytes_per_frame() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  // Writes the block's cakes to the sink and adds them, frame by frame, to the sum (the mean
  // thus does not depend on the block size or the thread count).
  void merge(const engine::Partial& partial) override;
  void finish() override;
  // "mean_cake" (npt_azim, npt_rad) float64: the mean over the positions of the cakes, axes χ
  // (degrees, bin centres) and radial (the integrator's unit).
  std::vector<Result> results() const override;

  std::int64_t cake_values() const;  // npt_azim · npt_rad
  const std::vector<double>& azimuthal_deg() const { return azimuthal_; }  // χ bin centres, after prepare()

 private:
  std::shared_ptr<const AzimuthalIntegrator> integrator_;
  io::FrameSink& sink_;
  FrameCorrections corrections_;
  BinFilter filter_;
  io::DatasetInfo info_;
  std::vector<double> sum_, radial_, azimuthal_;
};

// `integrate --scan --npt-azim M`: AzimuthalCakes over `source` in one pass into a new EMD 1.0 file
// `out` (written under a temporary name, renamed when complete): root "azimuthal_integration"
// with the datacube "azimuthal_cakes" (ry, rx, npt_azim, npt_rad) float32 (scan calibration as
// the source's), "mean_cake", and the metadata "integration" = `metadata` plus "cake_axes"
// (ry, rx, chi, `radial_unit`) and "chi_deg" (the χ bin centres). Returns the pass statistics.
engine::RunStats write_cakes_emd(io::Source& source, std::shared_ptr<const AzimuthalIntegrator> integrator,
                                 const FrameCorrections& corrections, const std::filesystem::path& out,
                                 Metadata metadata, const std::string& radial_unit, const engine::RunOptions& run,
                                 const BinFilter& filter = {});

}  // namespace scandiff::xray
