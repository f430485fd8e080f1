#include "scandiff/stem/virtual_diffraction.hpp"

#include <cmath>
#include <complex>
#include <limits>
#include <numbers>

#include "frame_accumulate.hpp"
#include "scandiff/analysis/fft2.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

using cplx = std::complex<double>;

struct ReducePartial : engine::Partial {
  std::vector<double> sum, max;
  std::vector<cplx> spectrum, scratch;  // subpixel: Σ of shifted spectra, one frame's transform
  double max_start;
  ReducePartial(std::size_t n, bool want_sum, bool want_max, bool fourier, double max_start_value)
      : max_start(max_start_value) {
    if (want_sum && !fourier) sum.assign(n, 0.0);
    if (want_max) max.assign(n, max_start);
    if (fourier) {
      if (want_sum) spectrum.assign(n, cplx(0, 0));
      scratch.assign(n, cplx(0, 0));
    }
  }
  void reset() override {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(max.begin(), max.end(), max_start);
    std::fill(spectrum.begin(), spectrum.end(), cplx(0, 0));
  }
  std::size_t bytes() const override {
    return (sum.size() + max.size()) * sizeof(double) + (spectrum.size() + scratch.size()) * sizeof(cplx);
  }
};

// e[k] = exp(−2πi·fftfreq(n)[k]·d): one axis of the Fourier shift by d pixels.
void shift_phases(std::vector<cplx>& e, std::int64_t n, double d) {
  e.resize(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    const double a = -2 * std::numbers::pi * analysis::fft_frequency(k, n) * d;
    e[static_cast<std::size_t>(k)] = cplx(std::cos(a), std::sin(a));
  }
}

}  // namespace

VirtualDiffraction::VirtualDiffraction(Options options) : options_(std::move(options)) {
  if (!options_.mean && !options_.max) throw InvalidArgument("virtual diffraction: ask for the mean, the max or both");
}

VirtualDiffraction::~VirtualDiffraction() = default;

std::size_t VirtualDiffraction::spectrum_bytes() const { return spectrum_.nbytes(); }

void VirtualDiffraction::prepare(const io::DatasetInfo& info) {
  info_ = info;
  options_.positions.check(info.scan_y, info.scan_x, "virtual diffraction");
  const bool shifted = options_.shift != CenterShift::none;
  const bool fourier = options_.shift == CenterShift::subpixel;
  if (shifted) {
    origin_ = Origin::from_calibration(info.calibration, info.scan_y, info.scan_x, "virtual diffraction shift");
    if (!origin_.per_position())
      log_warning("virtual diffraction shift: {} has one global origin and no per-position origin maps, so the "
                  "patterns do not move",
                  info.path);
  }
  if (fourier) fft_ = std::make_shared<analysis::Fft2>(info.frame_y, info.frame_x);
  sum_ = options_.mean && !fourier ? Array(DType::f64, {info.frame_y, info.frame_x}) : Array();
  spectrum_ = options_.mean && fourier ? Array(DType::f64, {info.frame_y, info.frame_x, 2}) : Array();
  max_ = options_.max ? Array(DType::f64, {info.frame_y, info.frame_x}) : Array();
  if (options_.max)
    std::fill_n(max_.data<double>(), max_.size(), shifted ? 0.0 : -std::numeric_limits<double>::infinity());
}

std::unique_ptr<engine::Partial> VirtualDiffraction::make_partial() const {
  const bool shifted = options_.shift != CenterShift::none;
  return std::make_unique<ReducePartial>(static_cast<std::size_t>(info_.frame_pixels()), options_.mean, options_.max,
                                         options_.shift == CenterShift::subpixel,
                                         shifted ? 0.0 : -std::numeric_limits<double>::infinity());
}

