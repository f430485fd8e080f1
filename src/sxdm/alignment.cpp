#include "scandiff/sxdm/alignment.hpp"

#include <cmath>
#include <complex>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/analysis/fft2.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/virtual_images.hpp"

namespace scandiff::sxdm {

namespace {

using cplx = std::complex<double>;

std::vector<cplx> centred(const Array& a) {
  const Array d = a.astype(DType::f64);
  const double* p = d.data<double>();
  const auto n = static_cast<std::size_t>(d.size());
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) mean += p[i];
  mean /= static_cast<double>(n);
  std::vector<cplx> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = {std::isfinite(p[i]) ? p[i] - mean : 0.0, 0.0};
  return out;
}

// exp(+2πi f(k) t_j) for k < n, j < m: (n, m) row-major.
std::vector<cplx> dft_kernel(std::int64_t n, const std::vector<double>& t) {
  std::vector<cplx> e(static_cast<std::size_t>(n) * t.size());
  for (std::int64_t k = 0; k < n; ++k) {
    const double f = analysis::fft_frequency(k, n);
    for (std::size_t j = 0; j < t.size(); ++j)
      e[static_cast<std::size_t>(k) * t.size() + j] = std::polar(1.0, 2 * std::numbers::pi * f * t[j]);
  }
  return e;
}

// Integer FFT index k of an n-point axis as a signed shift.
double signed_shift(std::int64_t k, std::int64_t n) { return static_cast<double>(k > n / 2 ? k - n : k); }

}  // namespace

PhaseCorrelation phase_correlation(const Array& reference, const Array& moving, std::int64_t upsample, bool normalize) {
  if (reference.rank() != 2 || moving.rank() != 2 || reference.shape() != moving.shape())
    throw InvalidArgument(fmt::format("phase correlation: the maps must be 2D of one shape (got {} and {} dimensions)",
                                      reference.rank(), moving.rank()));
  if (upsample < 1) throw InvalidArgument(fmt::format("phase correlation: upsample must be >= 1 (got {})", upsample));
  const std::int64_t ny = reference.shape(0), nx = reference.shape(1);
  std::vector<cplx> b = centred(reference), a = centred(moving);
  const analysis::Fft2 fft(ny, nx);
  fft.forward(a.data());
  fft.forward(b.data());
  std::vector<cplx> x(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    x[i] = a[i] * std::conj(b[i]);
    if (normalize) {
      const double m = std::abs(x[i]);
      x[i] = m > 1e-300 ? x[i] / m : cplx{};
    }
  }
  std::vector<cplx> c = x;
  fft.inverse(c.data());
  std::size_t best = 0;
  for (std::size_t i = 1; i < c.size(); ++i)
    if (c[i].real() > c[best].real()) best = i;
  PhaseCorrelation r;
  r.dy = signed_shift(static_cast<std::int64_t>(best) / nx, ny);
  r.dx = signed_shift(static_cast<std::int64_t>(best) % nx, nx);
  r.peak = c[best].real();
  if (upsample > 1) {
    // c on (dy + i/u, dx + j/u), |i|, |j| <= 1.5u: first along x, then along y.
    const std::int64_t half = (3 * upsample) / 2;
    std::vector<double> ty, tx;
    for (std::int64_t i = -half; i <= half; ++i) {
      ty.push_back(r.dy + static_cast<double>(i) / static_cast<double>(upsample));
      tx.push_back(r.dx + static_cast<double>(i) / static_cast<double>(upsample));
    }
    const auto ey = dft_kernel(ny, ty), ex = dft_kernel(nx, tx);
    const std::size_t m = tx.size();
    std::vector<cplx> t(static_cast<std::size_t>(ny) * m, cplx{});  // (ky, j)
    for (std::int64_t ky = 0; ky < ny; ++ky)
      for (std::int64_t kx = 0; kx < nx; ++kx) {
        const cplx v = x[static_cast<std::size_t>(ky * nx + kx)];
        const cplx* e = &ex[static_cast<std::size_t>(kx) * m];
        cplx* row = &t[static_cast<std::size_t>(ky) * m];
        for (std::size_t j = 0; j < m; ++j) row[j] += v * e[j];
      }
    double best_v = -1e300;
    double by = r.dy, bx = r.dx;
    for (std::size_t i = 0; i < ty.size(); ++i)
      for (std::size_t j = 0; j < m; ++j) {
        double s = 0;
        for (std::int64_t ky = 0; ky < ny; ++ky)
          s += (ey[static_cast<std::size_t>(ky) * ty.size() + i] * t[static_cast<std::size_t>(ky) * m + j]).real();
        if (s > best_v) {
          best_v = s;
          by = ty[i];
          bx = tx[j];
        }
      }
    r.dy = by;
    r.dx = bx;
    r.peak = best_v;
  }
  r.peak /= static_cast<double>(ny * nx);
  return r;
}

