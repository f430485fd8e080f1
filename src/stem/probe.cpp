#include "scandiff/stem/probe.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <vector>

#include <fmt/format.h>

#include "scandiff/analysis/fft.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

using Mask = std::vector<std::uint8_t>;

// One erosion (all four neighbours and the pixel set) or dilation (any of them set) with the
// 4-connected cross; pixels outside the image count as unset (scipy's border_value 0).
Mask morph(const Mask& m, std::int64_t ny, std::int64_t nx, bool erode) {
  Mask out(m.size());
  auto at = [&](std::int64_t y, std::int64_t x) -> bool {
    return y >= 0 && y < ny && x >= 0 && x < nx && m[static_cast<std::size_t>(y * nx + x)];
  };
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      const bool c = at(y, x), n = at(y - 1, x), s = at(y + 1, x), w = at(y, x - 1), e = at(y, x + 1);
      out[static_cast<std::size_t>(y * nx + x)] = erode ? (c && n && s && w && e) : (c || n || s || w || e);
    }
  return out;
}

// Squared Euclidean distance transform of f (0 on features, +inf elsewhere) along one line
// (Felzenszwalb & Huttenlocher 2012), in place on `f` with `n` samples at `stride`.
void edt_line(double* f, std::int64_t n, std::int64_t stride, std::vector<double>& d, std::vector<std::int64_t>& v,
              std::vector<double>& z) {
  const double inf = std::numeric_limits<double>::infinity();
  d.assign(static_cast<std::size_t>(n), inf);
  v.assign(static_cast<std::size_t>(n), 0);
  z.assign(static_cast<std::size_t>(n + 1), 0);
  std::int64_t k = -1;
  for (std::int64_t q = 0; q < n; ++q) {
    const double fq = f[q * stride];
    if (fq == inf) continue;
    while (k >= 0) {
      const std::int64_t p = v[static_cast<std::size_t>(k)];
      const double s = ((fq + static_cast<double>(q * q)) - (f[p * stride] + static_cast<double>(p * p))) /
                       (2.0 * static_cast<double>(q - p));
      if (s <= z[static_cast<std::size_t>(k)]) {
        --k;
        continue;
      }
      ++k;
      v[static_cast<std::size_t>(k)] = q;
      z[static_cast<std::size_t>(k)] = s;
      z[static_cast<std::size_t>(k + 1)] = inf;
      break;
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -inf;
      z[1] = inf;
    }
  }
  if (k < 0) return;  // no finite sample: the line stays +inf
  std::int64_t j = 0;
  for (std::int64_t q = 0; q < n; ++q) {
    while (z[static_cast<std::size_t>(j + 1)] < static_cast<double>(q)) ++j;
    const std::int64_t p = v[static_cast<std::size_t>(j)];
    d[static_cast<std::size_t>(q)] = static_cast<double>((q - p) * (q - p)) + f[p * stride];
  }
  for (std::int64_t q = 0; q < n; ++q) f[q * stride] = d[static_cast<std::size_t>(q)];
}

}  // namespace

Array soft_probe_mask(const Array& probe, const ProbeMaskOptions& o) {
  if (probe.rank() != 2 || probe.size() == 0)
    throw InvalidArgument(fmt::format("probe mask: expected a non-empty 2D image (got shape {})", shape_string(probe.shape())));
  if (!(o.threshold >= 0 && o.threshold < 1))
    throw InvalidArgument(fmt::format("probe mask: threshold must be in [0, 1) (got {})", o.threshold));
  if (o.opening < 0) throw InvalidArgument(fmt::format("probe mask: opening must be >= 0 (got {})", o.opening));
  if (!(o.expansion > 0) || !std::isfinite(o.expansion))
    throw InvalidArgument(fmt::format("probe mask: expansion must be > 0 px (got {})", o.expansion));
  Array out = probe.astype(DType::f64);
  double* p = out.data<double>();
  const std::int64_t ny = out.shape(0), nx = out.shape(1), n = out.size();
  const double vmax = *std::max_element(p, p + n);
  if (!(vmax > 0)) throw InvalidArgument(fmt::format("probe mask: the probe maximum must be > 0 (got {})", vmax));
  Mask m(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) m[static_cast<std::size_t>(i)] = p[i] > o.threshold * vmax;
  for (int i = 0; i < o.opening; ++i) m = morph(m, ny, nx, true);
  for (int i = 0; i < o.opening; ++i) m = morph(m, ny, nx, false);
  m = morph(m, ny, nx, false);
  // Squared distance to the nearest mask pixel: columns, then rows.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> f(static_cast<std::size_t>(n)), d, z;
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) f[static_cast<std::size_t>(i)] = m[static_cast<std::size_t>(i)] ? 0.0 : inf;
  for (std::int64_t x = 0; x < nx; ++x) edt_line(f.data() + x, ny, nx, d, v, z);
  for (std::int64_t y = 0; y < ny; ++y) edt_line(f.data() + y * nx, nx, 1, d, v, z);
  for (std::int64_t i = 0; i < n; ++i) {
    const double t = std::min(std::sqrt(f[static_cast<std::size_t>(i)]) / o.expansion, 1.0);
    const double c = std::cos(std::numbers::pi / 2 * t);
    p[i] *= c * c;
  }
  return out;
}

