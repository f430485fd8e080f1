#include "detector_sweep.hpp"

#include <algorithm>
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

// Exact sum of n integer pixels (uint32 partial sums for 8/16-bit data, int64 otherwise), or a
// float64 sum of float pixels.
template <class T>
[[gnu::always_inline]] inline double span_sum(const T* __restrict p, std::int64_t n) {
  if constexpr (std::is_integral_v<T> && sizeof(T) <= 2) {
    std::uint64_t total = 0;
    for (std::int64_t k0 = 0; k0 < n; k0 += 65536) {
      const std::int64_t k1 = std::min(n, k0 + 65536);
      std::uint32_t s = 0;
      for (std::int64_t k = k0; k < k1; ++k) s += p[k];
      total += s;
    }
    return static_cast<double>(total);
  } else if constexpr (std::is_integral_v<T>) {
    std::int64_t s = 0;
    for (std::int64_t k = 0; k < n; ++k) s += static_cast<std::int64_t>(p[k]);
    return static_cast<double>(s);
  } else {
    double s = 0;
    for (std::int64_t k = 0; k < n; ++k) s += static_cast<double>(p[k]);
    return s;
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

  std::vector<std::vector<RowRun>> uniform(static_cast<std::size_t>(height_));
  struct DenseRow {
    std::int64_t start = -1, end = -1;
  };
  std::vector<std::vector<std::pair<std::uint32_t, DenseRow>>> dense(static_cast<std::size_t>(height_));
  for (std::uint32_t di = 0; di < detectors.size(); ++di) {
    const Detector& d = *detectors[di];
    const bool as_dense = is_dense(d);
    for (const auto& r : d.runs()) {
      const std::int64_t row = r.offset / width_, col = r.offset % width_;
      auto& u = uniform[static_cast<std::size_t>(row)];
      if (!as_dense) {
        u.push_back({col, col + r.length, di, r.weight});
        continue;
      }
      auto& rows = dense[static_cast<std::size_t>(row)];
      if (rows.empty() || rows.back().first != di) rows.push_back({di, DenseRow{col, col + r.length}});
      rows.back().second.end = col + r.length;
    }
  }
  // Dense weights: the full weight rows of each dense detector, zeros included, over its span.
  std::vector<Array> dense_masks(detectors.size());
  for (std::int64_t row = 0; row < height_; ++row) {
    // Uniform segments: cut the row at every run boundary; each piece has a constant weight set.
    auto& runs = uniform[static_cast<std::size_t>(row)];
    std::vector<std::int64_t> cuts;
    for (const auto& r : runs) {
      cuts.push_back(r.start);
      cuts.push_back(r.end);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<Segment> row_segments;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
      const auto first = static_cast<std::uint32_t>(terms_.size());
      for (const auto& r : runs)
        if (r.start <= cuts[k] && cuts[k + 1] <= r.end) terms_.push_back({r.detector, r.weight});
      const auto n = static_cast<std::uint32_t>(terms_.size()) - first;
      if (n == 0) continue;
      row_segments.push_back({static_cast<std::int32_t>(row), static_cast<std::int32_t>(cuts[k]),
                              static_cast<std::int32_t>(cuts[k + 1] - cuts[k]), first, n, -1, 0});
    }
    for (const auto& [di, span] : dense[static_cast<std::size_t>(row)]) {
      if (dense_masks[di].empty()) dense_masks[di] = detectors[di]->weights();
      const double* w = dense_masks[di].data<double>() + row * width_;
      const std::size_t offset = dense_weights_.size();
      dense_weights_.insert(dense_weights_.end(), w + span.start, w + span.end);
      row_segments.push_back({static_cast<std::int32_t>(row), static_cast<std::int32_t>(span.start),
                              static_cast<std::int32_t>(span.end - span.start), 0, 0, static_cast<std::int32_t>(di),
                              offset});
    }
    std::sort(row_segments.begin(), row_segments.end(),
              [](const Segment& a, const Segment& b) { return a.col < b.col; });
    segments_.insert(segments_.end(), row_segments.begin(), row_segments.end());
  }
}

template <class T>
void DetectorSweep::add_typed(const T* frame, std::int64_t sy, std::int64_t sx, double scale, double* out) const {
  const std::int64_t H = height_, W = width_;
  sy %= H;
  sx %= W;
  if (sy < 0) sy += H;
  if (sx < 0) sx += W;
  for (const Segment& s : segments_) {
    std::int64_t r = s.row + sy;
    if (r >= H) r -= H;
    std::int64_t c = s.col + sx;
    if (c >= W) c -= W;
    const T* p = frame + r * W;
    // The segment's pixels in the frame: [c, c + length), split where it wraps past the edge.
    const std::int64_t n1 = std::min<std::int64_t>(s.length, W - c), n2 = s.length - n1;
    if (s.dense_detector < 0) {
      double sum = span_sum(p + c, n1);
      if (n2 > 0) sum += span_sum(p, n2);
      sum *= scale;
      for (std::uint32_t t = s.first_term; t < s.first_term + s.terms; ++t)
        out[terms_[t].detector] += sum * terms_[t].weight;
    } else {
      const double* w = dense_weights_.data() + s.dense_offset;
      double sum = span_dot(p + c, w, n1);
      if (n2 > 0) sum += span_dot(p, w + n1, n2);
      out[s.dense_detector] += sum * scale;
    }
  }
}

void DetectorSweep::add(DType dtype, const std::byte* frame, std::int64_t sy, std::int64_t sx, double scale,
                        double* out) const {
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    add_typed(reinterpret_cast<const T*>(frame), sy, sx, scale, out);
  });
}

}  // namespace scandiff::stem::detail
