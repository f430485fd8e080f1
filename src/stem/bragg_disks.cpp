#include "scandiff/stem/bragg_disks.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/fft.hpp"
#include "scandiff/analysis/fft_columns.hpp"
#include "scandiff/analysis/fft_planning.hpp"
#include "scandiff/analysis/gaussian_filter.hpp"
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
  if (o.radial_background) (void)RadialBackground(ny, nx, std::nullopt, o.radial_polar);  // checks its polar bins
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
  std::unique_ptr<analysis::ColumnFft> slab_ifft;  // multicorr: along the columns of (ny, nx/2 + 1)
  std::vector<cplx> kernel_ft;  // conj(FFT2(kernel)), half spectrum; empty: no template
  std::vector<double> blur_dp, blur_cc;
  std::optional<RadialBackground> radial;  // when options.radial_background
  std::int64_t ncols = 0;       // nx/2 + 1
  // multicorr tables
  std::int64_t u = 0, grid = 0, centre = 0;
  std::vector<cplx> row_mod;    // (u, ny): exp(2πi r·m_s/(ny·u)), 0 for the Nyquist row (even ny)
  std::vector<cplx> col_phase;  // nx·u entries: exp(2πi p/(nx·u))
  std::vector<cplx> row_phase;  // ny·u entries: exp(2πi p/(ny·u))
  std::vector<double> col_weight;  // 1 or 2 per half-spectrum column
  std::vector<cplx> col_step;      // (K, nx/2 + 1): conj(exp(2πi j·n_s/(nx·u))), the grid's column offsets
};

DiskFinder::DiskFinder(const Array& kernel, std::int64_t ny, std::int64_t nx, const DiskDetectionOptions& options,
                       const std::optional<Ellipse>& ellipse)
    : ny_(ny), nx_(nx), options_(options), impl_(std::make_unique<Impl>()) {
  validate(options_, ny, nx);
  Impl& im = *impl_;
  if (options_.radial_background) im.radial.emplace(ny, nx, ellipse, options_.radial_polar);
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
    // Which input layout the slab transforms take: the faster one for this planning (with
    // FFTW_ESTIMATE plans the transposed input, 60 vs 90 µs for 129 columns of 256; with
    // measured plans in place, 55 vs 60 µs).
    im.slab_ifft = std::make_unique<analysis::ColumnFft>(
        ny, im.ncols, true,
        analysis::fft_planning() == analysis::FftPlanning::estimate ? analysis::ColumnInput::transposed
                                                                      : analysis::ColumnInput::in_place);
    im.row_mod.resize(static_cast<std::size_t>(u * ny));
    for (std::int64_t r = 0; r < u; ++r)
      for (std::int64_t m = 0; m < ny; ++m)
        im.row_mod[static_cast<std::size_t>(r * ny + m)] =
            ny % 2 == 0 && m == ny / 2 ? cplx(0, 0)
                                       : std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(r * signed_index(m, ny)) /
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
    im.col_step.resize(static_cast<std::size_t>(im.grid * im.ncols));
    for (std::int64_t j = 0; j < im.grid; ++j)
      for (std::int64_t c = 0; c < im.ncols; ++c)
        im.col_step[static_cast<std::size_t>(j * im.ncols + c)] =
            std::conj(im.col_phase[static_cast<std::size_t>(pos_mod(j * signed_index(c, nx), nx * u))]);
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
    ws->slab.resize(ns);
    if (impl_->slab_ifft->input() == analysis::ColumnInput::transposed) ws->slab_in.resize(ns);
    ws->grid.resize(static_cast<std::size_t>(impl_->grid * impl_->grid));
  }
  return ws;
}

