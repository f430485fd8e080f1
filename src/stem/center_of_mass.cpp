#include "scandiff/stem/center_of_mass.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
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

// Every pixel, one weight (no mask), 16-bit data: the frame in bands of 16 rows; per band,
// strips of 16 columns are swept down the rows with, per column j and group of R <= 256 rows
// starting at row g0 (local row t = r − g0),
//   col[j] = Σ_t I[t, j]                  (col += row, after each row)
//   cum[j] = Σ_t (R − t)·I[t, j]          (cum += col, after each row)
// held in vector registers within a band and in uint32 (exact: 65535·256·257/2 < 2^32) between.
// A strip's 16 pixels are loaded as 8 uint32 lanes of two pixels each and split into the even
// (v & 0xffff) and odd (v >> 16) columns: the strip's sums are stored even columns first.
// Per group, with C = Σ_j col[j]:  Σ I = C,  Σ I·qx = Σ_j j·col[j],  Σ I·qy = g0·C + R·C − Σ_j cum[j],
// exact integers (uint64) folded into float64 — the same values as uniform_moments, with one
// read of each pixel and no store per pixel. (Little-endian hosts only.) The strips' order
// is one the hardware prefetchers do not follow: from memory this runs at half the speed of
// uniform_moments, from cache at 1.6x, so it is used for frames the engine marks in cache.
[[gnu::target_clones("avx2", "default")]] Moments frame_moments_u16(const std::uint16_t* frame, std::int64_t H,
                                                                     std::int64_t W, std::uint32_t* col,
                                                                     std::uint32_t* cum) {
  typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
  constexpr std::int64_t group = 256, band = 16;
  const std::int64_t strips = W / 16 * 16;  // columns [0, strips) in strips, the rest one by one
  Moments m;
  for (std::int64_t g0 = 0; g0 < H; g0 += group) {
    const std::int64_t R = std::min(group, H - g0);
    std::fill(col, col + W, 0u);
    std::fill(cum, cum + W, 0u);
    for (std::int64_t b0 = g0; b0 < g0 + R; b0 += band) {
      const std::int64_t b1 = std::min(b0 + band, g0 + R);
      for (std::int64_t j = 0; j < strips; j += 16) {
        u32x8 ce, co, se, so;  // even / odd columns: sums and running totals
        std::memcpy(&ce, col + j, sizeof ce);
        std::memcpy(&co, col + j + 8, sizeof co);
        std::memcpy(&se, cum + j, sizeof se);
        std::memcpy(&so, cum + j + 8, sizeof so);
        for (std::int64_t r = b0; r < b1; ++r) {
          u32x8 v;
          std::memcpy(&v, frame + r * W + j, sizeof v);
          ce += v & 0xffff;
          co += v >> 16;
          se += ce;
          so += co;
        }
        std::memcpy(col + j, &ce, sizeof ce);
        std::memcpy(col + j + 8, &co, sizeof co);
        std::memcpy(cum + j, &se, sizeof se);
        std::memcpy(cum + j + 8, &so, sizeof so);
      }
      for (std::int64_t j = strips; j < W; ++j)
        for (std::int64_t r = b0; r < b1; ++r) {
          col[j] += frame[r * W + j];
          cum[j] += col[j];
        }
    }
    std::uint64_t c = 0, cx = 0, cs = 0;
    for (std::int64_t j = 0; j < W; ++j) {
      // The column stored at slot j: strips hold even columns, then odd ones.
      const std::int64_t k = j % 16, column = j < strips ? j - k + (k < 8 ? 2 * k : 2 * (k - 8) + 1) : j;
      c += col[j];
      cx += static_cast<std::uint64_t>(column) * col[j];
      cs += cum[j];
    }
    const auto g = static_cast<std::uint64_t>(g0), rows = static_cast<std::uint64_t>(R);
    m.sum += static_cast<double>(c);
    m.sum_x += static_cast<double>(cx);
    m.sum_y += static_cast<double>(g * c + (rows * c - cs));
  }
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
  std::int64_t covered = 0;
  for (const auto& r : runs_) {
    uniform_ = uniform_ && r.weight == runs_[0].weight;
    covered += r.length;
  }
  whole_frame_ = uniform_ && covered == info.frame_pixels();
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
    // Whole 16-bit frames already in cache: the column-strip kernel (the same exact sums).
    constexpr bool u16 = std::is_same_v<T, std::uint16_t> && std::endian::native == std::endian::little;
    const bool strips = u16 && whole_frame_ && block.in_cache;
    std::vector<ColumnAcc<T>> col(static_cast<std::size_t>(W) * (u16 ? 2 : 1));
    const T* frames = reinterpret_cast<const T*>(block.data);
    for (std::int64_t f = 0; f < block.count; ++f) {
      const T* frame = frames + f * n;
      Moments m;
      if constexpr (u16)
        if (strips) m = frame_moments_u16(frame, block.frame_y, W, col.data(), col.data() + W);
      if (!strips)
        m = uniform_ ? uniform_moments<T>(frame, runs_.data(), runs_.size(), W, col.data())
                     : weighted_moments<T>(frame, runs_, W);
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
