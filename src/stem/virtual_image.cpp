#include "scandiff/stem/virtual_image.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

// Sum of one frame over the detector's runs. Integer data sums exactly in int64 per run.
template <class T>
double detector_sum(const T* frame, const std::vector<Detector::Run>& runs) {
  using Acc = std::conditional_t<std::is_integral_v<T>, std::int64_t, double>;
  double total = 0;
  for (const Detector::Run& r : runs) {
    Acc s = 0;
    const T* p = frame + r.offset;
    for (std::int64_t k = 0; k < r.length; ++k) s += static_cast<Acc>(p[k]);
    total += static_cast<double>(s) * r.weight;
  }
  return total;
}

}  // namespace

VirtualImage::VirtualImage(std::string name, Detector detector) : name_(std::move(name)), detector_(std::move(detector)) {}

void VirtualImage::prepare(const io::DatasetInfo& info) {
  if (detector_.frame_y() != info.frame_y || detector_.frame_x() != info.frame_x)
    throw InvalidArgument(fmt::format("virtual image '{}': the detector is {}x{} but {} has {}x{} frames", name_,
                                      detector_.frame_y(), detector_.frame_x(), info.path, info.frame_y, info.frame_x));
  info_ = info;
  image_ = Array(DType::f64, {info.scan_y, info.scan_x});
}

void VirtualImage::process(const engine::FrameBlock& block, engine::Partial*) {
  double* out = image_.data<double>() + block.first;
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    const std::int64_t n = block.frame_pixels();
    for (std::int64_t f = 0; f < block.count; ++f) out[f] = detector_sum(frames + f * n, detector_.runs());
  });
}

std::vector<Result> VirtualImage::results() const {
  Metadata prov{{"analysis", "virtual_image"},
                {"detector", detector_.parameters()},
                {"input", info_.path},
                {"scandiff_version", scandiff::version}};
  return {Result{name_, image_, info_.scan_axes(), "counts", std::move(prov)}};
}

}  // namespace scandiff::stem
