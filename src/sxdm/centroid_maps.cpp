#include "scandiff/sxdm/centroid_maps.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"
#include "scandiff/xray/geometry.hpp"

namespace scandiff::sxdm {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Exact sums for integer data, float64 for float data.
template <class T>
using Acc = std::conditional_t<std::is_integral_v<T>, std::int64_t, double>;

// Column profile px (box width) and row profile py (box height) of one frame.
template <class T>
void project(const T* frame, std::int64_t W, const DetectorBox& b, std::optional<double> threshold, Acc<T>* col,
             double* px, double* py) {
  const std::int64_t bw = b.width();
  std::fill(col, col + bw, Acc<T>{0});
  for (std::int64_t y = b.y0; y < b.y1; ++y) {
    const T* __restrict row = frame + y * W + b.x0;
    Acc<T> s = 0;
    if (threshold) {
      const double t = *threshold;
      for (std::int64_t i = 0; i < bw; ++i) {
        const Acc<T> v = static_cast<double>(row[i]) < t ? Acc<T>{0} : static_cast<Acc<T>>(row[i]);
        col[i] += v;
        s += v;
      }
    } else {
      for (std::int64_t i = 0; i < bw; ++i) {
        const auto v = static_cast<Acc<T>>(row[i]);
        col[i] += v;
        s += v;
      }
    }
    py[y - b.y0] = static_cast<double>(s);
  }
  for (std::int64_t i = 0; i < bw; ++i) px[i] = static_cast<double>(col[i]);
}

}  // namespace

Segmentation parse_segmentation(std::string_view text, std::string_view what) {
  if (text == "none") return Segmentation::none;
  if (text == "sxdm") return Segmentation::sxdm;
  if (text == "threshold") return Segmentation::threshold;
  throw InvalidArgument(fmt::format("{} '{}': expected sxdm, threshold or none", what, text));
}

std::string_view name_of(Segmentation s) {
  switch (s) {
    case Segmentation::none: return "none";
    case Segmentation::sxdm: return "sxdm";
    case Segmentation::threshold: return "threshold";
  }
  return "none";
}

double segmented_centroid(std::span<double> p, const CentroidOptions& o) {
  const std::size_t n = p.size();
  if (n == 0) return nan;
  if (o.segmentation == Segmentation::sxdm) {
    double mean = 0, max = p[0];
    for (double v : p) {
      mean += v;
      max = std::max(max, v);
    }
    mean /= static_cast<double>(n);
    double ss = 0;
    for (double v : p) ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / static_cast<double>(n));
    const double cut = sd < o.stdev_min ? max : mean;
    for (double& v : p)
      if (v <= cut) v = 0;
  } else if (o.segmentation == Segmentation::threshold) {
    for (double& v : p)
      if (v <= o.profile_threshold) v = 0;
  }
  double s = 0, si = 0;
  for (std::size_t i = 0; i < n; ++i) {
    s += p[i];
    si += static_cast<double>(i) * p[i];
  }
  return s == 0 ? nan : si / s;
}

CentroidMaps::CentroidMaps(CentroidOptions options) : options_(std::move(options)) {
  options_.filter.validate("sxdm centroid: profile filter");
  if (!std::isfinite(options_.stdev_min))
    throw InvalidArgument(fmt::format("sxdm centroid: stdev_min must be finite (got {})", options_.stdev_min));
  if (!std::isfinite(options_.profile_threshold))
    throw InvalidArgument(
        fmt::format("sxdm centroid: profile_threshold must be finite (got {})", options_.profile_threshold));
  if (options_.pixel_threshold && std::isnan(*options_.pixel_threshold))
    throw InvalidArgument("sxdm centroid: the pixel threshold is NaN");
}

void CentroidMaps::prepare(const io::DatasetInfo& info) {
  info_ = info;
  box_ = options_.roi.value_or(DetectorBox{0, 0, info.frame_x, info.frame_y});
  box_.check_inside(info.frame_y, info.frame_x, "sxdm centroid: ROI box");
  centroid_x_ = Array(DType::f64, {info.scan_y, info.scan_x});
  centroid_y_ = Array(DType::f64, {info.scan_y, info.scan_x});
  roi_sum_ = Array(DType::f64, {info.scan_y, info.scan_x});
  if (options_.geometry) {
    xray::DetectorGeometry(*options_.geometry, info.frame_y, info.frame_x);  // validates the shape
    two_theta_ = Array(DType::f64, {info.scan_y, info.scan_x});
    chi_ = Array(DType::f64, {info.scan_y, info.scan_x});
  }
}

