#include "scandiff/stem/bragg_disks.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/fft.hpp"
#include "scandiff/analysis/fft_columns.hpp"
#include "scandiff/analysis/gaussian_filter.hpp"
#include "scandiff/analysis/robust_stats.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

using cplx = std::complex<double>;

Subpixel parse_subpixel(std::string_view name) {
  if (name == "pixel" || name == "none") return Subpixel::pixel;
  if (name == "poly") return Subpixel::poly;
  if (name == "multicorr") return Subpixel::multicorr;
  throw InvalidArgument(fmt::format("subpixel '{}': expected pixel, poly or multicorr", name));
}

std::string_view subpixel_name(Subpixel s) {
  switch (s) {
    case Subpixel::pixel: return "pixel";
    case Subpixel::poly: return "poly";
    case Subpixel::multicorr: return "multicorr";
  }
  return "?";
}

void validate(const DiskDetectionOptions& o, std::int64_t ny, std::int64_t nx) {
  auto bad = [](std::string_view name, const std::string& need, auto got) {
    throw InvalidArgument(fmt::format("disk detection: {} must be {} (got {})", name, need, got));
  };
  if (!(o.corr_power >= 0 && o.corr_power <= 1)) bad("corr_power", "in [0, 1]", o.corr_power);
  if (!(o.sigma_dp >= 0) || !std::isfinite(o.sigma_dp)) bad("sigma_dp", ">= 0 px", o.sigma_dp);
  if (!(o.sigma_cc >= 0) || !std::isfinite(o.sigma_cc)) bad("sigma_cc", ">= 0 px", o.sigma_cc);
  if (o.subpixel == Subpixel::multicorr && (o.upsample_factor < 3 || o.upsample_factor > 1024))
    bad("upsample_factor", "3..1024", o.upsample_factor);
  if (!std::isfinite(o.min_absolute_intensity)) bad("min_absolute_intensity", "finite", o.min_absolute_intensity);
  if (!(o.min_relative_intensity >= 0 && o.min_relative_intensity <= 1))
    bad("min_relative_intensity", "in [0, 1]", o.min_relative_intensity);
  if (o.relative_to_peak < 0) bad("relative_to_peak", ">= 0", o.relative_to_peak);
  if (!(o.min_peak_spacing >= 0) || !std::isfinite(o.min_peak_spacing)) bad("min_peak_spacing", ">= 0 px", o.min_peak_spacing);
  if (o.max_num_peaks < 1) bad("max_num_peaks", ">= 1", o.max_num_peaks);
  if (o.edge_boundary < 0) bad("edge_boundary", ">= 0 px", o.edge_boundary);
  if (ny < 3 || nx < 3) throw InvalidArgument(fmt::format("disk detection: frames of {}x{} pixels are too small", ny, nx));
  const std::int64_t edge = std::max(o.edge_boundary, 1);
  if (2 * edge >= ny || 2 * edge >= nx)
    throw InvalidArgument(fmt::format("disk detection: edge_boundary {} leaves no pixel of a {}x{} frame", o.edge_boundary,
                                      ny, nx));
}

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
std::int64_t pos_mod(std::int64_t a, std::int64_t b) { return ((a % b) + b) % b; }
// The signed frequency index of k for an n-point transform (the Nyquist index negative), as
// py4DSTEM's ifftshift(arange(n)) − floor(n/2).
std::int64_t signed_index(std::int64_t k, std::int64_t n) { return k < n - n / 2 ? k : k - n; }

}  // namespace


struct DiskFinder::Impl {
  std::unique_ptr<analysis::RealFft2D> fft;
  std::unique_ptr<analysis::ColumnFft> column_ifft;  // multicorr
  std::vector<cplx> kernel_ft;  // conj(FFT2(kernel)), half spectrum; empty: no template
  std::vector<double> blur_dp, blur_cc;
  std::int64_t ncols = 0;       // nx/2 + 1
  // multicorr tables
  std::int64_t u = 0, grid = 0, centre = 0;
  std::vector<cplx> row_mod;    // (u, ny): exp(2πi r·m_s/(ny·u))
  std::vector<cplx> col_phase;  // nx·u entries: exp(2πi p/(nx·u))
  std::vector<cplx> row_phase;  // ny·u entries: exp(2πi p/(ny·u))
  std::vector<double> col_weight;  // 1 or 2 per half-spectrum column
};

