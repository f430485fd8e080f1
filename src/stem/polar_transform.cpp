#include "scandiff/stem/polar_transform.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/analysis/gaussian_filter.hpp"

namespace scandiff::stem {

void PolarOptions::validate() const {
  if (!(qstep_px > 0)) throw InvalidArgument(fmt::format("polar qstep {} px: must be > 0", qstep_px));
  if (!(qmin_px >= 0)) throw InvalidArgument(fmt::format("polar qmin {} px: must be >= 0", qmin_px));
  if (qmax_px && !(*qmax_px > qmin_px))
    throw InvalidArgument(fmt::format("polar qmax {} px: must be > qmin ({} px)", *qmax_px, qmin_px));
  if (n_annular < 2) throw InvalidArgument(fmt::format("polar n_annular {}: must be >= 2", n_annular));
  if (!(mask_threshold >= 0)) throw InvalidArgument(fmt::format("polar mask threshold {}: must be >= 0", mask_threshold));
}

std::int64_t PolarOptions::n_radial(std::int64_t frame_y, std::int64_t frame_x) const {
  const double qmax = qmax_px.value_or(static_cast<double>(std::min(frame_y, frame_x)) / std::numbers::sqrt2);
  return static_cast<std::int64_t>(std::ceil((qmax - qmin_px) / qstep_px));  // numpy.arange length
}

PolarTransform::PolarTransform(std::int64_t frame_y, std::int64_t frame_x, double origin_qy_px, double origin_qx_px,
                               const std::optional<Ellipse>& ellipse, const PolarOptions& options, const Array* mask) {
  options.validate();
  if (frame_y < 1 || frame_x < 1 || frame_y * frame_x > std::numeric_limits<std::int32_t>::max())
    throw InvalidArgument(fmt::format("polar transform: frame {}x{} is not supported", frame_y, frame_x));
  if (!std::isfinite(origin_qy_px) || !std::isfinite(origin_qx_px))
    throw InvalidArgument("polar transform: the origin is not finite");
  if (ellipse && !(ellipse->a_px > 0 && ellipse->b_px > 0 && std::isfinite(ellipse->theta_rad)))
    throw InvalidArgument(fmt::format("polar transform: ellipse a = {}, b = {} px must be > 0", ellipse->a_px,
                                      ellipse->b_px));
  const std::uint8_t* m = nullptr;
  if (mask) {
    if (mask->dtype() != DType::u8 || mask->shape() != Shape{frame_y, frame_x} || !mask->is_contiguous())
      throw InvalidArgument(fmt::format("polar transform: mask of shape {} {} does not fit {}x{} frames (expected "
                                        "uint8, non-zero = masked)",
                                        shape_string(mask->shape()), name_of(mask->dtype()), frame_y, frame_x));
    m = reinterpret_cast<const std::uint8_t*>(mask->bytes());
  }

  qmin_ = options.qmin_px;
  qstep_ = options.qstep_px;
  n_radial_ = options.n_radial(frame_y, frame_x);
  n_annular_ = options.n_annular;
  const double range = options.two_fold ? std::numbers::pi : 2 * std::numbers::pi;
  dphi_ = range / static_cast<double>(n_annular_);

  const bool elliptic = ellipse.has_value();
  const double theta = elliptic ? ellipse->theta_rad : 0;
  const double ratio = elliptic ? ellipse->a_px / ellipse->b_px : 1;  // a/b
  const double c = std::cos(theta), s = std::sin(theta);
  splats_.reserve(static_cast<std::size_t>(frame_y * frame_x));
  for (std::int64_t qy = 0; qy < frame_y; ++qy) {
    for (std::int64_t qx = 0; qx < frame_x; ++qx) {
      const std::int64_t k = qy * frame_x + qx;
      if (m && m[k]) continue;
      const double dx = static_cast<double>(qx) - origin_qx_px, dy = static_cast<double>(qy) - origin_qy_px;
      double r, phi;
      if (elliptic) {
        const double xc = dx * c + dy * s;
        const double yc = (dy * c - dx * s) * ratio;
        r = std::hypot(xc, yc) / ratio;
        phi = std::atan2(yc, xc) + theta;
      } else {
        r = std::sqrt(dx * dx + dy * dy);
        phi = std::atan2(dy, dx);
      }
      if (options.angle_from_qy) phi = std::numbers::pi / 2 - phi;
      phi = std::fmod(phi, range);
      if (phi < 0) phi += range;
      const double ri = (r - qmin_) / qstep_;
      const double ti = phi / dphi_;
      const double r0 = std::floor(ri), t0 = std::floor(ti);
      if (r0 < -1 || r0 >= static_cast<double>(n_radial_)) continue;
      // 0 <= φ < range, so t0 is in [0, n_annular] (n_annular only by rounding): a compare, not
      // a 64-bit division per pixel (about a third of the plan's time).
      auto t = static_cast<std::int64_t>(t0);
      if (t >= n_annular_) t -= n_annular_;
      if (t < 0) t += n_annular_;
      splats_.push_back({static_cast<std::int32_t>(k), static_cast<std::int32_t>(r0), static_cast<std::int32_t>(t),
                         ri - r0, ti - t0});
    }
  }

  // Angular KDE kernels, where py4DSTEM applies them.
  kernels_.resize(static_cast<std::size_t>(n_radial_));
  if (options.angular_smoothing) {
    for (std::int64_t j = 0; j < n_radial_; ++j) {
      const double rj = qmin_ + static_cast<double>(j) * qstep_;
      const double sigma = 0.5 / (dphi_ * (rj + qstep_ * 0.5));
      if (sigma > 0.1669) kernels_[static_cast<std::size_t>(j)] = analysis::gaussian_kernel(sigma, 4.0);
    }
  }

  // Normalisation: the same splat and smoothing of 1 per unmasked pixel.
  std::vector<double> norm(static_cast<std::size_t>(n_annular_ * n_radial_), 0.0), column;
  splat([](std::int32_t) { return 1.0; }, norm);
  smooth(norm, column);
  inv_norm_.assign(norm.size(), 0.0);
  for (std::int64_t k = 0; k < n_annular_; ++k)
    for (std::int64_t j = 0; j < n_radial_; ++j) {
      const auto i = static_cast<std::size_t>(k * n_radial_ + j);
      const double density = 1 / (dphi_ * (qmin_ + static_cast<double>(j) * qstep_ + qstep_ * 0.5));
      if (!(norm[i] * density < options.mask_threshold) && norm[i] > 0) inv_norm_[i] = 1 / norm[i];
    }
}

template <class Value>
void PolarTransform::splat(Value value, std::span<double> acc) const {
  const std::int64_t nr = n_radial_, na = n_annular_;
  for (const Splat& p : splats_) {
    const double v = value(p.pixel);
    const std::int64_t t1 = p.t0 + 1 == na ? 0 : p.t0 + 1;
    const double w_r0 = v * (1 - p.dr), w_r1 = v * p.dr;
    if (p.r0 >= 0) {
      acc[static_cast<std::size_t>(p.t0 * nr + p.r0)] += w_r0 * (1 - p.dt);
      acc[static_cast<std::size_t>(t1 * nr + p.r0)] += w_r0 * p.dt;
    }
    if (p.r0 + 1 < nr) {
      acc[static_cast<std::size_t>(p.t0 * nr + p.r0 + 1)] += w_r1 * (1 - p.dt);
      acc[static_cast<std::size_t>(t1 * nr + p.r0 + 1)] += w_r1 * p.dt;
    }
  }
}

void PolarTransform::smooth(std::span<double> acc, std::vector<double>& column) const {
  const std::int64_t nr = n_radial_, na = n_annular_;
  for (std::int64_t j = 0; j < nr; ++j) {
    const auto& w = kernels_[static_cast<std::size_t>(j)];
    if (w.empty()) continue;
    // The column extended periodically by `half` bins on each side: ext[i] = acc[(i − half) mod na].
    const auto half = static_cast<std::int64_t>(w.size() / 2);
    column.resize(static_cast<std::size_t>(na + 2 * half));
    for (std::int64_t i = 0; i < na + 2 * half; ++i) {
      std::int64_t src = (i - half) % na;
      if (src < 0) src += na;
      column[static_cast<std::size_t>(i)] = acc[static_cast<std::size_t>(src * nr + j)];
    }
    for (std::int64_t k = 0; k < na; ++k) {
      const double* e = column.data() + k;  // e[m] = acc[(k + m − half) mod na]
      double sum = 0;
      for (std::size_t m = 0; m < w.size(); ++m) sum += w[m] * e[m];
      acc[static_cast<std::size_t>(k * nr + j)] = sum;
    }
  }
}

template <class T>
void PolarTransform::apply(const T* frame, std::span<double> out, std::vector<double>& scratch) const {
  const auto n = static_cast<std::size_t>(n_annular_ * n_radial_);
  if (out.size() != n) throw InvalidArgument("polar transform: output size does not match the grid");
  std::fill(out.begin(), out.end(), 0.0);
  splat([frame](std::int32_t k) { return static_cast<double>(frame[k]); }, out);
  smooth(out, scratch);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = inv_norm_[i] > 0 ? out[i] * inv_norm_[i] : std::numeric_limits<double>::quiet_NaN();
}

template <class T>
void PolarTransform::azimuthal_mean_var(const T* frame, std::span<double> mean, std::span<double> var,
                                        std::vector<double>& scratch) const {
  const std::int64_t nr = n_radial_, na = n_annular_;
  if (mean.size() != static_cast<std::size_t>(nr) || var.size() != static_cast<std::size_t>(nr))
    throw InvalidArgument("polar transform: profile size does not match the radial bins");
  const auto n = static_cast<std::size_t>(na * nr);
  scratch.resize(n + static_cast<std::size_t>(2 * na));
  std::span<double> polar(scratch.data(), n);
  thread_local std::vector<double> column;  // smoothing's periodic column buffer
  std::fill(polar.begin(), polar.end(), 0.0);
  splat([frame](std::int32_t k) { return static_cast<double>(frame[k]); }, polar);
  smooth(polar, column);
  std::vector<double> count(static_cast<std::size_t>(nr), 0.0);
  std::fill(mean.begin(), mean.end(), 0.0);
  std::fill(var.begin(), var.end(), 0.0);
  for (std::int64_t k = 0; k < na; ++k)
    for (std::int64_t j = 0; j < nr; ++j) {
      const auto i = static_cast<std::size_t>(k * nr + j);
      if (inv_norm_[i] > 0) {
        polar[i] *= inv_norm_[i];
        mean[static_cast<std::size_t>(j)] += polar[i];
        count[static_cast<std::size_t>(j)] += 1;
      }
    }
  for (std::int64_t j = 0; j < nr; ++j) {
    const auto jj = static_cast<std::size_t>(j);
    mean[jj] = count[jj] > 0 ? mean[jj] / count[jj] : std::numeric_limits<double>::quiet_NaN();
  }
  for (std::int64_t k = 0; k < na; ++k)
    for (std::int64_t j = 0; j < nr; ++j) {
      const auto i = static_cast<std::size_t>(k * nr + j);
      if (inv_norm_[i] > 0) {
        const double d = polar[i] - mean[static_cast<std::size_t>(j)];
        var[static_cast<std::size_t>(j)] += d * d;
      }
    }
  for (std::int64_t j = 0; j < nr; ++j) {
    const auto jj = static_cast<std::size_t>(j);
    var[jj] = count[jj] > 0 ? var[jj] / count[jj] : std::numeric_limits<double>::quiet_NaN();
  }
}

#define SCANDIFF_POLAR_INSTANTIATE(T)                                                                       \
  template void PolarTransform::apply<T>(const T*, std::span<double>, std::vector<double>&) const;          \
  template void PolarTransform::azimuthal_mean_var<T>(const T*, std::span<double>, std::span<double>,       \
                                                      std::vector<double>&) const;
SCANDIFF_POLAR_INSTANTIATE(std::uint8_t)
SCANDIFF_POLAR_INSTANTIATE(std::uint16_t)
SCANDIFF_POLAR_INSTANTIATE(std::uint32_t)
SCANDIFF_POLAR_INSTANTIATE(std::int32_t)
SCANDIFF_POLAR_INSTANTIATE(float)
SCANDIFF_POLAR_INSTANTIATE(double)
#undef SCANDIFF_POLAR_INSTANTIATE

}  // namespace scandiff::stem
