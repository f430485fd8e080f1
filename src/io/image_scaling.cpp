#include "scandiff/io/image_scaling.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

namespace scandiff::io {
namespace {

// Calls f(T value) for every element of `a` in C order, following its byte strides.
// Elements are read with memcpy so borrowed, unaligned memory is fine.
template <class T, class F>
void for_each_element(const Array& a, F&& f) {
  const std::int64_t n = a.size();
  if (n == 0) return;
  const std::byte* base = a.bytes();
  const std::size_t r = a.rank();
  T v;
  if (r == 0) {
    std::memcpy(&v, base, sizeof v);
    f(v);
    return;
  }
  const auto& shape = a.shape();
  const auto& strides = a.byte_strides();
  const std::int64_t inner = shape[r - 1], inner_stride = strides[r - 1];
  std::vector<std::int64_t> idx(r, 0);
  std::int64_t off = 0;
  for (std::int64_t row = 0, rows = n / inner; row < rows; ++row) {
    const std::byte* p = base + off;
    for (std::int64_t i = 0; i < inner; ++i, p += inner_stride) {
      std::memcpy(&v, p, sizeof v);
      f(v);
    }
    for (std::size_t k = r - 1; k-- > 0;) {  // odometer over the outer axes
      off += strides[k];
      if (++idx[k] < shape[k]) break;
      off -= strides[k] * shape[k];
      idx[k] = 0;
    }
  }
}

template <class T>
bool is_finite_value(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isfinite(v);
  else
    return true;
}

template <class T>
std::vector<T> finite_values(const Array& a) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(a.size()));
  for_each_element<T>(a, [&](T v) {
    if (is_finite_value(v)) out.push_back(v);
  });
  return out;
}

void check_percentile(double p, const char* which) {
  if (!(p >= 0 && p <= 100))
    throw InvalidArgument(fmt::format("{} percentile {} is outside [0, 100]", which, p));
}

// Percentile p of v (reordered in place) with linear interpolation between order
// statistics (numpy's default): h = p/100 * (n-1), k = floor(h),
// result = x[k] + (h - k) * (x[k+1] - x[k]) where x is v sorted ascending.
// Only elements at positions >= `first` are searched: the caller guarantees that the
// k-th order statistic lies there and everything before `first` is <= it (true after an
// earlier nth_element at a position <= k). Uses nth_element, never a full sort.
template <class T>
double percentile_in_place(std::vector<T>& v, double p, std::size_t first = 0) {
  const std::size_t n = v.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = p / 100.0 * static_cast<double>(n - 1);
  const auto k = std::min(static_cast<std::size_t>(std::floor(h)), n - 1);
  const double frac = h - static_cast<double>(k);
  std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(std::min(first, k)),
                   v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  const auto lo = static_cast<double>(v[k]);
  if (frac <= 0 || k + 1 >= n) return lo;
  // After nth_element everything behind position k is >= x[k]; the smallest of them is x[k+1].
  const auto hi = static_cast<double>(*std::min_element(v.begin() + static_cast<std::ptrdiff_t>(k + 1), v.end()));
  return lo + frac * (hi - lo);
}

// Precomputes the stretch's normaliser once per image. With d = vmax - vmin and the
// clipped offset x = min(max(v - vmin, 0), d), the display value u in [0, 1] is
//   linear: u = x / d
//   log:    u = log1p(x) / log1p(d)     (log1p(max(v - vmin, 0)), so vmin maps to 0)
//   sqrt:   u = sqrt(x) / sqrt(d)
// d == 0 (constant image or vmin == vmax): u = (v > vmin) ? 1 : 0, no division.
// NaN maps to 0; +inf clips to 1 and -inf to 0.
// Levels are u * max_level, computed as f(x) * max_level / f(d): multiplying before dividing
// keeps integer data on integer limits exact (x * max_level is exact below 2^53), so a level
// lands exactly on k + 0.5 when the true value does and rounds up as documented.
class Mapper {
 public:
  Mapper(const DisplayLimits& lim, DisplayRange::Stretch stretch)
      : vmin_(lim.vmin), d_(lim.vmax - lim.vmin), stretch_(stretch) {
    switch (stretch_) {
      case DisplayRange::Stretch::linear: norm_ = d_; break;
      case DisplayRange::Stretch::log: norm_ = std::log1p(d_); break;
      case DisplayRange::Stretch::sqrt: norm_ = std::sqrt(d_); break;
    }
  }
  // u * scale for value v (scale 1 gives u itself).
  double operator()(double v, double scale = 1.0) const {
    if (std::isnan(v)) return 0;
    if (!(d_ > 0) || !(norm_ > 0)) return v > vmin_ ? scale : 0;
    const double x = std::min(std::max(v - vmin_, 0.0), d_);
    double f = 0;
    switch (stretch_) {
      case DisplayRange::Stretch::linear: f = x; break;
      case DisplayRange::Stretch::log: f = std::log1p(x); break;
      case DisplayRange::Stretch::sqrt: f = std::sqrt(x); break;
    }
    return std::clamp(f * scale / norm_, 0.0, scale);  // clamp guards against rounding just outside
  }

