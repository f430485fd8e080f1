#include "scandiff/sim/sxdm_scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "scandiff/version.hpp"
#include "sim_common.hpp"

namespace scandiff::sim {

namespace {
constexpr const char* sxdm_path = "<simulated sxdm scan>";
constexpr double cutoff_sigma = 8;  // the Gaussian is evaluated within this many sigma
}  // namespace

SxdmScan::SxdmScan(SxdmScanParams params) : params_(std::move(params)) {
  using namespace detail;
  const auto& p = params_;
  require_frame_size(p.frame_y, p.frame_x, p.scan_y, p.scan_x);
  require(p.dtype >= DType::u8 && p.dtype <= DType::f64, "dtype", "a known element type", static_cast<double>(p.dtype));
  if (p.peak_qy_px) require_finite(*p.peak_qy_px, "peak_qy_px");
  if (p.peak_qx_px) require_finite(*p.peak_qx_px, "peak_qx_px");
  require_non_negative(p.swing_qx_px, "swing_qx_px");
  require_non_negative(p.swing_qy_px, "swing_qy_px");
  require_positive(p.sigma_qx_px, "sigma_qx_px");
  require_positive(p.sigma_qy_px, "sigma_qy_px");
  require_non_negative(p.peak_counts, "peak_counts");
  require_non_negative(p.background, "background");
  require(p.hot_pixels >= 0 && p.hot_pixels <= 1000, "hot_pixels", "in 0..1000", static_cast<double>(p.hot_pixels));
  require_non_negative(p.hot_counts, "hot_counts");
  require(p.noise == Noise::none || p.noise == Noise::poisson, "noise", "none or poisson", static_cast<double>(p.noise));
  require_positive(p.dose_scale, "dose_scale");
  require(std::isfinite((p.background + p.peak_counts) * p.dose_scale), "dose_scale", "small enough for finite counts",
          p.dose_scale);
  qy0_ = p.peak_qy_px.value_or(static_cast<double>(p.frame_y - 1) / 2);
  qx0_ = p.peak_qx_px.value_or(static_cast<double>(p.frame_x - 1) / 2);
  const auto pixels = static_cast<std::uint64_t>(p.frame_y * p.frame_x);
  for (std::int64_t k = 0; k < p.hot_pixels; ++k) {
    const std::uint64_t i = mix64(mix64(p.seed ^ 0x407d1e5ULL) + static_cast<std::uint64_t>(k)) % pixels;
    hot_.push_back({static_cast<std::int64_t>(i) / p.frame_x, static_cast<std::int64_t>(i) % p.frame_x});
  }
}

Vec2 SxdmScan::peak_at(std::int64_t ry, std::int64_t rx) const {
  const auto& p = params_;
  const double u = (static_cast<double>(rx) + 0.5) / static_cast<double>(p.scan_x);
  const double v = (static_cast<double>(ry) + 0.5) / static_cast<double>(p.scan_y);
  const double pi = std::numbers::pi;
  return {qx0_ + p.swing_qx_px * std::sin(2 * pi * u + pi * v), qy0_ + p.swing_qy_px * std::cos(2 * pi * v - pi * u)};
}

io::DatasetInfo SxdmScan::info() const {
  const auto& p = params_;
  io::DatasetInfo info = detail::simulated_info(sxdm_path, p, parameters());
  return info;
}

void SxdmScan::render(std::int64_t first, std::int64_t count, std::byte* dst) const {
  const auto& p = params_;
  detail::check_range(sxdm_path, first, count, p.scan_y * p.scan_x);
  const std::int64_t H = p.frame_y, W = p.frame_x;
  const std::size_t elem = size_of(p.dtype), frame_bytes = static_cast<std::size_t>(H * W) * elem;
  detail::PoissonSampler poisson;
  std::vector<double> expected;
  std::byte background[8], hot[8];
  {
    detail::FrameRng unused(0, 0);
    const double b = p.background * p.dose_scale, h = p.hot_counts;
    detail::write_frame(std::span(&b, 1), p.dtype, Noise::none, unused, poisson, background);
    detail::write_frame(std::span(&h, 1), p.dtype, Noise::none, unused, poisson, hot);
  }
  for (std::int64_t f = first; f < first + count; ++f) {
    std::byte* out = dst + static_cast<std::size_t>(f - first) * frame_bytes;
    const Vec2 c = peak_at(f / p.scan_x, f % p.scan_x);
    // The peak window, clipped to the frame.
    const auto x0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(c.x - cutoff_sigma * p.sigma_qx_px)), 0, W);
    const auto x1 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(c.x + cutoff_sigma * p.sigma_qx_px)) + 1, 0, W);
    const auto y0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(c.y - cutoff_sigma * p.sigma_qy_px)), 0, H);
    const auto y1 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(c.y + cutoff_sigma * p.sigma_qy_px)) + 1, 0, H);
    std::vector<double> gx(static_cast<std::size_t>(std::max<std::int64_t>(x1 - x0, 0)));
    for (std::int64_t x = x0; x < x1; ++x) {
      const double t = (static_cast<double>(x) - c.x) / p.sigma_qx_px;
      gx[static_cast<std::size_t>(x - x0)] = std::exp(-0.5 * t * t);
    }
    detail::FrameRng rng(p.seed, f);
    const double b = p.background * p.dose_scale, a = p.peak_counts * p.dose_scale;
    if (p.noise == Noise::none) {
      visit_dtype(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        T v;
        std::memcpy(&v, background, sizeof(T));
        std::fill_n(reinterpret_cast<T*>(out), H * W, v);
      });
      std::vector<double> row(gx.size());
      for (std::int64_t y = y0; y < y1; ++y) {
        const double t = (static_cast<double>(y) - c.y) / p.sigma_qy_px, gy = a * std::exp(-0.5 * t * t);
        for (std::size_t k = 0; k < gx.size(); ++k) row[k] = b + gy * gx[k];
        detail::write_frame(row, p.dtype, Noise::none, rng, poisson, out + static_cast<std::size_t>(y * W + x0) * elem);
      }
    } else {
      expected.assign(static_cast<std::size_t>(H * W), b);
      for (std::int64_t y = y0; y < y1; ++y) {
        const double t = (static_cast<double>(y) - c.y) / p.sigma_qy_px, gy = a * std::exp(-0.5 * t * t);
        for (std::int64_t x = x0; x < x1; ++x)
          expected[static_cast<std::size_t>(y * W + x)] += gy * gx[static_cast<std::size_t>(x - x0)];
      }
      detail::write_frame(expected, p.dtype, p.noise, rng, poisson, out);
    }
    for (const DetectorPixelIndex& h : hot_) std::memcpy(out + static_cast<std::size_t>(h.qy * W + h.qx) * elem, hot, elem);
  }
}

