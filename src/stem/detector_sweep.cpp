#include "detector_sweep.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem::detail {

namespace {

struct RowRun {
  std::int64_t start, end;  // columns [start, end)
  std::uint32_t detector;
  double weight;
};

// A detector whose runs average fewer than 4 pixels (a smooth weight mask) is evaluated as a
// dot product over each row's non-zero span instead of as uniform segments.
bool is_dense(const Detector& d) {
  std::int64_t pixels = 0;
  for (const auto& r : d.runs()) pixels += r.length;
  return static_cast<std::int64_t>(d.runs().size()) * 4 > pixels;
}

// Exact sum of n <= 65536 integer pixels (uint32 for 8/16-bit data, int64 for 32-bit), or a
// float64 sum of float pixels.
template <class T>
[[gnu::always_inline]] inline double span_sum(const T* __restrict p, std::int64_t n) {
  using Acc = std::conditional_t<std::is_integral_v<T>, std::conditional_t<(sizeof(T) <= 2), std::uint32_t, std::int64_t>,
                                 double>;
  Acc s = 0;
  for (std::int64_t k = 0; k < n; ++k) s += static_cast<Acc>(p[k]);
  return static_cast<double>(s);
}

// lane_masks<T>.m[n][j] = all ones for j < n, else 0: keeps the first n of 16 lanes.
template <class T>
struct LaneMasks {
  T m[17][16];
  constexpr LaneMasks() : m() {
    for (int n = 0; n <= 16; ++n)
      for (int j = 0; j < 16; ++j) m[n][j] = j < n ? static_cast<T>(~T{0}) : T{0};
  }
};
template <class T>
constexpr LaneMasks<T> lane_masks{};

// Sum of the 16 pixels at p ANDed with the lane mask m, exactly in uint32, with GCC/Clang vector
// types: one load, one AND, a widening tree sum — no branch on the segment length.
typedef std::uint8_t u8x16 __attribute__((vector_size(16)));
typedef std::uint16_t u16x16 __attribute__((vector_size(32)));
typedef std::uint32_t u32x16 __attribute__((vector_size(64)));
typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
typedef std::uint32_t u32x4 __attribute__((vector_size(16)));
template <class T>
struct Lanes16;
template <>
struct Lanes16<std::uint8_t> {
  using V = u8x16;
};
template <>
struct Lanes16<std::uint16_t> {
  using V = u16x16;
};

template <class T>
[[gnu::always_inline]] inline std::uint32_t masked16_sum(const T* p, const T* m) {
  using V = typename Lanes16<T>::V;
  V x, k;
  std::memcpy(&x, p, sizeof(V));
  std::memcpy(&k, m, sizeof(V));
  x &= k;
  const u32x16 y = __builtin_convertvector(x, u32x16);
  u32x8 lo, hi;
  std::memcpy(&lo, &y, sizeof(lo));
  std::memcpy(&hi, reinterpret_cast<const char*>(&y) + sizeof(lo), sizeof(hi));
  const u32x8 s = lo + hi;
  u32x4 a, b;
  std::memcpy(&a, &s, sizeof(a));
  std::memcpy(&b, reinterpret_cast<const char*>(&s) + sizeof(a), sizeof(b));
  const u32x4 t = a + b;
  return t[0] + t[1] + t[2] + t[3];
}

// Step 1: the sums of all uniform segments, in memory order, with the detector shifted by
// (sy, sx) (already reduced to [0, H) x [0, W)); a segment that crosses the right edge wraps to
// the start of the same row. With many detectors most segments are a few pixels long, and a loop
// over their length would mispredict its exit once per segment; 8/16-bit segments of up to 16
// pixels are summed instead over a fixed 16 lanes with a lane mask (branch-free; only where the
// segment does not wrap and 16 lanes stay inside the frame).
template <class T, class Span>
[[gnu::target_clones("avx2", "default")]] void segment_sums(const T* __restrict frame, const Span* __restrict s,
                                                            std::size_t n, std::int64_t H, std::int64_t W,
                                                            std::int64_t sy, std::int64_t sx, double* __restrict sum) {
  constexpr bool narrow = std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t>;
  // Software prefetch: the frame's cache lines up to `ahead` bytes past the segment being summed.
  // A frame read from memory then streams in while earlier segments are summed; left to the
  // hardware prefetchers, the loads wait for memory between the segments' mispredicted loop
  // exits and the pass costs memory time plus compute time.
  constexpr std::int64_t line = 64 / static_cast<std::int64_t>(sizeof(T)), ahead = 4096 / static_cast<std::int64_t>(sizeof(T));
  const std::int64_t pixels = H * W;
  std::int64_t fetched = 0;  // pixels [0, fetched) prefetched
  for (std::size_t k = 0; k < n; ++k) {
    std::int64_t r = s[k].row + sy, c = s[k].col + sx;
    if (r >= H) r -= H;
    if (c >= W) c -= W;
    const std::int64_t offset = r * W + c, len = s[k].length;
    for (const std::int64_t end = std::min(offset + ahead, pixels); fetched < end; fetched += line)
      __builtin_prefetch(frame + fetched);
    const T* __restrict p = frame + offset;
    if constexpr (narrow) {
      if (len <= 16 && c + len <= W && offset + 16 <= pixels) {
        sum[k] = static_cast<double>(masked16_sum(p, lane_masks<T>.m[len]));
        continue;
      }
    }
    const std::int64_t n1 = std::min(len, W - c);
    sum[k] = span_sum(p, n1);
    if (n1 < len) sum[k] += span_sum(frame + r * W, len - n1);
  }
}

template <class T>
[[gnu::always_inline]] inline double span_dot(const T* __restrict p, const double* __restrict w, std::int64_t n) {
  double s = 0;
  for (std::int64_t k = 0; k < n; ++k) s += static_cast<double>(p[k]) * w[k];
  return s;
}

}  // namespace

