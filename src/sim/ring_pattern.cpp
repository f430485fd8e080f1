#include "scandiff/sim/ring_pattern.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "scandiff/version.hpp"
#include "sim_common.hpp"

namespace scandiff::sim {

namespace {
constexpr const char* ring_path = "<simulated ring pattern>";
// Each ring's Gaussian is evaluated within this many sigma of its radius.
constexpr double ring_cutoff_sigma = 8;
}  // namespace

std::vector<PowderRing> gold_d_spacings() {
  struct Hkl {
    int h, k, l;
    double intensity;
  };
  // ICDD PDF 04-0784 (Au, Cu Kα) relative intensities / 100.
  static constexpr Hkl table[] = {{1, 1, 1, 1.00}, {2, 0, 0, 0.52}, {2, 2, 0, 0.32}, {3, 1, 1, 0.36},
                                  {2, 2, 2, 0.12}, {4, 0, 0, 0.06}, {3, 3, 1, 0.23}, {4, 2, 0, 0.22}};
  std::vector<PowderRing> rings;
  for (const auto& t : table) {
    const double d = gold_lattice_constant_A / std::sqrt(static_cast<double>(t.h * t.h + t.k * t.k + t.l * t.l));
    rings.push_back({d, t.intensity, fmt::format("{}{}{}", t.h, t.k, t.l)});
  }
  return rings;
}

RingPattern::RingPattern(RingPatternParams params) : params_(std::move(params)) {
  validate();
  const auto& p = params_;
  origin_qy_ = p.origin_qy_px.value_or(static_cast<double>(p.frame_y - 1) / 2);
  origin_qx_ = p.origin_qx_px.value_or(static_cast<double>(p.frame_x - 1) / 2);

  expected_.assign(static_cast<std::size_t>(p.frame_y * p.frame_x), p.background * p.dose_scale);
  const detail::Mat2 corr = detail::correction_matrix(p.ellipse);
  const double inv_w = 1 / p.ring_width_px;
  std::vector<std::pair<double, double>> rings;  // (radius px, peak counts)
  for (std::size_t r = 0; r < p.rings.size(); ++r)
    rings.emplace_back(ring_radius_px(r), p.ring_intensity * p.rings[r].relative_intensity * p.dose_scale);
  for (std::int64_t i = 0; i < p.frame_y; ++i) {
    double* row = expected_.data() + i * p.frame_x;
    const double py = static_cast<double>(i) - origin_qy_;
    for (std::int64_t j = 0; j < p.frame_x; ++j) {
      const Vec2 q = corr({static_cast<double>(j) - origin_qx_, py});
      const double radius = std::sqrt(q.x * q.x + q.y * q.y);
      for (const auto& [r0, peak] : rings) {
        const double t = (radius - r0) * inv_w;
        if (t > -ring_cutoff_sigma && t < ring_cutoff_sigma) row[j] += peak * std::exp(-0.5 * t * t);
      }
    }
  }
}

void RingPattern::validate() const {
  using namespace detail;
  const auto& p = params_;
  require_frame_size(p.frame_y, p.frame_x, p.scan_y, p.scan_x);
  require(p.dtype >= DType::u8 && p.dtype <= DType::f64, "dtype", "a known element type",
          static_cast<double>(p.dtype));
  for (std::size_t r = 0; r < p.rings.size(); ++r) {
    require_positive(p.rings[r].d_A, fmt::format("rings[{}].d_A", r));
    require_non_negative(p.rings[r].relative_intensity, fmt::format("rings[{}].relative_intensity", r));
  }
  require_positive(p.pixel_size_inv_A, "pixel_size_inv_A");
  for (std::size_t r = 0; r < p.rings.size(); ++r)
    require(std::isfinite(1 / p.rings[r].d_A / p.pixel_size_inv_A), fmt::format("rings[{}].d_A", r),
            "large enough for a finite ring radius with pixel_size_inv_A", p.rings[r].d_A);
  require_positive(p.ring_width_px, "ring_width_px");
  require_non_negative(p.ring_intensity, "ring_intensity");
  require_non_negative(p.background, "background");
  if (p.origin_qy_px) require_finite(*p.origin_qy_px, "origin_qy_px");
  if (p.origin_qx_px) require_finite(*p.origin_qx_px, "origin_qx_px");
  require_ellipse(p.ellipse);
  require(p.noise == Noise::none || p.noise == Noise::poisson, "noise", "none or poisson",
          static_cast<double>(p.noise));
  require_positive(p.dose_scale, "dose_scale");
  double total = p.background;
  for (const auto& ring : p.rings) total += p.ring_intensity * ring.relative_intensity;
  require(std::isfinite(total * p.dose_scale) && total * p.dose_scale < 1e300, "dose_scale",
          "small enough for finite counts", p.dose_scale);
}

double RingPattern::ring_radius_px(std::size_t i) const {
  return 1 / params_.rings.at(i).d_A / params_.pixel_size_inv_A;
}

io::DatasetInfo RingPattern::info() const {
  const auto& p = params_;
  io::DatasetInfo info = detail::simulated_info(ring_path, p, parameters());
  info.calibration.detector_pixel_size = p.pixel_size_inv_A;
  info.calibration.detector_units = "A^-1";
  info.calibration.origin_qy_px = origin_qy_;
  info.calibration.origin_qx_px = origin_qx_;
  if (p.ellipse.ratio != 1) info.calibration.ellipse = Ellipse{p.ellipse.ratio, 1.0, p.ellipse.theta_rad};
  return info;
}

void RingPattern::render(std::int64_t first, std::int64_t count, std::byte* dst) const {
  const auto& p = params_;
  detail::check_range(ring_path, first, count, p.scan_y * p.scan_x);
  const std::size_t frame_bytes = expected_.size() * size_of(p.dtype);
  detail::PoissonSampler poisson;
  for (std::int64_t f = first; f < first + count; ++f) {
    detail::FrameRng rng(p.seed, f);
    detail::write_frame(expected_, p.dtype, p.noise, rng, poisson,
                        dst + static_cast<std::size_t>(f - first) * frame_bytes);
  }
}

std::vector<Result> RingPattern::ground_truth() const {
  const auto& p = params_;
  Metadata provenance{{"generator", "scandiff.sim.RingPattern"},
                      {"scandiff_version", version},
                      {"parameters", parameters()}};
  std::vector<Result> out;
  for (const auto& [name, value] : {std::pair{"origin_qy", origin_qy_}, std::pair{"origin_qx", origin_qx_}}) {
    Result r;
    r.name = name;
    r.data = Array(DType::f64, {p.scan_y, p.scan_x});
    std::fill_n(r.data.data<double>(), r.data.size(), value);
    r.axes = {Axis{"ry", 0, 1, "pixels"}, Axis{"rx", 0, 1, "pixels"}};
    r.units = "pixels";
    r.provenance = provenance;
    out.push_back(std::move(r));
  }
  Result radii;
  radii.name = "ring_radius_px";
  radii.data = Array(DType::f64, {static_cast<std::int64_t>(p.rings.size())});
  for (std::size_t i = 0; i < p.rings.size(); ++i) radii.data.data<double>()[i] = ring_radius_px(i);
  radii.axes = {Axis{"ring", 0, 1, "index"}};
  radii.units = "pixels";
  radii.provenance = provenance;
  out.push_back(std::move(radii));
  return out;
}

Metadata RingPattern::parameters() const {
  const auto& p = params_;
  Metadata m = detail::parameter_header("RingPattern", p);
  // Column-wise (one list per field), so that every metadata format — EMD's typed items
  // included, which hold lists of numbers or strings but not lists of objects — can store it.
  Metadata rings{{"label", Metadata::array()},
                 {"d_A", Metadata::array()},
                 {"relative_intensity", Metadata::array()},
                 {"radius_px", Metadata::array()}};
  for (std::size_t i = 0; i < p.rings.size(); ++i) {
    rings["label"].push_back(p.rings[i].label);
    rings["d_A"].push_back(p.rings[i].d_A);
    rings["relative_intensity"].push_back(p.rings[i].relative_intensity);
    rings["radius_px"].push_back(ring_radius_px(i));
  }
  m["rings"] = std::move(rings);
  m["pixel_size_inv_A"] = p.pixel_size_inv_A;
  m["ring_width_px"] = p.ring_width_px;
  m["ring_intensity"] = p.ring_intensity;
  m["origin_qy_px"] = origin_qy_;
  m["origin_qx_px"] = origin_qx_;
  m["ellipse"] = detail::to_json(p.ellipse);
  m["background"] = p.background;
  m["noise"] = std::string(name_of(p.noise));
  m["dose_scale"] = p.dose_scale;
  m["seed"] = p.seed;
  return m;
}

}  // namespace scandiff::sim