std::vector<Result> SxdmScan::ground_truth() const {
  const auto& p = params_;
  Metadata provenance{{"generator", "scandiff.sim.SxdmScan"}, {"scandiff_version", version}, {"parameters", parameters()}};
  Result qx{"peak_qx", Array(DType::f64, {p.scan_y, p.scan_x}), {Axis{"ry"}, Axis{"rx"}}, "pixels", provenance};
  Result qy{"peak_qy", Array(DType::f64, {p.scan_y, p.scan_x}), {Axis{"ry"}, Axis{"rx"}}, "pixels", provenance};
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      const Vec2 c = peak_at(ry, rx);
      qx.data.data<double>()[ry * p.scan_x + rx] = c.x;
      qy.data.data<double>()[ry * p.scan_x + rx] = c.y;
    }
  std::vector<Result> out{std::move(qx), std::move(qy)};
  if (!hot_.empty()) {
    Result hot{"hot_pixels", Array(DType::f64, {static_cast<std::int64_t>(hot_.size()), 2}),
               {Axis{"pixel", 0, 1, "index"}, Axis{"qy_qx", 0, 1, "index"}}, "pixels", provenance};
    for (std::size_t i = 0; i < hot_.size(); ++i) {
      hot.data.data<double>()[2 * i] = static_cast<double>(hot_[i].qy);
      hot.data.data<double>()[2 * i + 1] = static_cast<double>(hot_[i].qx);
    }
    out.push_back(std::move(hot));
  }
  return out;
}

Metadata SxdmScan::parameters() const {
  const auto& p = params_;
  Metadata m = detail::parameter_header("SxdmScan", p);
  m["peak_qy_px"] = qy0_;
  m["peak_qx_px"] = qx0_;
  m["swing_qx_px"] = p.swing_qx_px;
  m["swing_qy_px"] = p.swing_qy_px;
  m["sigma_qx_px"] = p.sigma_qx_px;
  m["sigma_qy_px"] = p.sigma_qy_px;
  m["peak_counts"] = p.peak_counts;
  m["background"] = p.background;
  m["hot_pixels"] = p.hot_pixels;
  m["hot_counts"] = p.hot_counts;
  m["noise"] = std::string(name_of(p.noise));
  m["dose_scale"] = p.dose_scale;
  m["seed"] = p.seed;
  return m;
}

}  // namespace scandiff::sim