DetectorSweep::DetectorSweep(const std::vector<const Detector*>& detectors) {
  if (detectors.empty()) throw InvalidArgument("virtual images: no detector");
  height_ = detectors[0]->frame_y();
  width_ = detectors[0]->frame_x();
  detectors_ = detectors.size();
  for (const Detector* d : detectors)
    if (d->frame_y() != height_ || d->frame_x() != width_)
      throw InvalidArgument(fmt::format("virtual images: detectors of {}x{} and {}x{} frames cannot share a pass",
                                        height_, width_, d->frame_y(), d->frame_x()));
  if (width_ > 65536) throw InvalidArgument(fmt::format("virtual images: frames {} pixels wide are not supported", width_));

  // Uniform runs of every detector, by row.
  std::vector<std::vector<RowRun>> rows(static_cast<std::size_t>(height_));
  std::vector<std::vector<std::pair<std::uint32_t, double>>> terms(detectors.size());  // (segment, weight)
  dense_start_.push_back(0);
  for (std::uint32_t di = 0; di < detectors.size(); ++di) {
    const Detector& d = *detectors[di];
    if (!is_dense(d)) {
      for (const auto& r : d.runs())
        rows[static_cast<std::size_t>(r.offset / width_)].push_back(
            {r.offset % width_, r.offset % width_ + r.length, di, r.weight});
    } else {
      // Per row, the span from the first to the last non-zero weight, zeros included.
      const Array w = d.weights();
      const double* wp = w.data<double>();
      const auto& runs = d.runs();
      for (std::size_t k = 0; k < runs.size();) {
        const std::int64_t row = runs[k].offset / width_;
        std::size_t e = k;
        while (e + 1 < runs.size() && runs[e + 1].offset / width_ == row) ++e;
        const std::int64_t c0 = runs[k].offset % width_, c1 = runs[e].offset % width_ + runs[e].length;
        dense_.push_back({{static_cast<std::int32_t>(row), static_cast<std::int32_t>(c0), static_cast<std::int32_t>(c1 - c0)},
                          dense_weights_.size()});
        dense_weights_.insert(dense_weights_.end(), wp + row * width_ + c0, wp + row * width_ + c1);
        k = e + 1;
      }
    }
    dense_start_.push_back(dense_.size());
  }
  // Cut each row at every run boundary: each piece has one weight per detector.
  for (std::int64_t row = 0; row < height_; ++row) {
    const auto& runs = rows[static_cast<std::size_t>(row)];
    std::vector<std::int64_t> cuts;
    for (const auto& r : runs) {
      cuts.push_back(r.start);
      cuts.push_back(r.end);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
      const auto segment = static_cast<std::uint32_t>(segments_.size());
      bool covered = false;
      for (const auto& r : runs)
        if (r.start <= cuts[k] && cuts[k + 1] <= r.end) {
          terms[r.detector].emplace_back(segment, r.weight);
          covered = true;
        }
      if (covered)
        segments_.push_back({static_cast<std::int32_t>(row), static_cast<std::int32_t>(cuts[k]),
                             static_cast<std::int32_t>(cuts[k + 1] - cuts[k])});
    }
  }
  term_start_.push_back(0);
  for (const auto& t : terms) {
    for (const auto& [s, w] : t) terms_.push_back({s, w});
    term_start_.push_back(terms_.size());
  }
}