void VirtualDiffraction::process(const engine::FrameBlock& block, engine::Partial* partial) {
  auto& p = static_cast<ReducePartial&>(*partial);
  const ScanWeights& positions = options_.positions;
  const std::int64_t H = block.frame_y, W = block.frame_x, n = block.frame_pixels();
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    if (options_.shift == CenterShift::none && positions.kind() != ScanWeights::Kind::weights) {
      // Runs of consecutive included frames, summed exactly in tiles.
      std::int64_t f = 0;
      while (f < block.count) {
        if (!positions.included(block.first + f)) {
          ++f;
          continue;
        }
        std::int64_t g = f + 1;
        while (g < block.count && positions.included(block.first + g)) ++g;
        if (options_.mean) detail::add_frames(p.sum.data(), frames + f * n, g - f, n);
        if (options_.max)
          for (std::int64_t k = f; k < g; ++k) detail::max_frame(p.max.data(), frames + k * n, n);
        f = g;
      }
      return;
    }
    std::vector<cplx> ey, ex;
    for (std::int64_t f = 0; f < block.count; ++f) {
      const std::int64_t pos = block.first + f;
      if (!positions.included(pos)) continue;
      const double w = positions.weight(pos);
      const T* frame = frames + f * n;
      if (options_.shift != CenterShift::subpixel) {
        std::int64_t sy = 0, sx = 0;
        if (options_.shift == CenterShift::integer) {
          sy = static_cast<std::int64_t>(std::nearbyint(origin_.mean_qy_px() - origin_.qy_px(pos)));
          sx = static_cast<std::int64_t>(std::nearbyint(origin_.mean_qx_px() - origin_.qx_px(pos)));
        }
        if (options_.mean) detail::add_rolled(p.sum.data(), frame, w, H, W, sy, sx);
        if (options_.max) detail::max_rolled(p.max.data(), frame, w, H, W, sy, sx);
        continue;
      }
      // Fourier shift by d = mean − origin.
      for (std::int64_t k = 0; k < n; ++k) p.scratch[static_cast<std::size_t>(k)] = cplx(w * static_cast<double>(frame[k]), 0);
      fft_->forward(p.scratch.data());
      shift_phases(ey, H, origin_.mean_qy_px() - origin_.qy_px(pos));
      shift_phases(ex, W, origin_.mean_qx_px() - origin_.qx_px(pos));
      for (std::int64_t i = 0; i < H; ++i) {
        cplx* row = p.scratch.data() + i * W;
        const cplx a = ey[static_cast<std::size_t>(i)];
        for (std::int64_t j = 0; j < W; ++j) row[j] *= a * ex[static_cast<std::size_t>(j)];
      }
      if (options_.mean)
        for (std::int64_t k = 0; k < n; ++k) p.spectrum[static_cast<std::size_t>(k)] += p.scratch[static_cast<std::size_t>(k)];
      if (options_.max) {
        fft_->inverse(p.scratch.data());
        const double norm = 1.0 / static_cast<double>(n);
        for (std::int64_t k = 0; k < n; ++k)
          p.max[static_cast<std::size_t>(k)] = std::max(p.max[static_cast<std::size_t>(k)], p.scratch[static_cast<std::size_t>(k)].real() * norm);
      }
    }
  });
}

void VirtualDiffraction::merge(const engine::Partial& partial) {
  const auto& p = static_cast<const ReducePartial&>(partial);
  if (!p.sum.empty()) detail::add_frame(sum_.data<double>(), p.sum.data(), sum_.size());
  if (!p.spectrum.empty()) detail::add_frame(spectrum_.data<double>(), reinterpret_cast<const double*>(p.spectrum.data()), spectrum_.size());
  if (!p.max.empty()) detail::max_frame(max_.data<double>(), p.max.data(), max_.size());
}

void VirtualDiffraction::finish() {
  if (!options_.mean) return;
  mean_ = Array(DType::f64, {info_.frame_y, info_.frame_x});
  const double denominator = options_.positions.total_weight(info_.frame_count());
  double* m = mean_.data<double>();
  if (!spectrum_.empty()) {
    const std::int64_t n = info_.frame_pixels();
    std::vector<cplx> s(static_cast<std::size_t>(n));
    const double* sp = spectrum_.data<double>();
    for (std::int64_t k = 0; k < n; ++k) s[static_cast<std::size_t>(k)] = cplx(sp[2 * k], sp[2 * k + 1]);
    fft_->inverse(s.data());
    for (std::int64_t k = 0; k < n; ++k) m[k] = s[static_cast<std::size_t>(k)].real() / static_cast<double>(n) / denominator;
    return;
  }
  const double* s = sum_.data<double>();
  for (std::int64_t p = 0; p < mean_.size(); ++p) m[p] = s[p] / denominator;
}

std::vector<Result> VirtualDiffraction::results() const {
  std::vector<Result> out;
  const Metadata prov{{"analysis", "virtual_diffraction"},
                      {"positions", options_.positions.describe()},
                      {"shift_center", std::string(name_of(options_.shift))},
                      {"input", info_.path},
                      {"scandiff_version", scandiff::version}};
  if (options_.mean) out.push_back({"mean_diffraction", mean_, info_.detector_axes(), "counts", prov});
  if (options_.max) out.push_back({"max_diffraction", max_, info_.detector_axes(), "counts", prov});
  return out;
}

}  // namespace scandiff::stem