 private:
  double vmin_, d_, norm_ = 0;
  DisplayRange::Stretch stretch_;
};

void check_2d(const Array& image, const char* what) {
  if (image.rank() != 2)
    throw InvalidArgument(fmt::format("{}: expected a 2D image, got shape {}", what, shape_string(image.shape())));
}

template <class F>
void for_each_as_double(const Array& a, F&& f) {
  visit_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_element<T>(a, [&](T v) { f(static_cast<double>(v)); });
  });
}

}  // namespace

double finite_percentile(const Array& image, double p) {
  check_percentile(p, "requested");
  return visit_dtype(image.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto v = finite_values<T>(image);
    return percentile_in_place(v, p);
  });
}

DisplayLimits display_limits(const Array& image2d, const DisplayRange& range) {
  check_2d(image2d, "display range");
  check_percentile(range.low_percentile, "low");
  check_percentile(range.high_percentile, "high");
  if (range.low_percentile > range.high_percentile)
    throw InvalidArgument(fmt::format("low percentile {} is above high percentile {}", range.low_percentile,
                                      range.high_percentile));
  if (range.vmin && !std::isfinite(*range.vmin)) throw InvalidArgument("vmin must be finite");
  if (range.vmax && !std::isfinite(*range.vmax)) throw InvalidArgument("vmax must be finite");
  if (range.vmin && range.vmax) {
    if (*range.vmin > *range.vmax)
      throw InvalidArgument(fmt::format("vmin {} is above vmax {}", *range.vmin, *range.vmax));
    return {*range.vmin, *range.vmax};
  }

  double lo = 0, hi = 0;
  visit_dtype(image2d.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto v = finite_values<T>(image2d);
    if (v.empty()) {  // nothing finite: the given limit, or 0
      lo = hi = range.vmin ? *range.vmin : range.vmax.value_or(0.0);
      return;
    }
    const double h = range.low_percentile / 100.0 * static_cast<double>(v.size() - 1);
    lo = range.vmin ? *range.vmin : percentile_in_place(v, range.low_percentile);
    // When the low percentile was computed, v is partitioned around floor(h): search behind it only.
    const std::size_t first = range.vmin ? 0 : static_cast<std::size_t>(std::floor(h));
    hi = range.vmax ? *range.vmax : percentile_in_place(v, range.high_percentile, first);
  });
  if (hi < lo) {  // one limit was given and the data lie entirely on its wrong side
    if (range.vmin)
      hi = lo;
    else
      lo = hi;
  }
  return {lo, hi};
}

double display_value(double v, const DisplayLimits& limits, DisplayRange::Stretch stretch) {
  return Mapper(limits, stretch)(v);
}

Array scale_to_unit(const Array& image2d, const DisplayRange& range) {
  const Mapper map(display_limits(image2d, range), range.stretch);
  Array out(DType::f32, image2d.shape());
  float* dst = out.data<float>();
  for_each_as_double(image2d, [&](double v) { *dst++ = static_cast<float>(map(v)); });
  return out;
}

std::vector<std::uint16_t> display_levels(const Array& image2d, const DisplayRange& range,
                                          std::uint16_t max_level) {
  const Mapper map(display_limits(image2d, range), range.stretch);
  std::vector<std::uint16_t> out;
  out.reserve(static_cast<std::size_t>(image2d.size()));
  const double scale = max_level;
  for_each_as_double(image2d, [&](double v) { out.push_back(static_cast<std::uint16_t>(std::lround(map(v, scale)))); });
  return out;
}

}  // namespace scandiff::io