namespace {

// Four doubles (a GCC vector: one AVX register, two SSE2 ones in the default clones). Every
// kernel below keeps one fixed summation order per output, so the AVX2 and default clones give
// the same bits (neither enables FMA).
using Vec4 = double __attribute__((vector_size(32)));

[[gnu::always_inline]] inline void load4(Vec4& v, const double* p) { std::memcpy(&v, p, sizeof v); }

// Σ_i a[i]·b[i] from four lane sums (lane l holds the terms i ≡ l mod 4 below i), then the
// terms from i to len in order.
[[gnu::always_inline]] inline double finish_dot(const Vec4& lanes, const double* a, const double* b, std::int64_t i,
                                                std::int64_t len) {
  double v = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
  for (; i < len; ++i) v += a[i] * b[i];
  return v;
}

// out[k·nb + j] = Σ_i a[k][i]·b[j][i] for i < len, k < na, j < nb, each as finish_dot sums it.
// Blocks of 4 rows of a by 2 of b keep 8 sums in registers (about 3x fewer loads than one dot
// product at a time); leftover rows of a go one at a time.
[[gnu::target_clones("avx2", "default")]] void row_dots(const double* const* a, std::int64_t na, const double* const* b,
                                                       std::int64_t nb, std::int64_t len, double* out) {
  std::int64_t k = 0;
  for (; k + 4 <= na; k += 4) {
    const double *a0 = a[k], *a1 = a[k + 1], *a2 = a[k + 2], *a3 = a[k + 3];
    for (std::int64_t j = 0; j < nb; j += 2) {
      const double* b0 = b[j];
      const double* b1 = b[std::min(j + 1, nb - 1)];  // odd nb: the last column twice
      Vec4 c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {}, c30 = {}, c31 = {};
      std::int64_t i = 0;
      for (; i + 4 <= len; i += 4) {
        Vec4 x0, x1, x2, x3, y0, y1;
        load4(y0, b0 + i);
        load4(y1, b1 + i);
        load4(x0, a0 + i);
        load4(x1, a1 + i);
        load4(x2, a2 + i);
        load4(x3, a3 + i);
        c00 += x0 * y0;
        c01 += x0 * y1;
        c10 += x1 * y0;
        c11 += x1 * y1;
        c20 += x2 * y0;
        c21 += x2 * y1;
        c30 += x3 * y0;
        c31 += x3 * y1;
      }
      double* o = out + k * nb + j;
      o[0] = finish_dot(c00, a0, b0, i, len);
      o[nb] = finish_dot(c10, a1, b0, i, len);
      o[2 * nb] = finish_dot(c20, a2, b0, i, len);
      o[3 * nb] = finish_dot(c30, a3, b0, i, len);
      if (j + 1 < nb) {
        o[1] = finish_dot(c01, a0, b1, i, len);
        o[nb + 1] = finish_dot(c11, a1, b1, i, len);
        o[2 * nb + 1] = finish_dot(c21, a2, b1, i, len);
        o[3 * nb + 1] = finish_dot(c31, a3, b1, i, len);
      }
    }
  }
  for (; k < na; ++k)
    for (std::int64_t j = 0; j < nb; ++j) {
      Vec4 c = {};
      std::int64_t i = 0;
      for (; i + 4 <= len; i += 4) {
        Vec4 x, y;
        load4(x, a[k] + i);
        load4(y, b[j] + i);
        c += x * y;
      }
      out[k * nb + j] = finish_dot(c, a[k], b[j], i, len);
    }
}

// out[k] = a[k]·b[k] for n complex values, in real arithmetic (std::complex's product checks
// for NaN/inf operands and does not vectorise; the finite results are the same).
[[gnu::target_clones("avx2", "default")]] void multiply_spectra(const cplx* a, const cplx* b, cplx* out, std::size_t n) {
  const auto* x = reinterpret_cast<const double*>(a);
  const auto* y = reinterpret_cast<const double*>(b);
  auto* z = reinterpret_cast<double*>(out);
  for (std::size_t k = 0; k < 2 * n; k += 2) {
    const double re = x[k] * y[k] - x[k + 1] * y[k + 1];
    const double im = x[k] * y[k + 1] + x[k + 1] * y[k];
    z[k] = re;
    z[k + 1] = im;
  }
}

// out[c] = a[c]·f for n complex values (real arithmetic, as above).
[[gnu::target_clones("avx2", "default")]] void scale_spectrum(const cplx* a, cplx f, cplx* out, std::int64_t n) {
  const auto* x = reinterpret_cast<const double*>(a);
  auto* z = reinterpret_cast<double*>(out);
  const double fr = f.real(), fi = f.imag();
  for (std::int64_t k = 0; k < 2 * n; k += 2) {
    const double re = x[k] * fr - x[k + 1] * fi;
    const double im = x[k] * fi + x[k + 1] * fr;
    z[k] = re;
    z[k + 1] = im;
  }
}

// cc[i] = max(cc[i]·scale, 0).
[[gnu::target_clones("avx2", "default")]] void scale_clip(double* cc, double scale, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) cc[i] = std::max(cc[i] * scale, 0.0);
}

