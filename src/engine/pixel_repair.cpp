#include "scandiff/engine/pixel_repair.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::engine {

RepairPixels::RepairPixels(std::vector<DetectorPixel> pixels) : pixels_(std::move(pixels)) {
  std::sort(pixels_.begin(), pixels_.end());
  pixels_.erase(std::unique(pixels_.begin(), pixels_.end()), pixels_.end());
}

io::DatasetInfo RepairPixels::prepare(const io::DatasetInfo& in) {
  const std::int64_t ny = in.frame_y, nx = in.frame_x;
  std::set<DetectorPixel> bad;
  for (const DetectorPixel& p : pixels_) {
    if (p.qy < 0 || p.qy >= ny || p.qx < 0 || p.qx >= nx)
      throw InvalidArgument(fmt::format("repair_pixels: bad pixel (qy, qx) = ({}, {}) is outside the {}x{} frame",
                                        p.qy, p.qx, ny, nx));
    bad.insert(p);
  }
  target_.clear();
  neighbours_.clear();
  first_.assign(1, 0);
  for (const DetectorPixel& p : pixels_) {
    for (std::int64_t h = 1; h <= 2; ++h) {
      const std::size_t before = neighbours_.size();
      for (std::int64_t y = p.qy - h; y <= p.qy + h; ++y)
        for (std::int64_t x = p.qx - h; x <= p.qx + h; ++x) {
          if (y < 0 || y >= ny || x < 0 || x >= nx) continue;
          if (bad.count({y, x})) continue;  // p itself and other bad pixels
          neighbours_.push_back(y * nx + x);
        }
      if (neighbours_.size() > before) break;  // the 3×3 window had good pixels
    }
    target_.push_back(p.qy * nx + p.qx);
    first_.push_back(static_cast<std::int64_t>(neighbours_.size()));
  }
  return in;
}

void RepairPixels::apply(const FrameBlock& in, std::byte* out) const {
  const std::size_t frame_bytes = static_cast<std::size_t>(in.frame_pixels()) * size_of(in.dtype);
  std::memcpy(out, in.data, frame_bytes * static_cast<std::size_t>(in.count));
  visit_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    double values[24];
    for (std::int64_t f = 0; f < in.count; ++f) {
      T* frame = reinterpret_cast<T*>(out) + f * in.frame_pixels();
      for (std::size_t i = 0; i < target_.size(); ++i) {
        // Reads only good pixels, which this loop never writes: the order of repairs is irrelevant.
        const auto b = static_cast<std::size_t>(first_[i]), e = static_cast<std::size_t>(first_[i + 1]);
        const std::size_t n = e - b;
        if (n == 0) {
          frame[target_[i]] = T{0};
          continue;
        }
        for (std::size_t k = 0; k < n; ++k) values[k] = static_cast<double>(frame[neighbours_[b + k]]);
        std::sort(values, values + n);
        const double median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
        frame[target_[i]] = std::is_integral_v<T> ? static_cast<T>(std::round(median)) : static_cast<T>(median);
      }
    }
  });
}

Metadata RepairPixels::parameters() const {
  Metadata list = Metadata::array();
  for (const DetectorPixel& p : pixels_) list.push_back({p.qy, p.qx});
  return {{"pixels_qy_qx", list}, {"rule", "median of the good pixels of the 3x3 window (else 5x5, else 0)"}};
}

Array repair_pixels(const Array& image2d, const std::vector<DetectorPixel>& pixels) {
  if (image2d.rank() != 2)
    throw InvalidArgument(fmt::format("repair_pixels: expected a 2D image (got shape {})", shape_string(image2d.shape())));
  const Array in = image2d.copy();
  io::DatasetInfo info;
  info.scan_y = info.scan_x = 1;
  info.frame_y = in.shape(0);
  info.frame_x = in.shape(1);
  info.dtype = in.dtype();
  RepairPixels stage(pixels);
  stage.prepare(info);
  Array out(in.dtype(), in.shape());
  stage.apply({.first = 0, .count = 1, .frame_y = info.frame_y, .frame_x = info.frame_x, .scan_x = 1,
               .dtype = info.dtype, .data = in.bytes()},
              out.bytes());
  return out;
}

}  // namespace scandiff::engine
