#include "scandiff/stem/bragg_vectors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/stem/calibrated_origin.hpp"

namespace scandiff::stem {

BraggVectors::BraggVectors(std::int64_t scan_y, std::int64_t scan_x, std::int64_t frame_y, std::int64_t frame_x)
    : scan_y_(scan_y), scan_x_(scan_x), frame_y_(frame_y), frame_x_(frame_x) {
  if (scan_y < 1 || scan_x < 1 || frame_y < 1 || frame_x < 1 || scan_y * scan_x > (std::int64_t{1} << 34))
    throw InvalidArgument(fmt::format("Bragg vectors: scan ({}, {}) and frame ({}, {}) shapes must be positive", scan_y,
                                      scan_x, frame_y, frame_x));
  peaks_.resize(static_cast<std::size_t>(scan_y * scan_x));
}

std::int64_t BraggVectors::total_peaks() const {
  std::int64_t n = 0;
  for (const auto& l : peaks_) n += static_cast<std::int64_t>(l.size());
  return n;
}

const std::vector<BraggPeak>& BraggVectors::at(std::int64_t position) const {
  if (position < 0 || position >= positions())
    throw InvalidArgument(fmt::format("Bragg vectors: position {} outside 0..{}", position, positions() - 1));
  return peaks_[static_cast<std::size_t>(position)];
}

void BraggVectors::set(std::int64_t position, std::vector<BraggPeak> peaks) {
  if (position < 0 || position >= positions())
    throw InvalidArgument(fmt::format("Bragg vectors: position {} outside 0..{}", position, positions() - 1));
  peaks_[static_cast<std::size_t>(position)] = std::move(peaks);
}

BraggVectors BraggVectors::calibrated(const Calibration& cal, const CalibrationSteps& steps) const {
  if (calibrated_) throw InvalidArgument("Bragg vectors: these vectors are already calibrated");
  BraggVectors out = *this;
  out.calibrated_ = true;
  std::optional<Origin> origin;
  if (steps.origin) {
    if (!Origin::calibrated(cal))
      throw InvalidArgument("Bragg vectors: calibrating needs the origin (calibrate origin first, or leave the origin step out)");
    origin = Origin::from_calibration(cal, scan_y_, scan_x_, "Bragg vector calibration");
  }
  double ratio = 1, ct = 1, st = 0;
  const bool ellipse = steps.ellipse && cal.ellipse.has_value();
  if (ellipse) {
    const Ellipse& e = *cal.ellipse;
    if (!(e.a_px > 0 && e.b_px > 0 && std::isfinite(e.a_px) && std::isfinite(e.b_px) && std::isfinite(e.theta_rad)))
      throw InvalidArgument(fmt::format("Bragg vectors: ellipse a = {}, b = {} px must be positive", e.a_px, e.b_px));
    ratio = e.b_px / e.a_px;
    ct = std::cos(e.theta_rad);
    st = std::sin(e.theta_rad);
  }
  const double pixel = steps.pixel ? cal.detector_pixel_size : 1.0;
  if (!(pixel > 0) || !std::isfinite(pixel))
    throw InvalidArgument(fmt::format("Bragg vectors: detector pixel size must be > 0 (got {})", pixel));
  const double cr = std::cos(steps.rotation ? cal.qr_rotation_rad : 0.0), sr = std::sin(steps.rotation ? cal.qr_rotation_rad : 0.0);
  const bool flip = steps.rotation && cal.qr_flip;
  for (std::int64_t p = 0; p < positions(); ++p)
    for (BraggPeak& b : out.peaks_[static_cast<std::size_t>(p)]) {
      double x = b.qx, y = b.qy;
      if (origin) {
        x -= origin->qx_px(p);
        y -= origin->qy_px(p);
      }
      if (ellipse) {  // components along the a-axis (u) and b-axis (v); u scaled by b/a
        const double u = ct * x + st * y, v = -st * x + ct * y;
        x = ct * (ratio * u) - st * v;
        y = st * (ratio * u) + ct * v;
      }
      x *= pixel;
      y *= pixel;
      if (flip) std::swap(x, y);
      const double rx = cr * x - sr * y, ry = sr * x + cr * y;
      b.qx = rx;
      b.qy = ry;
    }
  out.units_ = steps.pixel ? cal.detector_units : "pixels";
  return out;
}

BraggVectors BraggVectors::masked_q(const Array& mask_q) const {
  if (calibrated_) throw InvalidArgument("Bragg vectors: a detector mask applies to raw vectors only");
  if (mask_q.rank() != 2 || mask_q.shape(0) != frame_y_ || mask_q.shape(1) != frame_x_)
    throw InvalidArgument(fmt::format("Bragg vectors: the Q mask has shape {}, expected ({}, {})",
                                      shape_string(mask_q.shape()), frame_y_, frame_x_));
  const Array m = mask_q.astype(DType::f64);
  BraggVectors out = *this;
  for (auto& list : out.peaks_)
    std::erase_if(list, [&](const BraggPeak& b) {
      const double y = std::round(b.qy), x = std::round(b.qx);
      if (!(y >= 0 && y < static_cast<double>(frame_y_) && x >= 0 && x < static_cast<double>(frame_x_))) return true;
      return m.data<double>()[static_cast<std::int64_t>(y) * frame_x_ + static_cast<std::int64_t>(x)] == 0;
    });
  return out;
}

BraggVectors BraggVectors::masked_r(const Array& mask_r) const {
  if (mask_r.rank() != 2 || mask_r.shape(0) != scan_y_ || mask_r.shape(1) != scan_x_)
    throw InvalidArgument(fmt::format("Bragg vectors: the R mask has shape {}, expected ({}, {})",
                                      shape_string(mask_r.shape()), scan_y_, scan_x_));
  const Array m = mask_r.astype(DType::f64);
  BraggVectors out = *this;
  for (std::int64_t p = 0; p < positions(); ++p)
    if (m.data<double>()[p] == 0) out.peaks_[static_cast<std::size_t>(p)].clear();
  return out;
}

io::EmdBraggVectors BraggVectors::to_emd() const {
  if (calibrated_) throw InvalidArgument("Bragg vectors: only raw vectors are stored in EMD");
  io::EmdBraggVectors v{scan_y_, scan_x_, frame_y_, frame_x_, {0}, {}, {}, {}};
  const auto n = static_cast<std::size_t>(total_peaks());
  v.row.reserve(n);
  v.col.reserve(n);
  v.intensity.reserve(n);
  for (const auto& list : peaks_) {
    for (const BraggPeak& b : list) {
      v.row.push_back(b.qy);
      v.col.push_back(b.qx);
      v.intensity.push_back(b.intensity);
    }
    v.offsets.push_back(static_cast<std::int64_t>(v.row.size()));
  }
  return v;
}

BraggVectors BraggVectors::from_emd(const io::EmdBraggVectors& v) {
  BraggVectors out(v.scan_y, v.scan_x, v.frame_y, v.frame_x);
  if (v.offsets.size() != static_cast<std::size_t>(out.positions() + 1) || v.offsets.back() != static_cast<std::int64_t>(v.row.size()))
    throw InvalidArgument("Bragg vectors: EMD offsets do not match the scan shape");
  for (std::int64_t p = 0; p < out.positions(); ++p) {
    auto& list = out.peaks_[static_cast<std::size_t>(p)];
    for (std::int64_t i = v.offsets[static_cast<std::size_t>(p)]; i < v.offsets[static_cast<std::size_t>(p + 1)]; ++i) {
      const auto k = static_cast<std::size_t>(i);
      list.push_back({v.col[k], v.row[k], v.intensity[k]});
    }
  }
  return out;
}

Array bragg_vector_map(const BraggVectors& v, std::int64_t ny, std::int64_t nx, double step, double origin_y,
                       double origin_x, bool count) {
  if (!(step > 0) || !std::isfinite(step)) throw InvalidArgument(fmt::format("Bragg vector map: step must be > 0 (got {})", step));
  if (ny < 1 || nx < 1 || ny * nx > (std::int64_t{1} << 28))
    throw InvalidArgument(fmt::format("Bragg vector map: shape ({}, {}) must be positive and at most 2^28 bins", ny, nx));
  Array map(DType::f64, {ny, nx});
  double* m = map.data<double>();
  std::fill(m, m + ny * nx, 0.0);
  for (std::int64_t p = 0; p < v.positions(); ++p)
    for (const BraggPeak& b : v.at(p)) {
      const double y = b.qy / step + origin_y, x = b.qx / step + origin_x;
      if (!std::isfinite(y) || !std::isfinite(x)) continue;
      const double fy = std::floor(y), fx = std::floor(x);
      if (fy < 0 || fx < 0 || fy + 1 >= static_cast<double>(ny) || fx + 1 >= static_cast<double>(nx)) continue;
      const double wy = y - fy, wx = x - fx, w = count ? 1.0 : b.intensity;
      const auto i = static_cast<std::int64_t>(fy) * nx + static_cast<std::int64_t>(fx);
      m[i] += w * (1 - wy) * (1 - wx);
      m[i + 1] += w * (1 - wy) * wx;
      m[i + nx] += w * wy * (1 - wx);
      m[i + nx + 1] += w * wy * wx;
    }
  return map;
}

Array bragg_vector_map(const BraggVectors& raw, int sampling) {
  if (sampling < 1 || sampling > 64) throw InvalidArgument(fmt::format("Bragg vector map: sampling must be 1..64 (got {})", sampling));
  if (raw.is_calibrated()) throw InvalidArgument("Bragg vector map: expected raw vectors");
  return bragg_vector_map(raw, raw.frame_y() * sampling, raw.frame_x() * sampling, 1.0 / sampling, 0, 0);
}

OriginMaps origin_from_vectors(const BraggVectors& raw, const double* nearest_qy, const double* nearest_qx) {
  if (raw.is_calibrated()) throw InvalidArgument("origin from vectors: expected raw vectors");
  OriginMaps o{Array(DType::f64, {raw.scan_y(), raw.scan_x()}), Array(DType::f64, {raw.scan_y(), raw.scan_x()})};
  const bool nearest = nearest_qy && nearest_qx;
  for (std::int64_t p = 0; p < raw.positions(); ++p) {
    const auto& list = raw.at(p);
    double qy = std::numeric_limits<double>::quiet_NaN(), qx = qy, best = -std::numeric_limits<double>::infinity();
    for (const BraggPeak& b : list) {
      const double score = nearest ? -std::hypot(b.qy - *nearest_qy, b.qx - *nearest_qx) : b.intensity;
      if (score > best) {
        best = score;
        qy = b.qy;
        qx = b.qx;
      }
    }
    o.qy.data<double>()[p] = qy;
    o.qx.data<double>()[p] = qx;
  }
  return o;
}

Array vectors_virtual_image(const BraggVectors& v, std::span<const QPoint> centers, double radius) {
  if (!(radius >= 0) || !std::isfinite(radius))
    throw InvalidArgument(fmt::format("Bragg virtual image: radius must be >= 0 (got {})", radius));
  Array img(DType::f64, {v.scan_y(), v.scan_x()});
  for (std::int64_t p = 0; p < v.positions(); ++p) {
    double s = 0;
    for (const BraggPeak& b : v.at(p))
      for (const QPoint& c : centers)
        if (std::hypot(b.qx - c.qx, b.qy - c.qy) <= radius) {
          s += b.intensity;
          break;
        }
    img.data<double>()[p] = s;
  }
  return img;
}

}  // namespace scandiff::stem
