#include "scandiff/stem/disk_detection.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/stem/calibrated_origin.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

DiskDetection::DiskDetection(Array kernel, DiskDetectionOptions options)
    : kernel_(std::move(kernel)), options_(options) {}

DiskDetection::~DiskDetection() = default;

void DiskDetection::prepare(const io::DatasetInfo& info) {
  info_ = info;
  finder_ = std::make_unique<DiskFinder>(kernel_, info.frame_y, info.frame_x, options_, info.calibration.ellipse);
  vectors_ = BraggVectors(info.scan_y, info.scan_x, info.frame_y, info.frame_x);
  origin_qy_.clear();
  origin_qx_.clear();
  if (options_.radial_background) {
    const Origin o = Origin::from_calibration(info.calibration, info.scan_y, info.scan_x, "radial background");
    for (std::int64_t p = 0; p < info.frame_count(); ++p) {
      origin_qy_.push_back(o.qy_px(p));
      origin_qx_.push_back(o.qx_px(p));
    }
  }
  pool_.clear();
}

std::size_t DiskDetection::output_bytes() const {
  const auto positions = static_cast<std::size_t>(info_.frame_count());
  return positions * (sizeof(std::vector<BraggPeak>) + sizeof(BraggPeak) * static_cast<std::size_t>(options_.max_num_peaks));
}

std::unique_ptr<DiskFinder::Workspace> DiskDetection::acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      auto ws = std::move(pool_.back());
      pool_.pop_back();
      return ws;
    }
  }
  return finder_->make_workspace();
}

void DiskDetection::release(std::unique_ptr<DiskFinder::Workspace> ws) {
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(std::move(ws));
}

void DiskDetection::process(const engine::FrameBlock& block, engine::Partial*) {
  auto ws = acquire();
  const std::int64_t n = block.frame_pixels();
  // The float64 frame lives in the pooled workspace: a fresh 0.5 MB buffer per block costs page
  // faults (about 10% of the poly mode's time).
  std::vector<double>& frame = ws->input;
  frame.resize(static_cast<std::size_t>(n));
  std::vector<BraggPeak> peaks;
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    for (std::int64_t f = 0; f < block.count; ++f) {
      const T* src = frames + f * n;
      for (std::int64_t p = 0; p < n; ++p) frame[static_cast<std::size_t>(p)] = static_cast<double>(src[p]);
      const std::int64_t pos = block.first + f;
      const double oy = origin_qy_.empty() ? 0.0 : origin_qy_[static_cast<std::size_t>(pos)];
      const double ox = origin_qx_.empty() ? 0.0 : origin_qx_[static_cast<std::size_t>(pos)];
      finder_->find(frame.data(), *ws, peaks, oy, ox);
      vectors_.set(pos, peaks);
    }
  });
  release(std::move(ws));
}

std::vector<Result> DiskDetection::results() const {
  const DiskDetectionOptions& o = options_;
  Metadata prov{{"analysis", "bragg_disks"},
                {"corr_power", o.corr_power},
                {"sigma_dp", o.sigma_dp},
                {"sigma_cc", o.sigma_cc},
                {"subpixel", std::string(subpixel_name(o.subpixel))},
                {"upsample_factor", o.upsample_factor},
                {"min_absolute_intensity", o.min_absolute_intensity},
                {"min_relative_intensity", o.min_relative_intensity},
                {"relative_to_peak", o.relative_to_peak},
                {"min_peak_spacing", o.min_peak_spacing},
                {"edge_boundary", o.edge_boundary},
                {"max_num_peaks", o.max_num_peaks},
                {"radial_background", o.radial_background},
                {"template", !kernel_.empty()},
                {"input", info_.path},
                {"scandiff_version", scandiff::version}};
  if (o.radial_background) {  // its polar bins
    const PolarOptions& p = o.radial_polar;
    prov["radial_qmin_px"] = p.qmin_px;
    prov["radial_qmax_px"] = p.qmax_px ? Metadata(*p.qmax_px) : Metadata("default");
    prov["radial_qstep_px"] = p.qstep_px;
    prov["radial_n_annular"] = p.n_annular;
    prov["radial_two_fold"] = p.two_fold;
    prov["radial_mask_threshold"] = p.mask_threshold;
    prov["radial_angular_smoothing"] = p.angular_smoothing;
    prov["radial_ellipse"] = info_.calibration.ellipse.has_value();
  }
  Array count(DType::f64, {info_.scan_y, info_.scan_x});
  for (std::int64_t p = 0; p < vectors_.positions(); ++p)
    count.data<double>()[p] = static_cast<double>(vectors_.at(p).size());
  return {Result{"bragg_vector_map", bragg_vector_map(vectors_), info_.detector_axes(), "intensity", prov},
          Result{"peak_count", count, info_.scan_axes(), "peaks", prov}};
}

}  // namespace scandiff::stem