AlignmentMap parse_alignment_map(const std::string& text) {
  AlignmentMap m;
  if (text == "sum") return m;
  if (text.rfind("roi:", 0) == 0) {
    m.kind = AlignmentMap::Kind::roi;
    m.box = parse_detector_box(text.substr(4), "--map roi");
    return m;
  }
  if (text.rfind("mda:", 0) == 0 && text.size() > 4) {
    m.kind = AlignmentMap::Kind::mda_channel;
    m.channel = text.substr(4);
    return m;
  }
  throw InvalidArgument(fmt::format("--map '{}': expected sum, roi:x0,y0,x1,y1 or mda:CHANNEL", text));
}

std::vector<Array> frameset_maps(const Frameset& frameset, const AlignmentMap& map, const engine::RunOptions& run) {
  std::vector<Array> out;
  for (std::size_t i = 0; i < frameset.scans.size(); ++i) {
    if (map.kind == AlignmentMap::Kind::mda_channel) {
      out.push_back(read_mda_channel_map(frameset.scans[i].spec, map.channel));
      continue;
    }
    auto scan = open_frameset_scan_unaligned(frameset, i);
    const auto& info = scan->info();
    DetectorBox b = map.box;
    if (map.kind == AlignmentMap::Kind::sum) b = {0, 0, info.frame_x, info.frame_y};
    if (b.x1 > info.frame_x || b.y1 > info.frame_y)
      throw InvalidArgument(fmt::format("--map roi: box columns [{}, {}) rows [{}, {}) exceeds the {}x{} frames of {}",
                                        b.x0, b.x1, b.y0, b.y1, info.frame_y, info.frame_x, info.path));
    std::vector<stem::NamedDetector> det;
    det.push_back({"map", stem::Detector::rectangle(info.frame_y, info.frame_x, static_cast<double>(b.y0),
                                                    static_cast<double>(b.y1), static_cast<double>(b.x0),
                                                    static_cast<double>(b.x1))});
    stem::VirtualImages vi(std::move(det));
    std::vector<engine::Analysis*> list{&vi};
    engine::run(*scan, list, run);
    out.push_back(vi.image(0));
  }
  return out;
}

std::vector<ScanShift> estimate_shifts(const Frameset& frameset, const std::vector<Array>& maps, std::int64_t upsample,
                                       bool normalize, std::vector<PhaseCorrelation>* details) {
  if (maps.size() != frameset.scans.size())
    throw InvalidArgument(fmt::format("alignment: {} maps for {} scans", maps.size(), frameset.scans.size()));
  const Array& ref = maps.at(frameset.reference);
  std::vector<ScanShift> out;
  if (details) details->clear();
  for (std::size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].shape() != ref.shape())
      throw InvalidArgument(fmt::format("alignment: scan '{}' has a {}x{} map, the reference '{}' {}x{}; phase "
                                        "correlation needs one raster shape",
                                        frameset.scans[i].name, maps[i].shape(0), maps[i].shape(1),
                                        frameset.scans[frameset.reference].name, ref.shape(0), ref.shape(1)));
    PhaseCorrelation pc;
    if (i != frameset.reference) pc = phase_correlation(ref, maps[i], upsample, normalize);
    else pc.peak = 1;
    if (details) details->push_back(pc);
    if (frameset.scans[i].shift.manual) out.push_back(frameset.scans[i].shift);
    else out.push_back({pc.dy, pc.dx, false});
  }
  return out;
}

}  // namespace scandiff::sxdm