template <class T>
void DetectorSweep::add_typed(const T* frame, std::int64_t sy, std::int64_t sx, double scale, double* out,
                              std::vector<double>& sums) const {
  const std::int64_t H = height_, W = width_;
  sy %= H;
  sx %= W;
  if (sy < 0) sy += H;
  if (sx < 0) sx += W;
  // Where a dense span of the (shifted) detector lies in the frame: [c, c + n1) of row r, then
  // the part that wrapped past the right edge, [0, length − n1).
  auto locate = [&](const Span& s, const T*& p, std::int64_t& c, std::int64_t& n1) {
    std::int64_t r = s.row + sy;
    if (r >= H) r -= H;
    c = s.col + sx;
    if (c >= W) c -= W;
    p = frame + r * W;
    n1 = std::min<std::int64_t>(s.length, W - c);
  };
  // 1. One sum per uniform segment, in memory order.
  sums.resize(segments_.size());
  double* __restrict sum = sums.data();
  segment_sums(frame, segments_.data(), segments_.size(), H, W, sy, sx, sum);
  // 2. Per detector: its segments' weighted sums and its dense spans.
  for (std::size_t d = 0; d < detectors_; ++d) {
    // Four partial sums: a single chain of dependent additions would cost an add latency per term.
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const Term* __restrict tm = terms_.data();
    std::size_t t = term_start_[d];
    const std::size_t t1 = term_start_[d + 1];
    for (; t + 4 <= t1; t += 4) {
      a0 += sum[tm[t].segment] * tm[t].weight;
      a1 += sum[tm[t + 1].segment] * tm[t + 1].weight;
      a2 += sum[tm[t + 2].segment] * tm[t + 2].weight;
      a3 += sum[tm[t + 3].segment] * tm[t + 3].weight;
    }
    for (; t < t1; ++t) a0 += sum[tm[t].segment] * tm[t].weight;
    double acc = (a0 + a1) + (a2 + a3);
    for (std::size_t k = dense_start_[d]; k < dense_start_[d + 1]; ++k) {
      const Dense& s = dense_[k];
      const T* p;
      std::int64_t c, n1;
      locate(s.span, p, c, n1);
      const double* w = dense_weights_.data() + s.weights;
      acc += span_dot(p + c, w, n1);
      if (n1 < s.span.length) acc += span_dot(p, w + n1, s.span.length - n1);
    }
    out[d] += acc * scale;
  }
}

void DetectorSweep::add(DType dtype, const std::byte* frame, std::int64_t sy, std::int64_t sx, double scale,
                        double* out, std::vector<double>& scratch) const {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    add_typed(reinterpret_cast<const T*>(frame), sy, sx, scale, out, scratch);
  });
}

}  // namespace scandiff::stem::detail
