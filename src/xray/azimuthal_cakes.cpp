// Per-position 2D cakes of a scan, streamed into a FrameSink (engine::Analysis over
// AzimuthalIntegrator).
#include "scandiff/xray/azimuthal_cakes.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/io/result_files.hpp"
#include "scandiff/version.hpp"

namespace scandiff::xray {

namespace {

struct CakeBlock : engine::Partial {
  std::vector<float> cakes;  // count × npt_azim × npt_rad
  std::int64_t first = 0, count = 0;
  void reset() override { count = 0; }
  std::size_t bytes() const override { return cakes.capacity() * sizeof(float); }
};

}  // namespace

AzimuthalCakes::AzimuthalCakes(std::shared_ptr<const AzimuthalIntegrator> integrator, io::FrameSink& sink,
                               FrameCorrections corrections, BinFilter filter)
    : integrator_(std::move(integrator)), sink_(sink), corrections_(std::move(corrections)), filter_(filter) {
  if (!integrator_) throw InvalidArgument("azimuthal cakes: no integrator");
  if (integrator_->setup().npt_azim <= 0)
    throw InvalidArgument("azimuthal cakes: the integrator must be 2D (npt_azim > 0)");
  check_filter(filter_, corrections_.error_model);
  corrections_.keep_sums = false;
}

std::int64_t AzimuthalCakes::cake_values() const {
  return integrator_->setup().npt_azim * integrator_->setup().npt_rad;
}

void AzimuthalCakes::prepare(const io::DatasetInfo& info) {
  if (info.frame_y != integrator_->rows() || info.frame_x != integrator_->cols())
    throw InvalidArgument(fmt::format("{}: frames are {} x {}, the integration geometry is {} x {}", info.path,
                                      info.frame_y, info.frame_x, integrator_->rows(), integrator_->cols()));
  info_ = info;
  sum_.assign(static_cast<std::size_t>(cake_values()), 0.0);
  const IntegrationResult r = integrator_->integrate(Array(DType::f32, {info.frame_y, info.frame_x}));
  radial_ = r.radial;
  azimuthal_ = r.azimuthal;
}

std::size_t AzimuthalCakes::output_bytes() const { return sum_.size() * sizeof(double); }

std::unique_ptr<engine::Partial> AzimuthalCakes::make_partial() const { return std::make_unique<CakeBlock>(); }

std::size_t AzimuthalCakes::partial_bytes_per_frame() const {
  return static_cast<std::size_t>(cake_values()) * sizeof(float);
}

void AzimuthalCakes::process(const engine::FrameBlock& block, engine::Partial* partial) {
  auto& p = static_cast<CakeBlock&>(*partial);
  const auto n = static_cast<std::size_t>(cake_values());
  p.cakes.resize(static_cast<std::size_t>(block.count) * n);
  p.first = block.first;
  p.count = block.count;
  IntegrationResult r;
  for (std::int64_t f = 0; f < block.count; ++f) {
    const std::byte* frame = block.data + static_cast<std::size_t>(f * block.frame_pixels()) * size_of(block.dtype);
    const Array view = Array::borrow(const_cast<std::byte*>(frame), block.dtype, {block.frame_y, block.frame_x});
    integrate_filtered(*integrator_, view, corrections_, filter_, r);
    std::transform(r.intensity.begin(), r.intensity.end(), p.cakes.begin() + static_cast<std::ptrdiff_t>(f * n),
                   [](double v) { return static_cast<float>(v); });
  }
}

void AzimuthalCakes::merge(const engine::Partial& partial) {
  const auto& p = static_cast<const CakeBlock&>(partial);
  if (p.count == 0) return;
  sink_.write_frames(p.first, p.count, reinterpret_cast<const std::byte*>(p.cakes.data()));
  const std::size_t n = sum_.size();
  for (std::int64_t f = 0; f < p.count; ++f) {
    const float* cake = p.cakes.data() + static_cast<std::size_t>(f) * n;
    for (std::size_t k = 0; k < n; ++k) sum_[k] += cake[k];
  }
}

void AzimuthalCakes::finish() {
  const auto n = static_cast<double>(info_.frame_count());
  for (double& v : sum_) v /= n;
}

std::vector<Result> AzimuthalCakes::results() const {
  const std::string unit(unit_name(integrator_->setup().unit));
  const double rad_step = radial_.size() > 1 ? radial_[1] - radial_[0] : 1;
  const double chi_step = azimuthal_.size() > 1 ? azimuthal_[1] - azimuthal_[0] : 1;
  const Axis chi{"chi", azimuthal_.empty() ? 0 : azimuthal_.front(), chi_step, "deg"};
  const Axis radial{unit, radial_.empty() ? 0 : radial_.front(), rad_step, unit};
  Metadata prov{{"analysis", "azimuthal_cakes"},
                {"unit", unit},
                {"splitting", std::string(splitting_name(integrator_->setup().splitting))},
                {"error_model", std::string(error_model_name(corrections_.error_model))}};
  prov.update(filter_metadata(filter_));
  prov["scandiff_version"] = scandiff::version;
  Array mean(DType::f64, {integrator_->setup().npt_azim, integrator_->setup().npt_rad});
  std::copy(sum_.begin(), sum_.end(), mean.data<double>());
  return {Result{"mean_cake", mean, {chi, radial}, "counts", prov}};
}

engine::RunStats write_cakes_emd(io::Source& source, std::shared_ptr<const AzimuthalIntegrator> integrator,
                                 const FrameCorrections& corrections, const std::filesystem::path& out,
                                 Metadata metadata, const std::string& radial_unit, const engine::RunOptions& run,
                                 const BinFilter& filter) {
  const io::DatasetInfo& info = source.info();
  const std::string root = "azimuthal_integration";
  const std::int64_t npt_azim = integrator->setup().npt_azim, npt_rad = integrator->setup().npt_rad;
  io::EmdWriter emd(out);
  emd.add_root(root, info.calibration);
  Calibration cake_cal;  // scan axes as the dataset's; the cake axes are bins (cake_axes, chi_deg)
  cake_cal.scan_pixel_size = info.calibration.scan_pixel_size;
  cake_cal.scan_units = info.calibration.scan_units;
  emd.add_datacube(root, "azimuthal_cakes", {info.scan_y, info.scan_x, npt_azim, npt_rad}, DType::f32, cake_cal);
  io::EmdDataCubeSink sink(emd, root, "azimuthal_cakes");
  AzimuthalCakes cakes(std::move(integrator), sink, corrections, filter);
  engine::Analysis* analyses[] = {&cakes};
  const engine::RunStats stats = engine::run(source, analyses, run);
  for (const Result& r : cakes.results()) emd.add_array(root, r, io::python_class_for(r));
  const std::vector<double> chi = cakes.azimuthal_deg();
  metadata["cake_axes"] = {"ry", "rx", "chi", radial_unit};
  metadata["chi_deg"] = chi;
  emd.add_metadata(root, "integration", metadata);
  emd.commit();
  return stats;
}

}  // namespace scandiff::xray