std::size_t CentroidMaps::output_bytes() const {
  std::size_t n = 0;
  for (const Array* a : {&centroid_x_, &centroid_y_, &roi_sum_, &two_theta_, &chi_})
    if (!a->empty()) n += a->nbytes();
  return n;
}

void CentroidMaps::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::int64_t bw = box_.width(), bh = box_.height();
  std::vector<double> px(static_cast<std::size_t>(bw)), py(static_cast<std::size_t>(bh));
  std::vector<double> scratch(static_cast<std::size_t>(std::max(bw, bh)));
  double* cx = centroid_x_.data<double>() + block.first;
  double* cy = centroid_y_.data<double>() + block.first;
  double* sum = roi_sum_.data<double>() + block.first;
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<Acc<T>> col(static_cast<std::size_t>(bw));
    const T* frames = reinterpret_cast<const T*>(block.data);
    for (std::int64_t f = 0; f < block.count; ++f) {
      project<T>(frames + f * block.frame_pixels(), block.frame_x, box_, options_.pixel_threshold, col.data(),
                 px.data(), py.data());
      options_.filter.apply(px, scratch);
      options_.filter.apply(py, scratch);
      double s = 0;
      for (double v : px) s += v;
      sum[f] = s;
      cx[f] = static_cast<double>(box_.x0) + segmented_centroid(px, options_);
      cy[f] = static_cast<double>(box_.y0) + segmented_centroid(py, options_);
    }
  });
}

void CentroidMaps::finish() {
  if (!options_.geometry) return;
  const xray::DetectorGeometry g(*options_.geometry, info_.frame_y, info_.frame_x);
  // Geometric coordinate of a fractional pixel index: linear in the index (flips included).
  const double r0 = g.geometric_row(0), c0 = g.geometric_col(0);
  const double dr = info_.frame_y > 1 ? (g.geometric_row(info_.frame_y - 1) - r0) / static_cast<double>(info_.frame_y - 1) : 1;
  const double dc = info_.frame_x > 1 ? (g.geometric_col(info_.frame_x - 1) - c0) / static_cast<double>(info_.frame_x - 1) : 1;
  const double deg = 180 / std::numbers::pi;
  const double* cx = centroid_x_.data<double>();
  const double* cy = centroid_y_.data<double>();
  double* tth = two_theta_.data<double>();
  double* chi = chi_.data<double>();
  for (std::int64_t i = 0; i < centroid_x_.size(); ++i) {
    if (std::isnan(cx[i]) || std::isnan(cy[i])) {
      tth[i] = chi[i] = nan;
      continue;
    }
    const double row = r0 + dr * cy[i], col = c0 + dc * cx[i];
    tth[i] = g.two_theta(row, col) * deg;
    chi[i] = g.chi(row, col) * deg;
  }
}

std::vector<Result> CentroidMaps::results() const {
  Metadata prov{{"analysis", "sxdm_centroid"},
                {"formula", "centroid = box offset + sum(i*P[i])/sum(P[i]) of the segmented detector profile P"},
                {"axes", "x = qx = detector column = 2theta direction; y = qy = detector row = chi direction"},
                {"roi_box", box_.to_json()},
                {"pixel_threshold", options_.pixel_threshold ? Metadata(*options_.pixel_threshold) : Metadata()},
                {"profile_filter", options_.filter.parameters()},
                {"segmentation", std::string(name_of(options_.segmentation))},
                {"input", info_.path},
                {"scandiff_version", scandiff::version}};
  if (options_.segmentation == Segmentation::sxdm) prov["stdev_min"] = options_.stdev_min;
  if (options_.segmentation == Segmentation::threshold) prov["profile_threshold"] = options_.profile_threshold;
  std::vector<Result> out{Result{"centroid_x", centroid_x_, info_.scan_axes(), "pixels", prov},
                          Result{"centroid_y", centroid_y_, info_.scan_axes(), "pixels", prov},
                          Result{"roi_sum", roi_sum_, info_.scan_axes(), "counts", prov}};
  if (options_.geometry) {
    Metadata g = prov;
    g["conversion"] = "pyFAI 2theta and chi of the detector point (row, column) = (centroid_y, centroid_x)";
    g["poni"] = xray::format_poni(*options_.geometry);
    out.push_back(Result{"two_theta", two_theta_, info_.scan_axes(), "degrees", g});
    out.push_back(Result{"chi", chi_, info_.scan_axes(), "degrees", g});
  }
  return out;
}

}  // namespace scandiff::sxdm
