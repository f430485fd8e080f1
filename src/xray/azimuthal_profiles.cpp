// Per-position azimuthal profiles of a scan (engine::Analysis over AzimuthalIntegrator).
#include "scandiff/xray/azimuthal_profiles.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::xray {

AzimuthalProfiles::AzimuthalProfiles(std::shared_ptr<const AzimuthalIntegrator> integrator,
                                     FrameCorrections corrections, BinFilter filter)
    : integrator_(std::move(integrator)), corrections_(std::move(corrections)), filter_(filter) {
  if (!integrator_) throw InvalidArgument("azimuthal profiles: no integrator");
  if (integrator_->setup().npt_azim != 0)
    throw InvalidArgument("azimuthal profiles: the integrator must be 1D (npt_azim 0)");
  check_filter(filter_, corrections_.error_model);
  corrections_.keep_sums = keeps_clip_stats();  // sigma_clip reports its count with the sums
}

void AzimuthalProfiles::prepare(const io::DatasetInfo& info) {
  if (info.frame_y != integrator_->rows() || info.frame_x != integrator_->cols())
    throw InvalidArgument(fmt::format("{}: frames are {} x {}, the integration geometry is {} x {}", info.path,
                                      info.frame_y, info.frame_x, integrator_->rows(), integrator_->cols()));
  info_ = info;
  const Shape shape{info.scan_y, info.scan_x, integrator_->setup().npt_rad};
  profiles_ = Array(DType::f32, shape);
  sigma_ = keeps_sigma() ? Array(DType::f32, shape) : Array();
  std_ = keeps_clip_stats() ? Array(DType::f32, shape) : Array();
  count_ = keeps_clip_stats() ? Array(DType::f32, shape) : Array();
  radial_ = integrator_->integrate(Array(DType::f32, {info.frame_y, info.frame_x})).radial;  // bin centres
}

std::size_t AzimuthalProfiles::output_bytes() const {
  const std::size_t arrays = 1 + (keeps_sigma() ? 1 : 0) + (keeps_clip_stats() ? 2 : 0);
  return arrays * static_cast<std::size_t>(info_.frame_count() * integrator_->setup().npt_rad) * sizeof(float);
}

namespace {

// values[0..npt) as float32 at position `frame` of a (positions, npt) array.
void store(const std::vector<double>& values, std::int64_t frame, std::int64_t npt, Array& out) {
  float* dst = out.data<float>() + frame * npt;
  std::transform(values.begin(), values.begin() + npt, dst, [](double v) { return static_cast<float>(v); });
}

}  // namespace

void AzimuthalProfiles::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::int64_t npt = integrator_->setup().npt_rad;
  IntegrationResult r;
  for (std::int64_t f = 0; f < block.count; ++f) {
    const std::byte* frame = block.data + static_cast<std::size_t>(f * block.frame_pixels()) * size_of(block.dtype);
    const Array view = Array::borrow(const_cast<std::byte*>(frame), block.dtype, {block.frame_y, block.frame_x});
    integrate_filtered(*integrator_, view, corrections_, filter_, r);
    const std::int64_t position = block.first + f;
    store(r.intensity, position, npt, profiles_);
    if (keeps_sigma()) store(r.sigma, position, npt, sigma_);
    if (keeps_clip_stats()) {
      store(r.std_dev, position, npt, std_);
      store(r.count, position, npt, count_);
    }
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
                {"error_model", std::string(error_model_name(corrections_.error_model))}};
  prov.update(filter_metadata(filter_));
  prov["scandiff_version"] = scandiff::version;
  std::vector<Axis> axes = info_.scan_axes();
  axes.push_back(radial);
  std::vector<Result> out{{"azimuthal_profiles", profiles_, axes, "counts", prov}};
  Array mean(DType::f64, {static_cast<std::int64_t>(mean_.size())});
  std::copy(mean_.begin(), mean_.end(), mean.data<double>());
  out.push_back({"mean_profile", mean, {radial}, "counts", prov});
  if (keeps_sigma()) out.push_back({"sigma_profiles", sigma_, axes, "counts", prov});
  if (keeps_clip_stats()) {
    out.push_back({"std_profiles", std_, axes, "counts", prov});
    out.push_back({"count_profiles", count_, axes, "pixels", prov});
  }
  return out;
}

}  // namespace scandiff::xray
