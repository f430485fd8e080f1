#include "scandiff/stem/radial_background.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "scandiff/analysis/gaussian_filter.hpp"
#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

RadialBackground::RadialBackground(std::int64_t frame_y, std::int64_t frame_x, const std::optional<Ellipse>& ellipse,
                                   const PolarOptions& polar, double sigma_bins)
    : frame_y_(frame_y), frame_x_(frame_x), ellipse_(ellipse), polar_(polar) {
  polar_.validate();
  polar_.angle_from_qy = true;  // py4DSTEM's angle bins, so its medians for any n_annular
  if (frame_y < 1 || frame_x < 1 || frame_y * frame_x > std::numeric_limits<std::int32_t>::max())
    throw InvalidArgument(fmt::format("radial background: frame {}x{} is not supported", frame_y, frame_x));
  if (ellipse && !(ellipse->a_px > 0 && ellipse->b_px > 0 && std::isfinite(ellipse->a_px) &&
                   std::isfinite(ellipse->b_px) && std::isfinite(ellipse->theta_rad)))
    throw InvalidArgument(fmt::format("radial background: ellipse a = {}, b = {} px, theta = {} rad: expected finite "
                                      "semi-axes > 0",
                                      ellipse->a_px, ellipse->b_px, ellipse->theta_rad));
  if (!(sigma_bins >= 0) || !std::isfinite(sigma_bins))
    throw InvalidArgument(fmt::format("radial background: sigma {} (radial bins) must be >= 0", sigma_bins));
  n_radial_ = polar_.n_radial(frame_y, frame_x);
  if (n_radial_ < 2)
    throw InvalidArgument(fmt::format("radial background: qmin {} px, qmax {} px and qstep {} px give {} radial bins "
                                      "for {}x{} frames; the interpolation needs at least 2",
                                      polar_.qmin_px, polar_.qmax_px ? fmt::format("{}", *polar_.qmax_px) : "default",
                                      polar_.qstep_px, std::max<std::int64_t>(n_radial_, 0), frame_y, frame_x));
  constexpr double max_bins = 1 << 24;  // 128 MiB of float64 per polar image (and per thread)
  if (static_cast<double>(n_radial_) * static_cast<double>(polar_.n_annular) > max_bins)
    throw InvalidArgument(fmt::format("radial background: {} radial x {} annular bins is too many (at most 2^24; "
                                      "check qmax, qstep and n_annular)",
                                      n_radial_, polar_.n_annular));
  if (sigma_bins > 0) kernel_ = analysis::gaussian_kernel(sigma_bins, 4.0);
}

void RadialBackground::prepare(double origin_qy_px, double origin_qx_px, Workspace& ws) const {
  if (!std::isfinite(origin_qy_px) || !std::isfinite(origin_qx_px))
    throw InvalidArgument(fmt::format("radial background: origin ({}, {}) px is not finite", origin_qy_px, origin_qx_px));
  if (ws.plan && ws.plan_qy == origin_qy_px && ws.plan_qx == origin_qx_px) return;
  ws.plan.reset();  // free the old plan before the new one is built (bounded memory)
  ws.plan.emplace(frame_y_, frame_x_, origin_qy_px, origin_qx_px, ellipse_, polar_);
  ws.plan_qy = origin_qy_px;
  ws.plan_qx = origin_qx_px;
  // Per pixel: ρ, then the segment [r_lo, r_lo + 1] with r_lo < ρ <= r_lo + 1 (scipy's
  // searchsorted 'left'), clamped to the first and last segments (extrapolation), and
  // t = (ρ − r_lo)/qstep (outside [0, 1] when extrapolating).
  const double theta = ellipse_ ? ellipse_->theta_rad : 0;
  const double ratio = ellipse_ ? ellipse_->a_px / ellipse_->b_px : 1;  // a/b
  const double c = std::cos(theta), s = std::sin(theta);
  const double qmin = polar_.qmin_px, qstep = polar_.qstep_px;
  const auto last = static_cast<double>(n_radial_ - 2);  // the last segment's first bin
  const auto n = static_cast<std::size_t>(frame_y_ * frame_x_);
  ws.segment.resize(n);
  ws.weight.resize(n);
  for (std::int64_t qy = 0; qy < frame_y_; ++qy) {
    const double dy = static_cast<double>(qy) - origin_qy_px;
    for (std::int64_t qx = 0; qx < frame_x_; ++qx) {
      const double dx = static_cast<double>(qx) - origin_qx_px;
      const double xc = dx * c + dy * s, yc = (dy * c - dx * s) * ratio;
      const double rho = std::sqrt(xc * xc + yc * yc);
      const double lo = std::clamp(std::ceil((rho - qmin) / qstep) - 1, 0.0, last);
      const auto i = static_cast<std::size_t>(qy * frame_x_ + qx);
      ws.segment[i] = static_cast<std::int32_t>(lo);
      ws.weight[i] = (rho - (qmin + lo * qstep)) / qstep;
    }
  }
}

