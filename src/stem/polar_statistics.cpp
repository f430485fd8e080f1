#include "scandiff/stem/polar_statistics.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scandiff/core/log.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

PolarStatistics::PolarStatistics(Options options) : options_(std::move(options)) { options_.polar.validate(); }

void PolarStatistics::prepare(const io::DatasetInfo& info) {
  info_ = info;
  Calibration cal = info.calibration;
  bool centre = false;
  if (!Origin::calibrated(cal)) {
    cal.origin_qy_px = (static_cast<double>(info.frame_y) - 1) / 2;
    cal.origin_qx_px = (static_cast<double>(info.frame_x) - 1) / 2;
    centre = true;
    log_warning("{}: no diffraction origin in the calibration; the polar transform uses the frame centre ({}, {})",
                info.path, *cal.origin_qy_px, *cal.origin_qx_px);
  }
  origin_ = Origin::from_calibration(cal, info.scan_y, info.scan_x, "polar transform origin");
  per_position_ = origin_.per_position();
  ellipse_ = options_.ellipse ? options_.ellipse : options_.use_ellipse ? cal.ellipse : std::nullopt;
  const Array* mask = options_.mask.empty() ? nullptr : &options_.mask;
  // The grid does not depend on the origin: build the mean-origin transform for its shape.
  global_.emplace(info.frame_y, info.frame_x, origin_.mean_qy_px(), origin_.mean_qx_px(), ellipse_, options_.polar,
                  mask);
  n_q_ = global_->n_radial();
  mean_ = Array(DType::f64, {info.scan_y, info.scan_x, n_q_});
  var_ = Array(DType::f64, {info.scan_y, info.scan_x, n_q_});

  provenance_ = Metadata{{"analysis", name()},
                         {"input", info.path},
                         {"qmin_px", options_.polar.qmin_px},
                         {"qstep_px", options_.polar.qstep_px},
                         {"n_q", n_q_},
                         {"n_annular", options_.polar.n_annular},
                         {"two_fold", options_.polar.two_fold},
                         {"mask_threshold", options_.polar.mask_threshold},
                         {"angular_smoothing", options_.polar.angular_smoothing},
                         {"origin", per_position_ ? "per position" : centre ? "frame centre" : "global"},
                         {"origin_mean_qy_px", origin_.mean_qy_px()},
                         {"origin_mean_qx_px", origin_.mean_qx_px()},
                         {"masked_pixels", options_.mask.empty() ? 0 : -1},
                         {"scandiff_version", scandiff::version}};
  if (ellipse_)
    provenance_["ellipse"] = {{"a_px", ellipse_->a_px}, {"b_px", ellipse_->b_px}, {"theta_rad", ellipse_->theta_rad}};
  if (!options_.mask.empty()) {
    std::int64_t n = 0;
    for (std::int64_t i = 0; i < options_.mask.size(); ++i) n += options_.mask.bytes()[i] != std::byte{0};
    provenance_["masked_pixels"] = n;
  }
}

std::size_t PolarStatistics::output_bytes() const { return mean_.nbytes() + var_.nbytes(); }

void PolarStatistics::process(const engine::FrameBlock& block, engine::Partial*) {
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto frames = block.frames<T>();
    std::vector<double> scratch;
    const auto nq = static_cast<std::size_t>(n_q_);
    double* mean = mean_.data<double>();
    double* var = var_.data<double>();
    const Array* mask = options_.mask.empty() ? nullptr : &options_.mask;
    for (std::int64_t f = 0; f < block.count; ++f) {
      const std::int64_t pos = block.first + f;
      const std::span<double> m(mean + static_cast<std::size_t>(pos) * nq, nq);
      const std::span<double> v(var + static_cast<std::size_t>(pos) * nq, nq);
      if (per_position_) {
        const PolarTransform t(block.frame_y, block.frame_x, origin_.qy_px(pos), origin_.qx_px(pos), ellipse_,
                               options_.polar, mask);
        t.azimuthal_mean_var(frames[f].data(), m, v, scratch);
      } else {
        global_->azimuthal_mean_var(frames[f].data(), m, v, scratch);
      }
    }
  });
}

void PolarStatistics::finish() {
  const auto nq = static_cast<std::size_t>(n_q_);
  const std::int64_t positions = info_.frame_count();
  const double* mean = mean_.data<double>();
  const double* var = var_.data<double>();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  radial_mean_.assign(nq, 0.0);
  radial_var_.assign(nq, 0.0);
  radial_var_norm_.assign(nq, 0.0);
  local_var_norm_.assign(nq, 0.0);
  std::vector<double> count(nq, 0.0), local_count(nq, 0.0);
  for (std::int64_t p = 0; p < positions; ++p)
    for (std::size_t q = 0; q < nq; ++q) {
      const double m = mean[static_cast<std::size_t>(p) * nq + q];
      if (std::isnan(m)) continue;
      radial_mean_[q] += m;
      count[q] += 1;
      const double local = var[static_cast<std::size_t>(p) * nq + q] / (m * m);
      if (std::isfinite(local)) {
        local_var_norm_[q] += local;
        local_count[q] += 1;
      }
    }
  for (std::size_t q = 0; q < nq; ++q) {
    radial_mean_[q] = count[q] > 0 ? radial_mean_[q] / count[q] : nan;
    local_var_norm_[q] = local_count[q] > 0 ? local_var_norm_[q] / local_count[q] : nan;
  }
  for (std::int64_t p = 0; p < positions; ++p)
    for (std::size_t q = 0; q < nq; ++q) {
      const double m = mean[static_cast<std::size_t>(p) * nq + q];
      if (!std::isnan(m)) radial_var_[q] += (m - radial_mean_[q]) * (m - radial_mean_[q]);
    }
  for (std::size_t q = 0; q < nq; ++q) {
    radial_var_[q] = count[q] > 0 ? radial_var_[q] / count[q] : nan;
    radial_var_norm_[q] = radial_mean_[q] > 0 ? radial_var_[q] / (radial_mean_[q] * radial_mean_[q]) : radial_var_[q];
  }
}

std::vector<Result> PolarStatistics::results() const {
  // q axis: detector units when the detector is calibrated (the polar radius is b-normalised).
  const Calibration& cal = info_.calibration;
  const double step = cal.detector_pixel_size;
  Axis q{"q", options_.polar.qmin_px * step, options_.polar.qstep_px * step, cal.detector_units};
  std::vector<Axis> scan_q = info_.scan_axes();
  scan_q.push_back(q);
  const auto vec = [&](const std::vector<double>& v) {
    Array a(DType::f64, {n_q_});
    std::copy(v.begin(), v.end(), a.data<double>());
    return a;
  };
  return {Result{"azimuthal_mean", mean_, scan_q, "counts", provenance_},
          Result{"azimuthal_var", var_, scan_q, "counts^2", provenance_},
          Result{"radial_mean", vec(radial_mean_), {q}, "counts", provenance_},
          Result{"radial_var", vec(radial_var_), {q}, "counts^2", provenance_},
          Result{"radial_var_norm", vec(radial_var_norm_), {q}, "", provenance_},
          Result{"local_var_norm", vec(local_var_norm_), {q}, "", provenance_}};
}

}  // namespace scandiff::stem
