#include "scandiff/stem/center_of_mass.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

// Column-sum accumulator: exact uint32 for 8/16-bit data, int64 for 32-bit integers, float64 for floats.
template <class T>
using ColumnAcc = std::conditional_t<std::is_integral_v<T>, std::conditional_t<(sizeof(T) <= 2), std::uint32_t, std::int64_t>,
                                     double>;

struct Moments {
  double sum = 0, sum_y = 0, sum_x = 0;  // Σ w·I, Σ w·I·qy, Σ w·I·qx
};

// Runs of one weight (or no mask): per run, add the pixels to column sums and the run's row sum,
// exactly in integers for integer data (uint32 for 8/16-bit: a column sums at most 65536 rows).
// Then Σ I·qy = Σ_rows row·rowsum and Σ I·qx = Σ_cols col·colsum.
template <class T>
[[gnu::target_clones("avx2", "default")]] Moments uniform_moments(const T* frame, const Detector::Run* runs,
                                                                   std::size_t n_runs, std::int64_t W,
                                                                   ColumnAcc<T>* col_sums) {
  using Acc = ColumnAcc<T>;
  std::fill(col_sums, col_sums + W, Acc{0});
  Moments m;
  for (std::size_t q = 0; q < n_runs; ++q) {
    const Detector::Run& r = runs[q];
    const std::int64_t row = r.offset / W, c0 = r.offset % W;
    const T* __restrict p = frame + r.offset;
    Acc* __restrict c = col_sums + c0;
    Acc s = 0;
    for (std::int64_t k = 0; k < r.length; ++k) {
      const Acc v = static_cast<Acc>(p[k]);
      c[k] += v;
      s += v;
    }
    m.sum += static_cast<double>(s);
    m.sum_y += static_cast<double>(row) * static_cast<double>(s);
  }
  for (std::int64_t j = 0; j < W; ++j) m.sum_x += static_cast<double>(j) * static_cast<double>(col_sums[j]);
  return m;
}

// Runs of varying weights: float64 throughout.
template <class T>
Moments weighted_moments(const T* frame, const std::vector<Detector::Run>& runs, std::int64_t W) {
  Moments m;
  for (const Detector::Run& r : runs) {
    const std::int64_t row = r.offset / W, c0 = r.offset % W;
    const T* __restrict p = frame + r.offset;
    double s = 0, sx = 0;
    for (std::int64_t k = 0; k < r.length; ++k) {
      const double v = static_cast<double>(p[k]);
      s += v;
      sx += static_cast<double>(c0 + k) * v;
    }
    m.sum += r.weight * s;
    m.sum_y += r.weight * static_cast<double>(row) * s;
    m.sum_x += r.weight * sx;
  }
  return m;
}

}  // namespace

CenterOfMass::CenterOfMass(Options options) : options_(std::move(options)) {}

void CenterOfMass::prepare(const io::DatasetInfo& info) {
  info_ = info;
  runs_.clear();
  if (options_.mask) {
    if (options_.mask->frame_y() != info.frame_y || options_.mask->frame_x() != info.frame_x)
      throw InvalidArgument(fmt::format("centre of mass: the mask is {}x{} but {} has {}x{} frames",
                                        options_.mask->frame_y(), options_.mask->frame_x(), info.path, info.frame_y,
                                        info.frame_x));
    runs_ = options_.mask->runs();
    if (runs_.empty()) throw InvalidArgument("centre of mass: the mask has no non-zero pixel");
  } else {
    for (std::int64_t i = 0; i < info.frame_y; ++i) runs_.push_back({i * info.frame_x, info.frame_x, 1.0});
  }
  uniform_ = true;
  for (const auto& r : runs_) uniform_ = uniform_ && r.weight == runs_[0].weight;
  if (options_.relative_to_origin)
    origin_ = Origin::from_calibration(info.calibration, info.scan_y, info.scan_x, "centre of mass relative to origin");
  com_x_ = Array(DType::f64, {info.scan_y, info.scan_x});
  com_y_ = Array(DType::f64, {info.scan_y, info.scan_x});
}

void CenterOfMass::process(const engine::FrameBlock& block, engine::Partial*) {
  double* cx = com_x_.data<double>() + block.first;
  double* cy = com_y_.data<double>() + block.first;
  const std::int64_t W = block.frame_x, n = block.frame_pixels();
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    std::vector<ColumnAcc<T>> col(static_cast<std::size_t>(W));
    const T* frames = reinterpret_cast<const T*>(block.data);
    for (std::int64_t f = 0; f < block.count; ++f) {
      const T* frame = frames + f * n;
      const Moments m = uniform_ ? uniform_moments<T>(frame, runs_.data(), runs_.size(), W, col.data()) : weighted_moments<T>(frame, runs_, W);
      double x = m.sum_x / m.sum, y = m.sum_y / m.sum;
      if (m.sum == 0) x = y = std::numeric_limits<double>::quiet_NaN();
      if (options_.relative_to_origin) {
        x -= origin_.qx_px(block.first + f);
        y -= origin_.qy_px(block.first + f);
      }
      cx[f] = x;
      cy[f] = y;
    }
  });
}

std::vector<Result> CenterOfMass::results() const {
  Metadata prov{{"analysis", "center_of_mass"},
                {"formula", "com_x = sum(w*I*qx)/sum(w*I), com_y = sum(w*I*qy)/sum(w*I), detector pixel indices"},
                {"axes", "x = qx (detector column), y = qy (detector row); py4DSTEM's com_x is our com_y"},
                {"mask", options_.mask ? options_.mask->parameters() : Metadata("none")},
                {"relative_to_origin", options_.relative_to_origin},
                {"input", info_.path},
                {"scandiff_version", scandiff::version}};
  return {Result{"com_x", com_x_, info_.scan_axes(), "pixels", prov},
          Result{"com_y", com_y_, info_.scan_axes(), "pixels", prov}};
}

}  // namespace scandiff::stem
