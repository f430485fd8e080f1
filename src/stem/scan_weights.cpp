#include "scandiff/stem/scan_weights.hpp"

#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

std::vector<double> values_of(const Array& a, const char* what) {
  if (a.rank() != 2)
    throw InvalidArgument(fmt::format("{}: shape {} must be 2D (ry, rx)", what, shape_string(a.shape())));
  const Array d = a.astype(DType::f64);
  const double* p = d.data<double>();
  std::vector<double> v(p, p + d.size());
  for (double x : v)
    if (!std::isfinite(x)) throw InvalidArgument(fmt::format("{}: contains NaN or infinite values", what));
  return v;
}

}  // namespace

ScanWeights ScanWeights::selection(const Array& mask) {
  ScanWeights s;
  s.kind_ = Kind::selection;
  s.values_ = values_of(mask, "scan position selection");
  for (double& x : s.values_) x = x != 0 ? 1.0 : 0.0;
  s.scan_y_ = mask.shape(0);
  s.scan_x_ = mask.shape(1);
  return s;
}

ScanWeights ScanWeights::weights(const Array& weights) {
  ScanWeights s;
  s.kind_ = Kind::weights;
  s.values_ = values_of(weights, "scan position weights");
  s.scan_y_ = weights.shape(0);
  s.scan_x_ = weights.shape(1);
  return s;
}

void ScanWeights::check(std::int64_t sy, std::int64_t sx, std::string_view what) const {
  if (kind_ == Kind::all) return;
  if (scan_y_ != sy || scan_x_ != sx)
    throw InvalidArgument(fmt::format("{}: the scan {} is {}x{}, but the dataset's scan is {}x{}", what,
                                      kind_ == Kind::selection ? "selection" : "weights", scan_y_, scan_x_, sy, sx));
  if (count(sy * sx) == 0) throw InvalidArgument(fmt::format("{}: the scan selection is empty", what));
  if (kind_ == Kind::weights && total_weight(sy * sx) == 0)
    throw InvalidArgument(fmt::format("{}: the scan weights sum to zero, so their mean is undefined", what));
}

std::int64_t ScanWeights::count(std::int64_t frames) const {
  if (kind_ != Kind::selection) return frames;
  std::int64_t n = 0;
  for (double x : values_) n += x != 0;
  return n;
}

double ScanWeights::total_weight(std::int64_t frames) const {
  if (kind_ != Kind::weights) return static_cast<double>(count(frames));
  double s = 0;
  for (double x : values_) s += x;
  return s;
}

Metadata ScanWeights::describe() const {
  switch (kind_) {
    case Kind::all: return "all";
    case Kind::selection: return Metadata{{"selection", "non-zero positions"}, {"positions", count(0)}};
    case Kind::weights: return Metadata{{"weights", "per position"}, {"sum", total_weight(0)}};
  }
  return nullptr;
}

}  // namespace scandiff::stem