// flag[x − lo] = 1 where row[x] is a local maximum against its 8 neighbours (≥ the −1 side, >
// the +1 side), x in [lo, hi); branch-free so it vectorises.
[[gnu::target_clones("avx2", "default")]] void row_maxima(const double* up, const double* row, const double* dn,
                                                         std::int64_t lo, std::int64_t hi, std::uint8_t* flag) {
  for (std::int64_t x = lo; x < hi; ++x) {
    const double v = row[x];
    flag[x - lo] = static_cast<std::uint8_t>((v >= up[x - 1]) & (v >= up[x]) & (v > up[x + 1]) & (v >= row[x - 1]) &
                                             (v > row[x + 1]) & (v >= dn[x - 1]) & (v > dn[x]) & (v > dn[x + 1]));
  }
}

// The index of the first largest of v[0..n) (std::max_element's answer for values without NaN):
// the largest value from four independent lanes, then its first position.
std::int64_t first_max_index(const double* v, std::int64_t n) {
  double lane[4] = {v[0], v[0], v[0], v[0]};
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l) lane[l] = std::max(lane[l], v[i + l]);
  double m = std::max(std::max(lane[0], lane[1]), std::max(lane[2], lane[3]));
  for (; i < n; ++i) m = std::max(m, v[i]);
  std::int64_t k = 0;
  while (k + 1 < n && !(v[k] == m)) ++k;  // (NaN values: some index, never past the end)
  return k;
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
  const bool multicorr = o.subpixel == Subpixel::multicorr;
  peaks.clear();
  const double* dp = frame;
  if (o.radial_background || !im.blur_dp.empty()) {
    std::copy(frame, frame + n, ws.dp.begin());
    if (o.radial_background) im.radial->subtract(ws.dp.data(), origin_qy, origin_qx, ws.radial);
    if (!im.blur_dp.empty()) {
      analysis::gaussian_blur(ws.dp, ws.blurred, ny, nx, im.blur_dp, ws.scratch, analysis::BlurEdge::reflect);
      ws.dp.swap(ws.blurred);
    }
    dp = ws.dp.data();
  }
  // Correlation spectrum C (kept for multicorr) and cc = max(Re IFFT2(C), 0).
  im.fft->forward(dp, ws.spectrum.data());
  const cplx* corr = ws.spectrum.data();  // C; with no template C = FFT2(DP)
  if (!im.kernel_ft.empty()) {
    const double p = o.corr_power;
    if (p == 1) {
      multiply_spectra(ws.spectrum.data(), im.kernel_ft.data(), ws.corr.data(), ns);
    } else {
      for (std::size_t k = 0; k < ns; ++k) {
        const cplx m = ws.spectrum[k] * im.kernel_ft[k];
        const double a = std::abs(m);
        ws.corr[k] = a > 0 ? m * std::pow(a, p - 1) : cplx(p == 0 ? 1.0 : 0.0, 0.0);
      }
    }
    corr = ws.corr.data();
    // c2r overwrites its input: transform a copy where multicorr needs C afterwards.
    cplx* work = ws.corr.data();
    if (multicorr) {
      std::copy(ws.corr.begin(), ws.corr.end(), ws.tmp.begin());
      work = ws.tmp.data();
    }
    im.fft->inverse(work, ws.cc.data());
    scale_clip(ws.cc.data(), 1.0 / static_cast<double>(n), n);
  } else {
    std::copy(dp, dp + n, ws.cc.begin());
  }
  if (!im.blur_cc.empty())
    analysis::gaussian_blur(ws.cc, ws.ar, ny, nx, im.blur_cc, ws.scratch, analysis::BlurEdge::reflect);
  else
    std::copy(ws.cc.begin(), ws.cc.end(), ws.ar.begin());
  const std::vector<double>& ar = ws.ar;

  // Local maxima (periodic neighbours; >= the −1 side, > the +1 side), inside the edge boundary.
  const std::int64_t edge = std::max(o.edge_boundary, 1);
  ws.sorted.clear();
  ws.flags.resize(static_cast<std::size_t>(nx));
  for (std::int64_t y = edge; y < ny - edge; ++y) {
    const double* row = ar.data() + y * nx;  // y − 1 >= 0 and y + 1 < ny since edge >= 1
    row_maxima(row - nx, row, row + nx, edge, nx - edge, ws.flags.data());
    const std::int64_t width = nx - 2 * edge;
    std::int64_t x = 0;
    for (; x + 8 <= width; x += 8) {  // mostly zero: skip 8 flags at a time
      std::uint64_t word;
      std::memcpy(&word, ws.flags.data() + x, sizeof word);
      if (word == 0) continue;
      for (std::int64_t k = x; k < x + 8; ++k)
        if (ws.flags[static_cast<std::size_t>(k)]) ws.sorted.push_back({static_cast<double>(k + edge), static_cast<double>(y), row[k + edge]});
    }
    for (; x < width; ++x)
      if (ws.flags[static_cast<std::size_t>(x)]) ws.sorted.push_back({static_cast<double>(x + edge), static_cast<double>(y), row[x + edge]});
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

  // Multicorr. Per peak, the K×K grid value at rows t = ty + k, columns s = tx + j (1/u px) is
  //   G[k, j] = Re Σ_n H[t, n]·M[n]·B_j[n] + Re(P_k·Q_j),
  // H[t, n] = Σ_{m ≠ nyq} C[m, n]·exp(2πi t·m_s/(ny·u)), M[n] = w_n·exp(2πi tx·n_s/(nx·u)) (w_n = 2
  // for the columns whose mirror image is not stored, else 1), B_j[n] = exp(2πi j·n_s/(nx·u)).
  // The second term is the Nyquist row (even ny): P_k = exp(2πi t·(−ny/2)/(ny·u)) and Q_j = Σ
  // over the full row of C[nyq, n]·exp(2πi s·n_s/(nx·u)); with C[nyq, nx − n] = conj(C[nyq, n])
  // that is Σ_n Re(C[nyq, n]·M[n]·B_j[n]) + i·Im(C[nyq, 0] + C[nyq, nx/2]·exp(2πi s·(−nx/2)/(nx·u)))
  // (the last term for even nx).
  // H is computed one residue r = t mod u at a time: slab r = the inverse column DFT of
  // C·exp(2πi r·m_s/(ny·u)) holds the rows t = u·a + r. The rows of slab r that the peaks need are
  // multiplied by their peak's M, and all their Re Σ·B_j sums are one product with the fixed B
  // (row_dots: interleaved (Re, Im) values against B stored as (Re, −Im)).
  const std::int64_t u = im.u, K = im.grid, g = im.centre;
  const bool even_rows = ny % 2 == 0;
  const std::int64_t nyq = ny / 2, nxu = nx * u, nyu = ny * u;
  const auto np = static_cast<std::int64_t>(peaks.size());
  const auto nc = static_cast<std::size_t>(ncols);
  std::vector<std::int64_t>& ty = ws.starts;  // per peak: ty, tx (grid origin, 1/u px)
  ty.resize(static_cast<std::size_t>(2 * np));
  ws.col_mod.resize(static_cast<std::size_t>(np) * nc);
  ws.grid.assign(static_cast<std::size_t>(np * K * K), 0.0);
  for (std::int64_t q = 0; q < np; ++q) {
    const BraggPeak& p = peaks[static_cast<std::size_t>(q)];
    // Start: poly position to 0.5 px, then to the 1/u lattice (numpy rounds halves to even).
    const double y0 = std::nearbyint(std::nearbyint(p.qy * 2) / 2 * static_cast<double>(u));
    const double x0 = std::nearbyint(std::nearbyint(p.qx * 2) / 2 * static_cast<double>(u));
    const std::int64_t tx = static_cast<std::int64_t>(x0) - g;
    ty[static_cast<std::size_t>(2 * q)] = static_cast<std::int64_t>(y0) - g;
    ty[static_cast<std::size_t>(2 * q + 1)] = tx;
    // M[c] = w_c·col_phase[(tx·c_s) mod nx·u]: the index steps by tx per column while c_s = c, and
    // is recomputed where c_s jumps to −nx/2 (the Nyquist column, even nx). No division per column.
    cplx* mq = ws.col_mod.data() + static_cast<std::size_t>(q) * nc;
    const std::int64_t step = pos_mod(tx, nxu);
    std::int64_t index = 0;  // (tx·0) mod nx·u
    for (std::int64_t c = 0; c < ncols; ++c) {
      if (c == nx - nx / 2) index = pos_mod(tx * signed_index(c, nx), nxu);  // c_s jumps to −nx/2
      mq[c] = im.col_weight[static_cast<std::size_t>(c)] * im.col_phase[static_cast<std::size_t>(index)];
      index += step;
      if (index >= nxu) index -= nxu;
    }
  }
  // The rows of one product: (peak, k) pairs, at most np·(K/u + 1) per slab, plus the Nyquist rows.
  const std::int64_t max_rows = np * (K / u + 2);
  ws.modulated.resize(static_cast<std::size_t>(max_rows) * nc);
  ws.row_ptrs.resize(static_cast<std::size_t>(max_rows + K));
  ws.row_target.resize(static_cast<std::size_t>(max_rows));
  ws.dots.resize(static_cast<std::size_t>(max_rows * K));
  const double** arows = ws.row_ptrs.data();
  const double** brows = arows + max_rows;
  for (std::int64_t j = 0; j < K; ++j) brows[j] = reinterpret_cast<const double*>(im.col_step.data() + j * ncols);
  auto product = [&](std::int64_t rows, auto&& store) {
    row_dots(arows, rows, brows, K, 2 * ncols, ws.dots.data());
    for (std::int64_t i = 0; i < rows; ++i) store(ws.row_target[static_cast<std::size_t>(i)], ws.dots.data() + i * K);
  };
  // h: a row of H or C, times peak q's M.
  auto add_row = [&](std::int64_t& rows, const cplx* h, std::int64_t q, std::int64_t target) {
    cplx* dst = ws.modulated.data() + static_cast<std::size_t>(rows) * nc;
    multiply_spectra(h, ws.col_mod.data() + static_cast<std::size_t>(q) * nc, dst, nc);
    arows[rows] = reinterpret_cast<const double*>(dst);
    ws.row_target[static_cast<std::size_t>(rows)] = target;
    ++rows;
  };
  const bool transposed = im.slab_ifft->input() == analysis::ColumnInput::transposed;
  if (transposed) {  // C^T (ncols, ny) into tmp (free here: the inverse FFT has consumed it)
    cplx* ct = ws.tmp.data();
    for (std::int64_t m0 = 0; m0 < ny; m0 += 8) {
      const std::int64_t m1 = std::min(m0 + 8, ny);
      for (std::int64_t c = 0; c < ncols; ++c)
        for (std::int64_t m = m0; m < m1; ++m) ct[c * ny + m] = corr[m * ncols + c];
    }
  }
  for (std::int64_t r = 0; r < u; ++r) {
    const cplx* mod = im.row_mod.data() + r * ny;
    if (transposed) {  // the same products as scale_spectrum's, column by column
      for (std::int64_t c = 0; c < ncols; ++c)
        multiply_spectra(ws.tmp.data() + c * ny, mod, ws.slab_in.data() + c * ny, static_cast<std::size_t>(ny));
      im.slab_ifft->execute(ws.slab_in.data(), ws.slab.data());
    } else {
      for (std::int64_t m = 0; m < ny; ++m) scale_spectrum(corr + m * ncols, mod[m], ws.slab.data() + m * ncols, ncols);
      im.slab_ifft->execute(ws.slab.data());
    }
    std::int64_t rows = 0;
    for (std::int64_t q = 0; q < np; ++q) {
      const std::int64_t t0 = ty[static_cast<std::size_t>(2 * q)];
      for (std::int64_t k = pos_mod(r - t0, u); k < K; k += u)  // t = t0 + k ≡ r (mod u)
        add_row(rows, ws.slab.data() + pos_mod(floor_div(t0 + k, u), ny) * ncols, q, q * K + k);
    }
    product(rows, [&](std::int64_t target, const double* v) {
      double* gr = ws.grid.data() + target * K;
      for (std::int64_t j = 0; j < K; ++j) gr[j] += v[j];
    });
  }
  if (even_rows) {
    std::int64_t rows = 0;
    for (std::int64_t q = 0; q < np; ++q) add_row(rows, corr + nyq * ncols, q, q);
    const cplx* cn = corr + nyq * ncols;
    std::vector<cplx> ph(static_cast<std::size_t>(K));  // P_k of one peak
    product(rows, [&](std::int64_t q, const double* re_q) {
      const std::int64_t t0 = ty[static_cast<std::size_t>(2 * q)], tx = ty[static_cast<std::size_t>(2 * q + 1)];
      double* gq = ws.grid.data() + q * K * K;
      for (std::int64_t k = 0; k < K; ++k)
        ph[static_cast<std::size_t>(k)] = im.row_phase[static_cast<std::size_t>(pos_mod(-(t0 + k) * nyq, nyu))];
      for (std::int64_t j = 0; j < K; ++j) {
        double im_q = cn[0].imag();
        if (nx % 2 == 0) {
          const cplx e = im.col_phase[static_cast<std::size_t>(pos_mod((tx + j) * (-(nx / 2)), nxu))];
          im_q += cn[nx / 2].real() * e.imag() + cn[nx / 2].imag() * e.real();
        }
        for (std::int64_t k = 0; k < K; ++k) {
          const cplx pk = ph[static_cast<std::size_t>(k)];
          gq[k * K + j] += pk.real() * re_q[j] - pk.imag() * im_q;
        }
      }
    });
  }
  for (std::int64_t q = 0; q < np; ++q) {
    BraggPeak& p = peaks[static_cast<std::size_t>(q)];
    const double* G = ws.grid.data() + q * K * K;
    const std::int64_t best = first_max_index(G, K * K);
    const std::int64_t bk = best / K, bj = best % K;
    double dy = 0, dx = 0;
    if (bk >= 1 && bk + 1 < K && bj >= 1 && bj + 1 < K) {
      auto at = [&](std::int64_t a, std::int64_t b) { return G[a * K + b]; };
      const double c0 = at(bk, bj);
      dy = (at(bk + 1, bj) - at(bk - 1, bj)) / (4 * c0 - 2 * at(bk + 1, bj) - 2 * at(bk - 1, bj));
      dx = (at(bk, bj + 1) - at(bk, bj - 1)) / (4 * c0 - 2 * at(bk, bj + 1) - 2 * at(bk, bj - 1));
    }
    const double ud = static_cast<double>(u);
    p.qy = static_cast<double>(ty[static_cast<std::size_t>(2 * q)] + bk) / ud + dy / ud;
    p.qx = static_cast<double>(ty[static_cast<std::size_t>(2 * q + 1)] + bj) / ud + dx / ud;
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
  if (options.radial_background)
    throw InvalidArgument("disk detection: radial_background needs the pattern's origin (DiskFinder::find, or "
                          "DiskDetection on a scan with a calibrated origin)");
  DiskFinder finder(kernel, frame.shape(0), frame.shape(1), options);
  auto ws = finder.make_workspace();
  const Array f = frame.astype(DType::f64);
  std::vector<BraggPeak> peaks;
  finder.find(f.data<double>(), *ws, peaks);
  return peaks;
}

}  // namespace scandiff::stem
