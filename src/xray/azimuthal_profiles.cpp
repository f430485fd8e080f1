// Per-position azimuthal profiles of a scan (engine::Analysis over AzimuthalIntegrator).
#include "scandiff/xray/azimuthal_profiles.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::xray {

AzimuthalProfiles::AzimuthalProfiles(std::shared_ptr<const AzimuthalIntegrator> integrator,
                                     FrameCorrections corrections)
    : integrator_(std::move(integrator)), corrections_(std::move(corrections)) {
  if (!integrator_) throw InvalidArgument("azimuthal profiles: no integrator");
  if (integrator_->setup().npt_azim != 0)
    throw InvalidArgument("azimuthal profiles: the integrator must be 1D (npt_azim 0)");
  corrections_.keep_sums = false;
}

void AzimuthalProfiles::prepare(const io::DatasetInfo& info) {
  if (info.frame_y != integrator_->rows() || info.frame_x != integrator_->cols())
    throw InvalidArgument(fmt::format("{}: frames are {} x {}, the integration geometry is {} x {}", info.path,
                                      info.frame_y, info.frame_x, integrator_->rows(), integrator_->cols()));
  info_ = info;
  profiles_ = Array(DType::f32, {info.scan_y, info.scan_x, integrator_->setup().npt_rad});
  radial_ = integrator_->integrate(Array(DType::f32, {info.frame_y, info.frame_x})).radial;  // bin centres
}

std::size_t AzimuthalProfiles::output_bytes() const {
  return static_cast<std::size_t>(info_.frame_count() * integrator_->setup().npt_rad) * sizeof(float);
}

void AzimuthalProfiles::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::int64_t npt = integrator_->setup().npt_rad;
  float* out = profiles_.data<float>();
  IntegrationResult r;
  for (std::int64_t f = 0; f < block.count; ++f) {
    const std::byte* frame = block.data + static_cast<std::size_t>(f * block.frame_pixels()) * size_of(block.dtype);
    const Array view = Array::borrow(const_cast<std::byte*>(frame), block.dtype, {block.frame_y, block.frame_x});
    integrator_->integrate(view, corrections_, r);
    float* dst = out + (block.first + f) * npt;
    for (std::int64_t k = 0; k < npt; ++k) dst[k] = static_cast<float>(r.intensity[static_cast<std::size_t>(k)]);
  }
}

void AzimuthalProfiles::finish() {
  const std::int64_t npt = integrator_->setup().npt_rad, n = info_.frame_count();
  mean_.assign(static_cast<std::size_t>(npt), 0.0);
  const float* p = profiles_.data<float>();
  for (std::int64_t f = 0; f < n; ++f)
    for (std::int64_t k = 0; k < npt; ++k) mean_[static_cast<std::size_t>(k)] += p[f * npt + k];
  for (double& v : mean_) v /= static_cast<double>(n);
}

std::vector<Result> AzimuthalProfiles::results() const {
  const std::string unit(unit_name(integrator_->setup().unit));
  const double step = radial_.size() > 1 ? radial_[1] - radial_[0] : 1;
  const Axis radial{unit, radial_.empty() ? 0 : radial_.front(), step, unit};
  Metadata prov{{"analysis", "azimuthal_profiles"},
                {"unit", unit},
                {"splitting", std::string(splitting_name(integrator_->setup().splitting))},
                {"scandiff_version", scandiff::version}};
  std::vector<Axis> axes = info_.scan_axes();
  axes.push_back(radial);
  Result profiles{"azimuthal_profiles", profiles_, axes, "counts", prov};
  Array mean(DType::f64, {static_cast<std::int64_t>(mean_.size())});
  std::copy(mean_.begin(), mean_.end(), mean.data<double>());
  Result mean_profile{"mean_profile", mean, {radial}, "counts", prov};
  return {profiles, mean_profile};
}

}  // namespace scandiff::xray