void RadialBackground::profile(const double* frame, double origin_qy_px, double origin_qx_px, Workspace& ws) const {
  prepare(origin_qy_px, origin_qx_px, ws);
  const PolarTransform& plan = *ws.plan;
  const std::int64_t na = plan.n_annular(), nr = n_radial_;
  ws.polar.resize(static_cast<std::size_t>(na * nr));
  plan.apply(frame, ws.polar, ws.scratch);
  ws.profile.assign(static_cast<std::size_t>(nr), 0.0);
  for (std::int64_t j = 0; j < nr; ++j) {
    ws.column.clear();
    for (std::int64_t k = 0; k < na; ++k)
      if (plan.valid(k, j)) ws.column.push_back(ws.polar[static_cast<std::size_t>(k * nr + j)]);
    if (!ws.column.empty()) ws.profile[static_cast<std::size_t>(j)] = analysis::median_inplace(ws.column);
  }
  ws.smoothed.resize(ws.profile.size());
  if (kernel_.empty())
    ws.smoothed = ws.profile;
  else
    analysis::gaussian_filter1d(ws.profile, ws.smoothed, kernel_, analysis::BlurEdge::reflect);
}

template <class Fn>
void RadialBackground::for_each_pixel(const Workspace& ws, Fn fn) const {
  const double* m = ws.smoothed.data();
  const std::int32_t* seg = ws.segment.data();
  const double* w = ws.weight.data();
  const std::int64_t n = frame_y_ * frame_x_;
  for (std::int64_t p = 0; p < n; ++p) {
    const double lo = m[seg[p]], hi = m[seg[p] + 1];
    fn(p, lo + (hi - lo) * w[p]);
  }
}

void RadialBackground::background(const double* frame, double origin_qy_px, double origin_qx_px,
                                  std::span<double> out, Workspace& ws) const {
  if (out.size() != static_cast<std::size_t>(frame_y_ * frame_x_))
    throw InvalidArgument(fmt::format("radial background: output of {} values for {}x{} frames", out.size(), frame_y_,
                                      frame_x_));
  profile(frame, origin_qy_px, origin_qx_px, ws);
  for_each_pixel(ws, [&](std::int64_t p, double bg) { out[static_cast<std::size_t>(p)] = bg; });
}

void RadialBackground::subtract(double* frame, double origin_qy_px, double origin_qx_px, Workspace& ws) const {
  profile(frame, origin_qy_px, origin_qx_px, ws);
  for_each_pixel(ws, [&](std::int64_t p, double bg) {
    // max(v − bg, 0) keeping NaN (numpy's ans[ans < 0] = 0), written without a branch: about half
    // the pixels are clipped, at random, and a mispredicted branch per pixel doubled the cost.
    // The + 0.0 turns the −0.0 of a clipped pixel into 0.
    const double d = frame[p] - bg;
    frame[p] = d * static_cast<double>(!(d < 0.0)) + 0.0;
  });
}

}  // namespace scandiff::stem