DiskFinder::DiskFinder(const Array& kernel, std::int64_t ny, std::int64_t nx, const DiskDetectionOptions& options)
    : ny_(ny), nx_(nx), options_(options), impl_(std::make_unique<Impl>()) {
  validate(options_, ny, nx);
  Impl& im = *impl_;
  im.fft = std::make_unique<analysis::RealFft2D>(ny, nx);
  im.ncols = nx / 2 + 1;
  if (!kernel.empty()) {
    if (kernel.rank() != 2 || kernel.shape(0) != ny || kernel.shape(1) != nx)
      throw InvalidArgument(fmt::format("disk detection: the kernel has shape {}, the frames are ({}, {})",
                                        shape_string(kernel.shape()), ny, nx));
    const Array k = kernel.astype(DType::f64);
    for (std::int64_t i = 0; i < k.size(); ++i)
      if (!std::isfinite(k.data<double>()[i])) throw InvalidArgument("disk detection: the kernel holds NaN or inf");
    im.kernel_ft.resize(static_cast<std::size_t>(im.fft->spectrum_size()));
    im.fft->forward(k.data<double>(), im.kernel_ft.data());
    for (auto& v : im.kernel_ft) v = std::conj(v);
  }
  if (options_.sigma_dp > 0) im.blur_dp = analysis::gaussian_kernel(options_.sigma_dp);
  if (options_.sigma_cc > 0) im.blur_cc = analysis::gaussian_kernel(options_.sigma_cc);
  if (options_.subpixel == Subpixel::multicorr) {
    const std::int64_t u = options_.upsample_factor;
    im.u = u;
    im.grid = static_cast<std::int64_t>(std::ceil(1.5 * static_cast<double>(u)));
    im.centre = im.grid / 2;  // numpy fix(ceil(1.5u)/2)
    im.column_ifft = std::make_unique<analysis::ColumnFft>(ny, im.ncols, true);
    im.row_mod.resize(static_cast<std::size_t>(u * ny));
    for (std::int64_t r = 0; r < u; ++r)
      for (std::int64_t m = 0; m < ny; ++m)
        im.row_mod[static_cast<std::size_t>(r * ny + m)] =
            std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(r * signed_index(m, ny)) /
                                static_cast<double>(ny * u));
    im.col_phase.resize(static_cast<std::size_t>(nx * u));
    for (std::int64_t p = 0; p < nx * u; ++p)
      im.col_phase[static_cast<std::size_t>(p)] =
          std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(p) / static_cast<double>(nx * u));
    im.row_phase.resize(static_cast<std::size_t>(ny * u));
    for (std::int64_t p = 0; p < ny * u; ++p)
      im.row_phase[static_cast<std::size_t>(p)] =
          std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(p) / static_cast<double>(ny * u));
    im.col_weight.assign(static_cast<std::size_t>(im.ncols), 2.0);
    im.col_weight[0] = 1.0;
    if (nx % 2 == 0) im.col_weight[static_cast<std::size_t>(nx / 2)] = 1.0;
  }
}

DiskFinder::~DiskFinder() = default;

std::unique_ptr<DiskFinder::Workspace> DiskFinder::make_workspace() const {
  auto ws = std::make_unique<Workspace>();
  const auto n = static_cast<std::size_t>(ny_ * nx_), ns = static_cast<std::size_t>(impl_->fft->spectrum_size());
  ws->dp.resize(n);
  ws->blurred.resize(n);
  ws->cc.resize(n);
  ws->ar.resize(n);
  ws->spectrum.resize(ns);
  ws->corr.resize(ns);
  ws->tmp.resize(ns);
  if (options_.subpixel == Subpixel::multicorr) {
    ws->h.resize(static_cast<std::size_t>(impl_->u) * ns);
    ws->nyquist.resize(static_cast<std::size_t>(nx_));
    ws->grid.resize(static_cast<std::size_t>(impl_->grid * impl_->grid));
  }
  return ws;
}

