#include "scandiff/stem/virtual_diffraction.hpp"

#include <algorithm>
#include <limits>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

struct ReducePartial : engine::Partial {
  std::vector<double> sum, max;
  ReducePartial(std::size_t n, bool want_sum, bool want_max) {
    if (want_sum) sum.assign(n, 0.0);
    if (want_max) max.assign(n, -std::numeric_limits<double>::infinity());
  }
  void reset() override {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(max.begin(), max.end(), -std::numeric_limits<double>::infinity());
  }
  std::size_t bytes() const override { return (sum.size() + max.size()) * sizeof(double); }
};

// acc[p] += frame[p]; integer sums are exact in float64 up to 2^53, so their order never matters.
template <class T>
void add_frame(double* __restrict acc, const T* __restrict frame, std::int64_t n) {
  for (std::int64_t p = 0; p < n; ++p) acc[p] += static_cast<double>(frame[p]);
}

// acc[p] += sum_f frames[f][p] over `count` frames of n pixels. The detector is walked in
// L1-sized tiles with the frames inside, so the accumulator stays in cache; 8- and 16-bit data
// is summed exactly in uint32 (at most 65536 frames per group, so it cannot overflow) and
// folded into float64 once per tile. Per pixel the frames are added in frame order.
template <class T>
[[gnu::target_clones("avx2", "default")]] void add_frames(double* __restrict acc, const T* __restrict frames, std::int64_t count, std::int64_t n) {
  constexpr std::int64_t tile = 4096;
  constexpr bool narrow = std::is_integral_v<T> && sizeof(T) <= 2;
  using Acc = std::conditional_t<narrow, std::uint32_t, double>;
  constexpr std::int64_t group = narrow ? 65536 : (std::int64_t{1} << 62);
  alignas(64) Acc part[tile];
  for (std::int64_t t0 = 0; t0 < n; t0 += tile) {
    const std::int64_t len = std::min(tile, n - t0);
    for (std::int64_t g0 = 0; g0 < count; g0 += group) {
      const std::int64_t g1 = std::min(count, g0 + group);
      for (std::int64_t p = 0; p < len; ++p) part[p] = 0;
      std::int64_t f = g0;
      // Four frames per sweep: a quarter of the accumulator traffic, four read streams.
      for (; f + 4 <= g1; f += 4) {
        const T* __restrict a = frames + f * n + t0;
        const T* __restrict b = a + n;
        const T* __restrict c = b + n;
        const T* __restrict d = c + n;
        for (std::int64_t p = 0; p < len; ++p)
          part[p] += (static_cast<Acc>(a[p]) + static_cast<Acc>(b[p])) + (static_cast<Acc>(c[p]) + static_cast<Acc>(d[p]));
      }
      for (; f < g1; ++f) {
        const T* __restrict src = frames + f * n + t0;
        for (std::int64_t p = 0; p < len; ++p) part[p] += static_cast<Acc>(src[p]);
      }
      double* __restrict dst = acc + t0;
      for (std::int64_t p = 0; p < len; ++p) dst[p] += static_cast<double>(part[p]);
    }
  }
}

template <class T>
void max_frame(double* __restrict acc, const T* __restrict frame, std::int64_t n) {
  for (std::int64_t p = 0; p < n; ++p) acc[p] = std::max(acc[p], static_cast<double>(frame[p]));
}

}  // namespace

VirtualDiffraction::VirtualDiffraction(Options options) : options_(options) {
  if (!options_.mean && !options_.max) throw InvalidArgument("virtual diffraction: ask for the mean, the max or both");
}

void VirtualDiffraction::prepare(const io::DatasetInfo& info) {
  info_ = info;
  sum_ = options_.mean ? Array(DType::f64, {info.frame_y, info.frame_x}) : Array();
  max_ = options_.max ? Array(DType::f64, {info.frame_y, info.frame_x}) : Array();
  if (options_.max) std::fill_n(max_.data<double>(), max_.size(), -std::numeric_limits<double>::infinity());
}

std::unique_ptr<engine::Partial> VirtualDiffraction::make_partial() const {
  return std::make_unique<ReducePartial>(static_cast<std::size_t>(info_.frame_pixels()), options_.mean, options_.max);
}

void VirtualDiffraction::process(const engine::FrameBlock& block, engine::Partial* partial) {
  auto& p = static_cast<ReducePartial&>(*partial);
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    const std::int64_t n = block.frame_pixels();
    if (options_.mean) add_frames(p.sum.data(), frames, block.count, n);
    if (options_.max)
      for (std::int64_t f = 0; f < block.count; ++f) max_frame(p.max.data(), frames + f * n, n);
  });
}

void VirtualDiffraction::merge(const engine::Partial& partial) {
  const auto& p = static_cast<const ReducePartial&>(partial);
  if (options_.mean) add_frame(sum_.data<double>(), p.sum.data(), sum_.size());
  if (options_.max) max_frame(max_.data<double>(), p.max.data(), max_.size());
}

void VirtualDiffraction::finish() {
  if (!options_.mean) return;
  mean_ = Array(DType::f64, sum_.shape());
  const double n = static_cast<double>(info_.frame_count());
  const double* s = sum_.data<double>();
  double* m = mean_.data<double>();
  for (std::int64_t p = 0; p < mean_.size(); ++p) m[p] = s[p] / n;
}

std::vector<Result> VirtualDiffraction::results() const {
  std::vector<Result> out;
  const Metadata prov{{"analysis", "virtual_diffraction"}, {"input", info_.path}, {"scandiff_version", scandiff::version}};
  if (options_.mean) out.push_back({"mean_diffraction", mean_, info_.detector_axes(), "counts", prov});
  if (options_.max) out.push_back({"max_diffraction", max_, info_.detector_axes(), "counts", prov});
  return out;
}

}  // namespace scandiff::stem
