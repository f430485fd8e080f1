#include "scandiff/stem/virtual_images.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "detector_sweep.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

VirtualImages::VirtualImages(std::vector<NamedDetector> detectors, CenterShift shift)
    : detectors_(std::move(detectors)), shift_(shift) {
  if (detectors_.empty()) throw InvalidArgument("virtual images: give at least one detector");
  std::set<std::string> names;
  std::vector<const Detector*> list;
  for (const auto& d : detectors_) {
    if (d.name.empty()) throw InvalidArgument("virtual images: a detector has an empty name");
    if (!names.insert(d.name).second)
      throw InvalidArgument(fmt::format("virtual images: two detectors are named '{}'", d.name));
    list.push_back(&d.detector);
  }
  sweep_ = std::make_unique<detail::DetectorSweep>(list);
}

VirtualImages::~VirtualImages() = default;

void VirtualImages::prepare(const io::DatasetInfo& info) {
  const Detector& d0 = detectors_[0].detector;
  if (d0.frame_y() != info.frame_y || d0.frame_x() != info.frame_x)
    throw InvalidArgument(fmt::format("virtual image '{}': the detector is {}x{} but {} has {}x{} frames",
                                      detectors_[0].name, d0.frame_y(), d0.frame_x(), info.path, info.frame_y,
                                      info.frame_x));
  info_ = info;
  if (shift_ != CenterShift::none) {
    origin_ = Origin::from_calibration(info.calibration, info.scan_y, info.scan_x, "shift_center");
    if (!origin_.per_position())
      log_warning("shift_center: {} has one global origin and no per-position origin maps, so the detectors do "
                  "not move",
                  info.path);
  }
  images_.assign(detectors_.size(), Array());
  for (auto& im : images_) im = Array(DType::f64, {info.scan_y, info.scan_x});
}

std::size_t VirtualImages::output_bytes() const {
  return detectors_.size() * static_cast<std::size_t>(info_.frame_count() > 0 ? info_.frame_count() : 0) *
         sizeof(double);
}

void VirtualImages::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::size_t n = detectors_.size();
  std::vector<double> acc(n), scratch;
  std::vector<double*> out(n);
  for (std::size_t d = 0; d < n; ++d) out[d] = images_[d].data<double>() + block.first;
  const std::size_t frame_bytes = static_cast<std::size_t>(block.frame_pixels()) * size_of(block.dtype);
  for (std::int64_t f = 0; f < block.count; ++f) {
    const std::byte* frame = block.data + static_cast<std::size_t>(f) * frame_bytes;
    const std::int64_t position = block.first + f;
    std::fill(acc.begin(), acc.end(), 0.0);
    if (shift_ == CenterShift::none) {
      sweep_->add(block.dtype, frame, 0, 0, 1.0, acc.data(), scratch);
    } else if (shift_ == CenterShift::integer) {
      const auto sy = static_cast<std::int64_t>(std::nearbyint(origin_.shift_qy_px(position)));
      const auto sx = static_cast<std::int64_t>(std::nearbyint(origin_.shift_qx_px(position)));
      sweep_->add(block.dtype, frame, sy, sx, 1.0, acc.data(), scratch);
    } else {
      const double ty = origin_.shift_qy_px(position), tx = origin_.shift_qx_px(position);
      const double fy0 = std::floor(ty), fx0 = std::floor(tx);
      const double wy = ty - fy0, wx = tx - fx0;
      const auto y0 = static_cast<std::int64_t>(fy0), x0 = static_cast<std::int64_t>(fx0);
      const double weights[4] = {(1 - wy) * (1 - wx), wy * (1 - wx), (1 - wy) * wx, wy * wx};
      const std::int64_t dy[4] = {0, 1, 0, 1}, dx[4] = {0, 0, 1, 1};
      for (int k = 0; k < 4; ++k)
        if (weights[k] != 0.0) sweep_->add(block.dtype, frame, y0 + dy[k], x0 + dx[k], weights[k], acc.data(), scratch);
    }
    for (std::size_t d = 0; d < n; ++d) out[d][f] = acc[d];
  }
}

std::vector<Result> VirtualImages::results() const {
  std::vector<Result> out;
  for (std::size_t d = 0; d < detectors_.size(); ++d) {
    Metadata prov{{"analysis", "virtual_image"},
                  {"detector", detectors_[d].detector.parameters()},
                  {"shift_center", std::string(name_of(shift_))},
                  {"input", info_.path},
                  {"scandiff_version", scandiff::version}};
    out.push_back(Result{detectors_[d].name, images_[d], info_.scan_axes(), "counts", std::move(prov)});
  }
  return out;
}

}  // namespace scandiff::stem