namespace {

// Minus the median of each 1-px annulus round(|q − o|), clipped at 0.
void subtract_radial_background(double* dp, std::int64_t ny, std::int64_t nx, double oy, double ox,
                                std::vector<std::vector<double>>& rings) {
  const auto nbins = static_cast<std::size_t>(std::ceil(std::hypot(static_cast<double>(ny), static_cast<double>(nx)) +
                                                        std::abs(oy) + std::abs(ox))) + 2;
  if (rings.size() < nbins) rings.resize(nbins);
  for (auto& r : rings) r.clear();
  auto bin = [&](std::int64_t y, std::int64_t x) {
    return static_cast<std::size_t>(std::lround(std::hypot(static_cast<double>(y) - oy, static_cast<double>(x) - ox)));
  };
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) rings[std::min(bin(y, x), nbins - 1)].push_back(dp[y * nx + x]);
  std::vector<double> median(nbins, 0.0);
  for (std::size_t b = 0; b < nbins; ++b)
    if (!rings[b].empty()) median[b] = analysis::median_inplace(rings[b]);
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      double& v = dp[y * nx + x];
      v = std::max(v - median[std::min(bin(y, x), nbins - 1)], 0.0);
    }
}

// Σ a[i]·b[i] with four independent partial sums (so the loop pipelines and vectorises; the
// AVX2 clone keeps the same four sums, so results do not depend on the CPU).
[[gnu::target_clones("avx2", "default")]] double dot(const double* a, const double* b, std::int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s2) + (s1 + s3);
}

double bilinear(const std::vector<double>& ar, std::int64_t ny, std::int64_t nx, double y, double x) {
  // py4DSTEM's linear_interpolation_2D: floor/ceil neighbours (equal at integer positions).
  const auto y0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(y)), 0, ny - 1);
  const auto x0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(x)), 0, nx - 1);
  const auto y1 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(y)), 0, ny - 1);
  const auto x1 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(x)), 0, nx - 1);
  const double dy = y - std::floor(y), dx = x - std::floor(x);
  auto at = [&](std::int64_t a, std::int64_t b) { return ar[static_cast<std::size_t>(a * nx + b)]; };
  return (1 - dy) * (1 - dx) * at(y0, x0) + (1 - dy) * dx * at(y0, x1) + dy * (1 - dx) * at(y1, x0) + dy * dx * at(y1, x1);
}

}  // namespace

