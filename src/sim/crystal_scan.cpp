#include "scandiff/sim/crystal_scan.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <span>
#include <utility>

#include "scandiff/version.hpp"
#include "sim_common.hpp"

namespace scandiff::sim {

namespace {

constexpr const char* crystal_path = "<simulated crystal scan>";
// Refuse lattices that would enumerate more candidate reflections than this.
constexpr double max_candidates = 1e6;

double evaluate(const StrainComponent& c, double bump, double wave) {
  return c.uniform + c.bump * bump + c.wave * wave;
}

Metadata to_json(const StrainComponent& c) {
  return Metadata{{"uniform", c.uniform}, {"bump", c.bump}, {"wave", c.wave}};
}

void require_component(const StrainComponent& c, std::string_view name) {
  const std::string n(name);
  detail::require_finite(c.uniform, n + ".uniform");
  detail::require_finite(c.bump, n + ".bump");
  detail::require_finite(c.wave, n + ".wave");
}

// Half-widths of the (h, k) box that contains every lattice point with |g| <= max_g:
// h = a1·g with a1 the first row of [g1 g2]^-1, so |h| <= |a1|·max_g.
std::pair<double, double> index_bounds(const CrystalScanParams& p) {
  const double det = p.g1_px.x * p.g2_px.y - p.g1_px.y * p.g2_px.x;
  const double a1 = std::hypot(p.g2_px.y, p.g2_px.x) / std::fabs(det);
  const double a2 = std::hypot(p.g1_px.y, p.g1_px.x) / std::fabs(det);
  return {std::floor(a1 * p.max_g_px * (1 + 1e-12)), std::floor(a2 * p.max_g_px * (1 + 1e-12))};
}

// Fraction of a unit pixel square on the inner side of a straight edge at signed distance
// s from the pixel centre (s > 0: the centre is inside), the edge normal having absolute
// components a >= b (a² + b² = 1). This is the CDF of a·U1 + b·U2 with U1, U2 uniform on
// [−1/2, 1/2]: a trapezoid's integral. For b = 0 it is clamp(s + 0.5, 0, 1).
double edge_coverage(double s, double a, double b) {
  const double h = 0.5 * (a + b), m = 0.5 * (a - b);
  if (s <= -h) return 0;
  if (s >= h) return 1;
  if (s < -m) return (s + h) * (s + h) / (2 * a * b);
  if (s > m) return 1 - (h - s) * (h - s) / (2 * a * b);
  return 0.5 + s / a;
}

// Anti-aliasing weight of a pixel near a disk edge: the area of the pixel square on the
// disk side of the tangent to the (distorted) disk edge. q = D^-1·(p − c) is the pixel
// centre in ideal space, r2 = |q|². The detector-space gradient of |D^-1·(p − c)| is
// D^-1·q/|q| (D is symmetric), which gives the edge normal and the signed distance
// (R − |q|)/|gradient| of the pixel centre from the edge, to first order.
double disk_edge_weight(Vec2 q, double r2, double radius, const detail::Mat2& corr) {
  const double d = std::sqrt(r2);
  const Vec2 n = d > 0 ? corr({q.x / d, q.y / d}) : Vec2{1, 0};
  const double gn = std::sqrt(n.x * n.x + n.y * n.y);
  const double ax = std::fabs(n.x) / gn, ay = std::fabs(n.y) / gn;
  return edge_coverage((radius - d) / gn, std::max(ax, ay), std::min(ax, ay));
}

}  // namespace

Vec2 deform(const Strain& e, Vec2 g) {
  return {(1 - e.exx) * g.x + (-e.exy + e.rotation_rad) * g.y, (-e.exy - e.rotation_rad) * g.x + (1 - e.eyy) * g.y};
}

CrystalScan::CrystalScan(CrystalScanParams params) : params_(std::move(params)) {
  validate();
  const auto& p = params_;
  origin_qy_ = p.origin_qy_px.value_or(static_cast<double>(p.frame_y - 1) / 2);
  origin_qx_ = p.origin_qx_px.value_or(static_cast<double>(p.frame_x - 1) / 2);

  const auto [hb, kb] = index_bounds(p);
  const auto hmax = static_cast<int>(hb), kmax = static_cast<int>(kb);
  const double limit2 = p.max_g_px * p.max_g_px * (1 + 1e-12);
  reflections_.push_back({0, 0, p.central_intensity});  // the central beam first
  for (int h = -hmax; h <= hmax; ++h)
    for (int k = -kmax; k <= kmax; ++k) {
      if (h == 0 && k == 0) continue;
      const double gx = h * p.g1_px.x + k * p.g2_px.x, gy = h * p.g1_px.y + k * p.g2_px.y;
      const double g2 = gx * gx + gy * gy;
      if (g2 > limit2) continue;
      const double s = p.intensity_sigma_px;
      const double falloff = std::isinf(s) ? 1.0 : std::exp(-g2 / (2 * s * s));
      reflections_.push_back({h, k, p.central_intensity * falloff});
    }
}

void CrystalScan::validate() const {
  using namespace detail;
  const auto& p = params_;
  require_frame_size(p.frame_y, p.frame_x, p.scan_y, p.scan_x);
  require(p.dtype >= DType::u8 && p.dtype <= DType::f64, "dtype", "a known element type",
          static_cast<double>(p.dtype));

  require_finite(p.g1_px.x, "g1_px.x");
  require_finite(p.g1_px.y, "g1_px.y");
  require_finite(p.g2_px.x, "g2_px.x");
  require_finite(p.g2_px.y, "g2_px.y");
  const double det = p.g1_px.x * p.g2_px.y - p.g1_px.y * p.g2_px.x;
  const double n1 = std::hypot(p.g1_px.x, p.g1_px.y), n2 = std::hypot(p.g2_px.x, p.g2_px.y);
  if (!(n1 > 0 && n2 > 0 && std::fabs(det) > 1e-6 * n1 * n2))
    throw InvalidArgument(fmt::format("sim: g1_px and g2_px must be non-zero and linearly independent "
                                      "(got g1 = ({}, {}), g2 = ({}, {}))",
                                      p.g1_px.x, p.g1_px.y, p.g2_px.x, p.g2_px.y));
  require_non_negative(p.max_g_px, "max_g_px");
  const auto [hb, kb] = index_bounds(p);
  if ((2 * hb + 1) * (2 * kb + 1) > max_candidates)
    throw InvalidArgument(fmt::format("sim: max_g_px = {} spans about {:.3g} lattice points of g1_px, g2_px; "
                                      "at most {:.0f} are rendered",
                                      p.max_g_px, (2 * hb + 1) * (2 * kb + 1), max_candidates));

  require_positive(p.disk_radius_px, "disk_radius_px");
  require_non_negative(p.central_intensity, "central_intensity");
  require(!std::isnan(p.intensity_sigma_px) && p.intensity_sigma_px > 0, "intensity_sigma_px", "> 0 (or +inf)",
          p.intensity_sigma_px);
  require_non_negative(p.ring_radius_px, "ring_radius_px");
  require_positive(p.ring_width_px, "ring_width_px");
  require_non_negative(p.ring_intensity, "ring_intensity");
  require_non_negative(p.background, "background");

  if (p.origin_qy_px) require_finite(*p.origin_qy_px, "origin_qy_px");
  if (p.origin_qx_px) require_finite(*p.origin_qx_px, "origin_qx_px");
  require_finite(p.descan_per_ry_px.x, "descan_per_ry_px.x");
  require_finite(p.descan_per_ry_px.y, "descan_per_ry_px.y");
  require_finite(p.descan_per_rx_px.x, "descan_per_rx_px.x");
  require_finite(p.descan_per_rx_px.y, "descan_per_rx_px.y");
  require_ellipse(p.ellipse);

  const auto& s = p.strain;
  require_component(s.exx, "strain.exx");
  require_component(s.eyy, "strain.eyy");
  require_component(s.exy, "strain.exy");
  require_component(s.rotation_rad, "strain.rotation_rad");
  require_finite(s.bump_center_rx, "strain.bump_center_rx");
  require_finite(s.bump_center_ry, "strain.bump_center_ry");
  require_positive(s.bump_sigma, "strain.bump_sigma");
  require_finite(s.wave_cycles_rx, "strain.wave_cycles_rx");
  require_finite(s.wave_cycles_ry, "strain.wave_cycles_ry");
  require_finite(s.wave_phase_rad, "strain.wave_phase_rad");

  require(p.noise == Noise::none || p.noise == Noise::poisson, "noise", "none or poisson",
          static_cast<double>(p.noise));
  require_positive(p.dose_scale, "dose_scale");
  const double peak = std::max({p.central_intensity, p.ring_intensity, p.background}) * p.dose_scale;
  require(std::isfinite(peak) && peak < 1e300, "dose_scale", "small enough for finite counts", p.dose_scale);
}

Vec2 CrystalScan::origin_at(std::int64_t ry, std::int64_t rx) const {
  const auto& p = params_;
  const auto y = static_cast<double>(ry), x = static_cast<double>(rx);
  return {origin_qx_ + y * p.descan_per_ry_px.x + x * p.descan_per_rx_px.x,
          origin_qy_ + y * p.descan_per_ry_px.y + x * p.descan_per_rx_px.y};
}

Strain CrystalScan::strain_at(std::int64_t ry, std::int64_t rx) const {
  const auto& p = params_;
  const auto& s = p.strain;
  const double u = (static_cast<double>(rx) + 0.5) / static_cast<double>(p.scan_x);
  const double v = (static_cast<double>(ry) + 0.5) / static_cast<double>(p.scan_y);
  const double du = u - s.bump_center_rx, dv = v - s.bump_center_ry;
  const double bump = std::exp(-(du * du + dv * dv) / (2 * s.bump_sigma * s.bump_sigma));
  const double wave = std::sin(2 * std::numbers::pi * (s.wave_cycles_rx * u + s.wave_cycles_ry * v) + s.wave_phase_rad);
  return {evaluate(s.exx, bump, wave), evaluate(s.eyy, bump, wave), evaluate(s.exy, bump, wave),
          evaluate(s.rotation_rad, bump, wave)};
}

io::DatasetInfo CrystalScan::info() const {
  const auto& p = params_;
  io::DatasetInfo info = detail::simulated_info(crystal_path, p, parameters());
  info.calibration.origin_qy_px = origin_qy_;
  info.calibration.origin_qx_px = origin_qx_;
  if (p.ellipse.ratio != 1) info.calibration.ellipse = Ellipse{p.ellipse.ratio, 1.0, p.ellipse.theta_rad};
  return info;
}

void CrystalScan::render(std::int64_t first, std::int64_t count, std::byte* dst) const {
  const auto& p = params_;
  detail::check_range(crystal_path, first, count, p.scan_y * p.scan_x);
  if (count == 0) return;

  const std::int64_t fy = p.frame_y, fx = p.frame_x;
  const std::size_t frame_bytes = static_cast<std::size_t>(fy * fx) * size_of(p.dtype);
  const detail::Mat2 dist = detail::distortion_matrix(p.ellipse);
  const detail::Mat2 corr = detail::correction_matrix(p.ellipse);
  const double dose = p.dose_scale;
  const double background = p.background * dose;
  const double ring_peak = p.ring_intensity * dose;
  const double radius = p.disk_radius_px;
  // A pixel whose centre is more than sqrt(2)/2 px from the disk edge in ideal space lies
  // entirely outside (inside) the disk: |D^-1·v| <= |v|, so its detector-space distance
  // from the edge is at least as large.
  const double outer = radius + 0.7072, outer2 = outer * outer;
  const double inner = std::max(0.0, radius - 0.7072), inner2 = inner * inner;
  const double half_extent = outer * p.ellipse.ratio;  // |D| = ratio bounds the disk image

  std::vector<double> expected(static_cast<std::size_t>(fy * fx));
  detail::PoissonSampler poisson;

  for (std::int64_t f = first; f < first + count; ++f) {
    const std::int64_t ry = f / p.scan_x, rx = f % p.scan_x;
    const Vec2 o = origin_at(ry, rx);
    const Strain e = strain_at(ry, rx);

    std::fill(expected.begin(), expected.end(), background);

    if (ring_peak > 0) {
      const double r0 = p.ring_radius_px, inv_w = 1 / p.ring_width_px;
      for (std::int64_t i = 0; i < fy; ++i) {
        double* row = expected.data() + i * fx;
        const double py = static_cast<double>(i) - o.y;
        for (std::int64_t j = 0; j < fx; ++j) {
          const Vec2 q = corr({static_cast<double>(j) - o.x, py});
          const double t = (std::sqrt(q.x * q.x + q.y * q.y) - r0) * inv_w;
          if (t > -8 && t < 8) row[j] += ring_peak * std::exp(-0.5 * t * t);
        }
      }
    }

    for (const Reflection& refl : reflections_) {
      if (refl.intensity <= 0) continue;
      const Vec2 g{refl.h * p.g1_px.x + refl.k * p.g2_px.x, refl.h * p.g1_px.y + refl.k * p.g2_px.y};
      const Vec2 d = dist(deform(e, g));
      const Vec2 c{o.x + d.x, o.y + d.y};
      const double y0 = std::max(0.0, std::ceil(c.y - half_extent));
      const double y1 = std::min(static_cast<double>(fy - 1), std::floor(c.y + half_extent));
      const double x0 = std::max(0.0, std::ceil(c.x - half_extent));
      const double x1 = std::min(static_cast<double>(fx - 1), std::floor(c.x + half_extent));
      if (!(y0 <= y1 && x0 <= x1)) continue;  // entirely off the detector
      const auto i0 = static_cast<std::int64_t>(y0), i1 = static_cast<std::int64_t>(y1);
      const auto j0 = static_cast<std::int64_t>(x0), j1 = static_cast<std::int64_t>(x1);
      const double intensity = refl.intensity * dose;
      for (std::int64_t i = i0; i <= i1; ++i) {
        double* row = expected.data() + i * fx;
        const double py = static_cast<double>(i) - c.y;
        for (std::int64_t j = j0; j <= j1; ++j) {
          const Vec2 q = corr({static_cast<double>(j) - c.x, py});
          const double r2 = q.x * q.x + q.y * q.y;
          if (r2 >= outer2) continue;
          if (r2 <= inner2) {
            row[j] += intensity;
            continue;
          }
          row[j] += intensity * disk_edge_weight(q, r2, radius, corr);
        }
      }
    }

    detail::FrameRng rng(p.seed, f);
    detail::write_frame(expected, p.dtype, p.noise, rng, poisson,
                        dst + static_cast<std::size_t>(f - first) * frame_bytes);
  }
}

std::vector<Result> CrystalScan::ground_truth() const {
  const auto& p = params_;
  const char* names[] = {"origin_qy", "origin_qx", "exx", "eyy", "exy", "rotation"};
  const char* units[] = {"pixels", "pixels", "", "", "", "rad"};
  Metadata provenance{{"generator", "scandiff.sim.CrystalScan"},
                      {"scandiff_version", version},
                      {"g1_px", detail::to_json(p.g1_px)},
                      {"g2_px", detail::to_json(p.g2_px)},
                      {"parameters", parameters()}};
  std::vector<Result> out;
  std::vector<double*> data;
  for (int m = 0; m < 6; ++m) {
    Result r;
    r.name = names[m];
    r.data = Array(DType::f64, {p.scan_y, p.scan_x});
    r.axes = {Axis{"ry", 0, 1, "pixels"}, Axis{"rx", 0, 1, "pixels"}};
    r.units = units[m];
    r.provenance = provenance;
    data.push_back(r.data.data<double>());
    out.push_back(std::move(r));
  }
  for (std::int64_t ry = 0; ry < p.scan_y; ++ry)
    for (std::int64_t rx = 0; rx < p.scan_x; ++rx) {
      const std::int64_t i = ry * p.scan_x + rx;
      const Vec2 o = origin_at(ry, rx);
      const Strain e = strain_at(ry, rx);
      data[0][i] = o.y;
      data[1][i] = o.x;
      data[2][i] = e.exx;
      data[3][i] = e.eyy;
      data[4][i] = e.exy;
      data[5][i] = e.rotation_rad;
    }
  return out;
}

Metadata CrystalScan::parameters() const {
  const auto& p = params_;
  const auto& s = p.strain;
  Metadata m = detail::parameter_header("CrystalScan", p);
  m["g1_px"] = detail::to_json(p.g1_px);
  m["g2_px"] = detail::to_json(p.g2_px);
  m["max_g_px"] = p.max_g_px;
  m["reflections"] = reflections_.size();
  m["disk_radius_px"] = p.disk_radius_px;
  m["central_intensity"] = p.central_intensity;
  m["intensity_sigma_px"] = std::isinf(p.intensity_sigma_px) ? Metadata("inf") : Metadata(p.intensity_sigma_px);
  m["ring_radius_px"] = p.ring_radius_px;
  m["ring_width_px"] = p.ring_width_px;
  m["ring_intensity"] = p.ring_intensity;
  m["background"] = p.background;
  m["origin_qy_px"] = origin_qy_;
  m["origin_qx_px"] = origin_qx_;
  m["descan_per_ry_px"] = detail::to_json(p.descan_per_ry_px);
  m["descan_per_rx_px"] = detail::to_json(p.descan_per_rx_px);
  m["ellipse"] = detail::to_json(p.ellipse);
  m["strain"] = Metadata{{"exx", to_json(s.exx)},
                         {"eyy", to_json(s.eyy)},
                         {"exy", to_json(s.exy)},
                         {"rotation_rad", to_json(s.rotation_rad)},
                         {"bump_center_rx", s.bump_center_rx},
                         {"bump_center_ry", s.bump_center_ry},
                         {"bump_sigma", s.bump_sigma},
                         {"wave_cycles_rx", s.wave_cycles_rx},
                         {"wave_cycles_ry", s.wave_cycles_ry},
                         {"wave_phase_rad", s.wave_phase_rad}};
  m["noise"] = std::string(name_of(p.noise));
  m["dose_scale"] = p.dose_scale;
  m["seed"] = p.seed;
  return m;
}

}  // namespace scandiff::sim
