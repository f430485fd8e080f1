#include "scandiff/stem/origin.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scandiff/analysis/gaussian_filter.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

OriginMeasurement::OriginMeasurement(Options options) : options_(options) {
  if (!(options_.radius_px > 0) || !std::isfinite(options_.radius_px))
    throw InvalidArgument(fmt::format("origin: radius_px must be > 0 (got {})", options_.radius_px));
  if (!(options_.rscale > 0) || !std::isfinite(options_.rscale))
    throw InvalidArgument(fmt::format("origin: rscale must be > 0 (got {})", options_.rscale));
  kernel_ = analysis::gaussian_kernel(options_.radius_px);
}

void OriginMeasurement::prepare(const io::DatasetInfo& info) {
  info_ = info;
  qy_ = Array(DType::f64, {info.scan_y, info.scan_x});
  qx_ = Array(DType::f64, {info.scan_y, info.scan_x});
}

void OriginMeasurement::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::int64_t ny = block.frame_y, nx = block.frame_x, n = block.frame_pixels();
  std::vector<double> frame(static_cast<std::size_t>(n)), blurred(frame.size()), scratch;
  const double radius = options_.rscale * options_.radius_px;
  const auto box = static_cast<std::int64_t>(std::ceil(radius));
  double* out_qy = qy_.data<double>() + block.first;
  double* out_qx = qx_.data<double>() + block.first;
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    for (std::int64_t f = 0; f < block.count; ++f) {
      const T* src = frames + f * n;
      for (std::int64_t p = 0; p < n; ++p) frame[static_cast<std::size_t>(p)] = static_cast<double>(src[p]);
      analysis::gaussian_blur(frame, blurred, ny, nx, kernel_, scratch);
      std::int64_t best = 0;
      for (std::int64_t p = 1; p < n; ++p)
        if (blurred[static_cast<std::size_t>(p)] > blurred[static_cast<std::size_t>(best)]) best = p;
      const std::int64_t ay = best / nx, ax = best % nx;
      if (!options_.refine_com) {
        out_qy[f] = static_cast<double>(ay);
        out_qx[f] = static_cast<double>(ax);
        continue;
      }
      double sum = 0, sum_y = 0, sum_x = 0;
      for (std::int64_t y = std::max<std::int64_t>(0, ay - box); y <= std::min(ny - 1, ay + box); ++y)
        for (std::int64_t x = std::max<std::int64_t>(0, ax - box); x <= std::min(nx - 1, ax + box); ++x) {
          if (!(std::hypot(static_cast<double>(x - ax), static_cast<double>(y - ay)) < radius)) continue;
          const double v = frame[static_cast<std::size_t>(y * nx + x)];
          sum += v;
          sum_y += v * static_cast<double>(y);
          sum_x += v * static_cast<double>(x);
        }
      const double nan = std::numeric_limits<double>::quiet_NaN();
      out_qy[f] = sum != 0 ? sum_y / sum : nan;
      out_qx[f] = sum != 0 ? sum_x / sum : nan;
    }
  });
}

std::vector<Result> OriginMeasurement::results() const {
  const Metadata prov{{"analysis", "origin"},
                      {"method", options_.refine_com ? "blurred argmax + centre of mass" : "blurred argmax"},
                      {"radius_px", options_.radius_px},
                      {"rscale", options_.rscale},
                      {"input", info_.path},
                      {"scandiff_version", scandiff::version}};
  return {Result{"origin_qy", qy_, info_.scan_axes(), "pixels", prov},
          Result{"origin_qx", qx_, info_.scan_axes(), "pixels", prov}};
}

}  // namespace scandiff::stem
