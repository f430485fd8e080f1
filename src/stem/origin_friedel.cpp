#include "scandiff/stem/origin_friedel.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

// Parabola vertex offset through (−1, a), (0, b), (+1, c).
double parabola_offset(double a, double b, double c) {
  const double den = 4 * b - 2 * c - 2 * a;
  return den != 0 ? (c - a) / den : 0.0;
}

double wrap(double v, double n) {
  const double r = std::fmod(v, n);
  return r < 0 ? r + n : r;
}

}  // namespace

void OriginFriedel::prepare(const io::DatasetInfo& info) {
  info_ = info;
  fft_ = std::make_unique<analysis::RealFft2D>(2 * info.frame_y, 2 * info.frame_x);
  qy_ = Array(DType::f64, {info.scan_y, info.scan_x});
  qx_ = Array(DType::f64, {info.scan_y, info.scan_x});
}

void OriginFriedel::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::int64_t ny = block.frame_y, nx = block.frame_x, py = 2 * ny, px = 2 * nx;
  std::vector<double> padded(static_cast<std::size_t>(py * px)), conv(padded.size());
  std::vector<std::complex<double>> spectrum(static_cast<std::size_t>(fft_->spectrum_size()));
  double* out_qy = qy_.data<double>() + block.first;
  double* out_qx = qx_.data<double>() + block.first;
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    for (std::int64_t f = 0; f < block.count; ++f) {
      const T* src = frames + f * ny * nx;
      std::fill(padded.begin(), padded.end(), 0.0);
      for (std::int64_t y = 0; y < ny; ++y)
        for (std::int64_t x = 0; x < nx; ++x)
          padded[static_cast<std::size_t>(y * px + x)] = static_cast<double>(src[y * nx + x]);
      fft_->forward(padded.data(), spectrum.data());
      for (auto& c : spectrum) c *= c;
      fft_->inverse(spectrum.data(), conv.data());
      std::size_t best = 0;
      for (std::size_t p = 1; p < conv.size(); ++p)
        if (conv[p] > conv[best]) best = p;
      const auto sy = static_cast<std::int64_t>(best) / px, sx = static_cast<std::int64_t>(best) % px;
      auto at = [&](std::int64_t y, std::int64_t x) {
        return conv[static_cast<std::size_t>(((y + py) % py) * px + (x + px) % px)];
      };
      const double c0 = at(sy, sx);
      const double dy = parabola_offset(at(sy - 1, sx), c0, at(sy + 1, sx));
      const double dx = parabola_offset(at(sy, sx - 1), c0, at(sy, sx + 1));
      out_qy[f] = wrap((static_cast<double>(sy) + dy) / 2, static_cast<double>(ny));
      out_qx[f] = wrap((static_cast<double>(sx) + dx) / 2, static_cast<double>(nx));
    }
  });
}

std::vector<Result> OriginFriedel::results() const {
  const Metadata prov{{"analysis", "origin"},
                      {"method", "friedel (autoconvolution peak / 2, parabolic refinement)"},
                      {"input", info_.path},
                      {"scandiff_version", scandiff::version}};
  return {Result{"origin_qy", qy_, info_.scan_axes(), "pixels", prov},
          Result{"origin_qx", qx_, info_.scan_axes(), "pixels", prov}};
}

}  // namespace scandiff::stem