Array vacuum_probe(io::Source& source, std::span<const std::int64_t> frames, bool align, bool mask,
                   const ProbeMaskOptions& options) {
  const io::DatasetInfo& info = source.info();
  if (frames.empty()) throw InvalidArgument("vacuum probe: no frames given");
  for (const std::int64_t f : frames)
    if (f < 0 || f >= info.frame_count())
      throw InvalidArgument(fmt::format("vacuum probe: frame {} is outside {} (frames 0..{})", f, info.path,
                                        info.frame_count() - 1));
  const std::int64_t ny = info.frame_y, nx = info.frame_x, n = info.frame_pixels();
  Array raw(info.dtype, {ny, nx});
  std::vector<double> sum(static_cast<std::size_t>(n), 0.0), cur(static_cast<std::size_t>(n)), back;
  std::unique_ptr<analysis::RealFft2D> fft;
  std::vector<std::complex<double>> ref_spec, spec;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    source.read(frames[i], 1, raw.bytes());
    const Array f64 = raw.astype(DType::f64);
    std::copy(f64.data<double>(), f64.data<double>() + n, cur.begin());
    std::int64_t sy = 0, sx = 0;
    if (align) {
      if (!fft) {
        fft = std::make_unique<analysis::RealFft2D>(ny, nx);
        ref_spec.resize(static_cast<std::size_t>(fft->spectrum_size()));
        spec.resize(ref_spec.size());
        back.resize(static_cast<std::size_t>(n));
        fft->forward(cur.data(), ref_spec.data());  // the first frame is the reference
      } else {
        // cc = IFFT(FFT(ref)·conj(FFT(frame))): its argmax is the roll that aligns the frame.
        fft->forward(cur.data(), spec.data());
        for (std::size_t k = 0; k < spec.size(); ++k) spec[k] = ref_spec[k] * std::conj(spec[k]);
        fft->inverse(spec.data(), back.data());
        const auto best = std::max_element(back.begin(), back.end()) - back.begin();
        sy = best / nx;
        sx = best % nx;
      }
    }
    for (std::int64_t y = 0; y < ny; ++y)
      for (std::int64_t x = 0; x < nx; ++x)
        sum[static_cast<std::size_t>(((y + sy) % ny) * nx + (x + sx) % nx)] += cur[static_cast<std::size_t>(y * nx + x)];
  }
  Array probe(DType::f64, {ny, nx});
  for (std::int64_t i = 0; i < n; ++i)
    probe.data<double>()[i] = sum[static_cast<std::size_t>(i)] / static_cast<double>(frames.size());
  return mask ? soft_probe_mask(probe, options) : probe;
}

Array synthetic_probe(double radius_px, double width_px, std::int64_t ny, std::int64_t nx) {
  if (!(radius_px > 0) || !std::isfinite(radius_px))
    throw InvalidArgument(fmt::format("synthetic probe: radius must be > 0 px (got {})", radius_px));
  if (!(width_px > 0) || !std::isfinite(width_px))
    throw InvalidArgument(fmt::format("synthetic probe: width must be > 0 px (got {})", width_px));
  if (ny < 1 || nx < 1 || ny > 65536 || nx > 65536)
    throw InvalidArgument(fmt::format("synthetic probe: shape {}x{} must be 1..65536 per axis", ny, nx));
  Array out(DType::f64, {ny, nx});
  double* p = out.data<double>();
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t x = 0; x < nx; ++x) {
      const double r = std::hypot(static_cast<double>(y) - static_cast<double>(ny) / 2.0,
                                  static_cast<double>(x) - static_cast<double>(nx) / 2.0);
      p[y * nx + x] = 1.0 / (1.0 + std::exp(4.0 * (r - radius_px) / width_px));
    }
  return out;
}

}  // namespace scandiff::stem