void DiskFinder::find(const double* frame, Workspace& ws, std::vector<BraggPeak>& peaks, double origin_qy,
                      double origin_qx) const {
  const Impl& im = *impl_;
  const DiskDetectionOptions& o = options_;
  const std::int64_t ny = ny_, nx = nx_, n = ny * nx, ncols = im.ncols;
  const auto ns = static_cast<std::size_t>(im.fft->spectrum_size());
  peaks.clear();
  std::copy(frame, frame + n, ws.dp.begin());
  if (o.radial_background) subtract_radial_background(ws.dp.data(), ny, nx, origin_qy, origin_qx, ws.rings);
  if (!im.blur_dp.empty()) {
    analysis::gaussian_blur(ws.dp, ws.blurred, ny, nx, im.blur_dp, ws.scratch, analysis::BlurEdge::reflect);
    ws.dp.swap(ws.blurred);
  }
  // Correlation spectrum C (kept for multicorr) and cc = max(Re IFFT2(C), 0).
  im.fft->forward(ws.dp.data(), ws.spectrum.data());
  if (!im.kernel_ft.empty()) {
    const double p = o.corr_power;
    for (std::size_t k = 0; k < ns; ++k) {
      const cplx m = ws.spectrum[k] * im.kernel_ft[k];
      if (p == 1) {
        ws.corr[k] = m;
      } else {
        const double a = std::abs(m);
        ws.corr[k] = a > 0 ? m * std::pow(a, p - 1) : cplx(p == 0 ? 1.0 : 0.0, 0.0);
      }
    }
    std::copy(ws.corr.begin(), ws.corr.end(), ws.tmp.begin());
    im.fft->inverse(ws.tmp.data(), ws.cc.data());
    const double norm = 1.0 / static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i) ws.cc[static_cast<std::size_t>(i)] = std::max(ws.cc[static_cast<std::size_t>(i)] * norm, 0.0);
  } else {
    std::copy(ws.spectrum.begin(), ws.spectrum.end(), ws.corr.begin());
    std::copy(ws.dp.begin(), ws.dp.end(), ws.cc.begin());
  }
  if (!im.blur_cc.empty())
    analysis::gaussian_blur(ws.cc, ws.ar, ny, nx, im.blur_cc, ws.scratch, analysis::BlurEdge::reflect);
  else
    std::copy(ws.cc.begin(), ws.cc.end(), ws.ar.begin());
  const std::vector<double>& ar = ws.ar;

  // Local maxima (periodic neighbours; >= the −1 side, > the +1 side), inside the edge boundary.
  const std::int64_t edge = std::max(o.edge_boundary, 1);
  ws.sorted.clear();
  for (std::int64_t y = edge; y < ny - edge; ++y) {
    const double* up = ar.data() + (y - 1) * nx;  // y − 1 >= 0 since edge >= 1
    const double* row = ar.data() + y * nx;
    const double* dn = ar.data() + (y + 1) * nx;
    for (std::int64_t x = edge; x < nx - edge; ++x) {
      const double v = row[x];
      if (v >= up[x] && v > dn[x] && v >= row[x - 1] && v > row[x + 1] && v >= up[x - 1] && v > up[x + 1] &&
          v >= dn[x - 1] && v > dn[x + 1])
        ws.sorted.push_back({static_cast<double>(x), static_cast<double>(y), v});
    }
  }
  std::sort(ws.sorted.begin(), ws.sorted.end(), [](const BraggPeak& a, const BraggPeak& b) {
    if (a.intensity != b.intensity) return a.intensity > b.intensity;
    if (a.qy != b.qy) return a.qy > b.qy;
    return a.qx > b.qx;
  });
  std::vector<BraggPeak>& cand = ws.sorted;
  // Filters, py4DSTEM's CPU order.
  if (o.min_absolute_intensity > 0)
    std::erase_if(cand, [&](const BraggPeak& p) { return p.intensity < o.min_absolute_intensity; });
  if (o.min_relative_intensity > 0 && cand.size() > static_cast<std::size_t>(o.relative_to_peak)) {
    const double ref = cand[static_cast<std::size_t>(o.relative_to_peak)].intensity;
    std::erase_if(cand, [&](const BraggPeak& p) { return p.intensity / ref < o.min_relative_intensity; });
  }
  if (o.min_peak_spacing > 0) {
    const double s2 = o.min_peak_spacing * o.min_peak_spacing;
    std::vector<std::uint8_t> dropped(cand.size(), 0);
    for (std::size_t i = 0; i < cand.size(); ++i) {
      if (dropped[i]) continue;
      for (std::size_t j = i + 1; j < cand.size(); ++j) {
        const double dy = cand[j].qy - cand[i].qy, dx = cand[j].qx - cand[i].qx;
        if (dy * dy + dx * dx < s2) dropped[j] = 1;
      }
    }
    std::size_t w = 0;
    for (std::size_t i = 0; i < cand.size(); ++i)
      if (!dropped[i]) cand[w++] = cand[i];
    cand.erase(cand.begin() + static_cast<std::ptrdiff_t>(w), cand.end());
  }
  if (cand.size() > static_cast<std::size_t>(o.max_num_peaks)) cand.erase(cand.begin() + o.max_num_peaks, cand.end());
  peaks.assign(cand.begin(), cand.end());
  if (o.subpixel == Subpixel::pixel || peaks.empty()) return;

  for (BraggPeak& p : peaks) {
    const auto y = static_cast<std::int64_t>(p.qy), x = static_cast<std::int64_t>(p.qx);
    auto at = [&](std::int64_t a, std::int64_t b) { return ar[static_cast<std::size_t>(a * nx + b)]; };
    const double i0 = at(y, x);
    const double ym = at(y - 1, x), yp = at(y + 1, x), xm = at(y, x - 1), xp = at(y, x + 1);
    p.qy += (yp - ym) / (4 * i0 - 2 * yp - 2 * ym);
    p.qx += (xp - xm) / (4 * i0 - 2 * xp - 2 * xm);
    p.intensity = bilinear(ar, ny, nx, p.qy, p.qx);
  }
  if (o.subpixel == Subpixel::poly) return;

  // Multicorr. H: for residue r, slab r = inverse column DFT of C·exp(2πi r·m_s/(ny·u)) (Nyquist
  // row excluded; added per peak below), so that H[t = u·a + r, n] = Σ_m C[m, n]·exp(2πi t·m_s/(ny·u)).
  const std::int64_t u = im.u, K = im.grid, g = im.centre;
  const bool even_rows = ny % 2 == 0;
  const std::int64_t nyq = ny / 2;
  for (std::int64_t r = 0; r < u; ++r) {
    cplx* slab = ws.h.data() + static_cast<std::size_t>(r) * ns;
    const cplx* mod = im.row_mod.data() + r * ny;
    for (std::int64_t m = 0; m < ny; ++m) {
      cplx* dst = slab + m * ncols;
      const cplx* src = ws.corr.data() + m * ncols;
      if (even_rows && m == nyq) {
        std::fill(dst, dst + ncols, cplx(0, 0));
        continue;
      }
      const cplx f = mod[m];
      for (std::int64_t c = 0; c < ncols; ++c) dst[c] = src[c] * f;
    }
    im.column_ifft->execute(slab);
  }
  if (even_rows) {  // the full Nyquist row: C[nyq, n] for n > nx/2 is conj(C[nyq, nx − n])
    const cplx* src = ws.corr.data() + nyq * ncols;
    for (std::int64_t c = 0; c < nx; ++c) ws.nyquist[static_cast<std::size_t>(c)] = c < ncols ? src[c] : std::conj(src[nx - c]);
  }
  const std::int64_t nxu = nx * u, nyu = ny * u;
  std::vector<cplx>& colk = ws.colk;
  std::vector<cplx>& nyqsum = ws.nyqsum;
  colk.resize(static_cast<std::size_t>(K * ncols));
  nyqsum.resize(static_cast<std::size_t>(K));
  for (BraggPeak& p : peaks) {
    // Start: poly position to 0.5 px, then to the 1/u lattice (numpy rounds halves to even).
    const double y0 = std::nearbyint(std::nearbyint(p.qy * 2) / 2 * static_cast<double>(u));
    const double x0 = std::nearbyint(std::nearbyint(p.qx * 2) / 2 * static_cast<double>(u));
    const auto ty = static_cast<std::int64_t>(y0) - g, tx = static_cast<std::int64_t>(x0) - g;
    // Column kernels, stored as (Re, −Im) pairs of w_n·exp(2πi (tx + j)·n_s/(nx·u)) so that
    // Re(H·kernel) is a plain dot product with H's interleaved (Re, Im) values. Phase indices
    // advance by n_s per j (mod nx·u).
    for (std::int64_t c = 0; c < ncols; ++c) {
      const std::int64_t ns_c = signed_index(c, nx), step = pos_mod(ns_c, nxu);
      std::int64_t idx = pos_mod(tx * ns_c, nxu);
      const double w = im.col_weight[static_cast<std::size_t>(c)];
      for (std::int64_t j = 0; j < K; ++j) {
        const cplx e = im.col_phase[static_cast<std::size_t>(idx)] * w;
        colk[static_cast<std::size_t>(j * ncols + c)] = cplx(e.real(), -e.imag());
        idx += step;
        if (idx >= nxu) idx -= nxu;
      }
    }
    if (even_rows) {
      std::fill(nyqsum.begin(), nyqsum.end(), cplx(0, 0));
      for (std::int64_t c = 0; c < nx; ++c) {
        const std::int64_t ns_c = signed_index(c, nx), step = pos_mod(ns_c, nxu);
        std::int64_t idx = pos_mod(tx * ns_c, nxu);
        const cplx v = ws.nyquist[static_cast<std::size_t>(c)];
        for (std::int64_t j = 0; j < K; ++j) {
          nyqsum[static_cast<std::size_t>(j)] += v * im.col_phase[static_cast<std::size_t>(idx)];
          idx += step;
          if (idx >= nxu) idx -= nxu;
        }
      }
    }
    for (std::int64_t k = 0; k < K; ++k) {
      const std::int64_t t = ty + k;
      const std::int64_t r = pos_mod(t, u), a = pos_mod(floor_div(t, u), ny);
      const cplx* hrow = ws.h.data() + static_cast<std::size_t>(r) * ns + a * ncols;
      // exp(2πi t·(−ny/2)/(ny·u)) for the Nyquist row.
      const cplx nyq_phase = even_rows ? im.row_phase[static_cast<std::size_t>(pos_mod(-t * nyq, nyu))] : cplx(0, 0);
      for (std::int64_t j = 0; j < K; ++j) {
        double s = dot(reinterpret_cast<const double*>(hrow), reinterpret_cast<const double*>(colk.data() + j * ncols),
                       2 * ncols);
        if (even_rows) s += (nyq_phase * nyqsum[static_cast<std::size_t>(j)]).real();
        ws.grid[static_cast<std::size_t>(k * K + j)] = s;
      }
    }
    const auto best = static_cast<std::int64_t>(std::max_element(ws.grid.begin(), ws.grid.end()) - ws.grid.begin());
    const std::int64_t bk = best / K, bj = best % K;
    double dy = 0, dx = 0;
    if (bk >= 1 && bk + 1 < K && bj >= 1 && bj + 1 < K) {
      auto G = [&](std::int64_t a, std::int64_t b) { return ws.grid[static_cast<std::size_t>(a * K + b)]; };
      const double c0 = G(bk, bj);
      dy = (G(bk + 1, bj) - G(bk - 1, bj)) / (4 * c0 - 2 * G(bk + 1, bj) - 2 * G(bk - 1, bj));
      dx = (G(bk, bj + 1) - G(bk, bj - 1)) / (4 * c0 - 2 * G(bk, bj + 1) - 2 * G(bk, bj - 1));
    }
    const double ud = static_cast<double>(u);
    p.qy = y0 / ud + (static_cast<double>(bk - g) + dy) / ud;
    p.qx = x0 / ud + (static_cast<double>(bj - g) + dx) / ud;
  }
  std::stable_sort(peaks.begin(), peaks.end(), [](const BraggPeak& a, const BraggPeak& b) {
    if (a.intensity != b.intensity) return a.intensity > b.intensity;
    if (a.qy != b.qy) return a.qy > b.qy;
    return a.qx > b.qx;
  });
}

std::vector<BraggPeak> find_bragg_disks(const Array& frame, const Array& kernel, const DiskDetectionOptions& options) {
  if (frame.rank() != 2)
    throw InvalidArgument(fmt::format("disk detection: expected a 2D frame (got shape {})", shape_string(frame.shape())));
  DiskFinder finder(kernel, frame.shape(0), frame.shape(1), options);
  auto ws = finder.make_workspace();
  const Array f = frame.astype(DType::f64);
  std::vector<BraggPeak> peaks;
  finder.find(f.data<double>(), *ws, peaks);
  return peaks;
}

}  // namespace scandiff::stem
