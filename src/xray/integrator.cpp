// Azimuthal integration: the CSR matrix build (once per geometry and setup) and its application
// to frames (pyFAI's integrate1d / integrate2d with method (split, csr); rules in the header).
#include "scandiff/xray/integrator.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>
#include <numbers>

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "pixel_split.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/xray/bin_filter.hpp"  // check_quantiles, check_sigma_clip

namespace scandiff::xray {

namespace {

constexpr double pi = std::numbers::pi;
constexpr double two_pi = 2 * pi;
// pyFAI's calc_upper_bound: the bin range ends just above the largest value (float32 epsilon).
constexpr double eps32 = 1.0 + static_cast<double>(std::numeric_limits<float>::epsilon());
double upper_bound(double v) { return v > 0 ? v * eps32 : v / eps32; }

constexpr std::int64_t rows_per_chunk = 16;  // image rows per build task (fixed: deterministic)

// Values of `a` (rank 2, shape rows × cols, any dtype and strides) as contiguous float32.
std::vector<float> as_float(const Array& a, std::int64_t rows, std::int64_t cols, std::string_view what) {
  if (a.rank() != 2 || a.shape(0) != rows || a.shape(1) != cols)
    throw InvalidArgument(fmt::format("{} has shape {}; the detector is ({}, {})", what, shape_string(a.shape()), rows,
                                      cols));
  const Array f = a.dtype() == DType::f32 && a.is_contiguous() ? a : a.astype(DType::f32);
  const float* p = f.data<float>();
  return std::vector<float>(p, p + rows * cols);
}

// A pixel's four corners in (radial, χ), χ moved across the ±π discontinuity when the pixel
// straddles it (pyFAI's recenter: negative corners + 2π, then all − 2π if the centre passed π).
detail::Quad pixel_quad(const std::vector<double>& rad, const std::vector<double>& chi, std::int64_t i,
                        std::int64_t j, std::int64_t cols) {
  const std::int64_t w = cols + 1;
  const std::int64_t idx[4] = {i * w + j, (i + 1) * w + j, (i + 1) * w + j + 1, i * w + j + 1};
  detail::Quad q;
  double lo = pi, hi = -pi;
  for (int k = 0; k < 4; ++k) {
    q[k] = {rad[static_cast<std::size_t>(idx[k])], chi[static_cast<std::size_t>(idx[k])]};
    lo = std::min(lo, q[k][1]), hi = std::max(hi, q[k][1]);
  }
  if (hi - lo > pi) {
    double centre = 0;
    for (auto& c : q) {
      if (c[1] < 0) c[1] += two_pi;
      centre += 0.25 * c[1];
    }
    if (centre > pi)
      for (auto& c : q) c[1] -= two_pi;
  }
  return q;
}

struct Entry {
  std::int32_t bin;  // output layout
  std::int32_t pixel;
  float value;
};

}  // namespace

Splitting parse_splitting(std::string_view name) {
  if (name == "no") return Splitting::no;
  if (name == "bbox") return Splitting::bbox;
  if (name == "full") return Splitting::full;
  throw InvalidArgument(fmt::format("splitting '{}': expected no, bbox or full", name));
}

std::string_view splitting_name(Splitting s) {
  switch (s) {
    case Splitting::no: return "no";
    case Splitting::bbox: return "bbox";
    case Splitting::full: return "full";
  }
  return "?";
}

ErrorModel parse_error_model(std::string_view name) {
  if (name == "none") return ErrorModel::none;
  if (name == "poisson") return ErrorModel::poisson;
  if (name == "azimuthal") return ErrorModel::azimuthal;
  if (name == "hybrid") return ErrorModel::hybrid;
  throw InvalidArgument(fmt::format("error model '{}': expected none, poisson, azimuthal or hybrid", name));
}

std::string_view error_model_name(ErrorModel m) {
  switch (m) {
    case ErrorModel::none: return "none";
    case ErrorModel::poisson: return "poisson";
    case ErrorModel::azimuthal: return "azimuthal";
    case ErrorModel::hybrid: return "hybrid";
  }
  return "?";
}

AzimuthalIntegrator::AzimuthalIntegrator(const DetectorGeometry& geometry, IntegrationSetup setup)
    : setup_(std::move(setup)), rows_(geometry.rows()), cols_(geometry.cols()) {
  constexpr std::int64_t max_npt = 10'000'000;
  if (setup_.npt_rad <= 0 || setup_.npt_rad > max_npt)
    throw InvalidArgument(fmt::format("npt {}: expected 1..{} radial bins", setup_.npt_rad, max_npt));
  if (setup_.npt_azim < 0 || setup_.npt_azim > max_npt)
    throw InvalidArgument(fmt::format("npt_azim {}: expected 1..{} azimuthal bins (0 for 1D)", setup_.npt_azim,
                                      max_npt));
  if (setup_.npt_azim > 0 && setup_.npt_rad * setup_.npt_azim > 100'000'000)
    throw InvalidArgument(fmt::format("{} x {} bins: more than 1e8 output bins", setup_.npt_azim, setup_.npt_rad));
  if (rows_ * cols_ >= std::numeric_limits<std::int32_t>::max())
    throw InvalidArgument("detector too large: more than 2^31 pixels");
  auto check_range = [](const std::optional<std::pair<double, double>>& r, const char* what) {
    if (r && (!std::isfinite(r->first) || !std::isfinite(r->second) || r->first == r->second))
      throw InvalidArgument(fmt::format("{} ({}, {}): expected two different finite values", what, r->first, r->second));
  };
  check_range(setup_.radial_range, "radial range");
  check_range(setup_.azimuth_range, "azimuth range");
  if (setup_.polarization_factor && !(std::abs(*setup_.polarization_factor) <= 1))
    throw InvalidArgument(fmt::format("polarization factor {}: expected -1..1", *setup_.polarization_factor));
  if (!std::isfinite(setup_.normalization_factor) || setup_.normalization_factor == 0)
    throw InvalidArgument(fmt::format("normalization factor {}: expected a finite non-zero value",
                                      setup_.normalization_factor));
  build(geometry);
}

void AzimuthalIntegrator::build(const DetectorGeometry& g) {
  const std::int64_t n_pix = rows_ * cols_;
  const auto N = static_cast<std::size_t>(n_pix);
  const bool two_d = setup_.npt_azim > 0;
  const bool use_chi = two_d || setup_.azimuth_range.has_value();
  const Quantity quantity = quantity_of(setup_.unit);
  const double scale = unit_scale(setup_.unit);

  // Static mask (non-zero = masked) and normalisation ω = factor · flat · P · Ω (float32, as pyFAI).
  std::vector<std::uint8_t> masked(N, 0);
  if (!setup_.mask.empty()) {
    const std::vector<float> m = as_float(setup_.mask, rows_, cols_, "mask");
    for (std::size_t p = 0; p < N; ++p) masked[p] = m[p] != 0 ? 1 : 0;
  }
  norm_.assign(N, static_cast<float>(setup_.normalization_factor));
  {
    std::vector<double> factor(N, setup_.normalization_factor);
    if (setup_.solid_angle) {
      const std::vector<double> omega = g.solid_angle_map();
      for (std::size_t p = 0; p < N; ++p) factor[p] *= omega[p];
    }
    if (setup_.polarization_factor) {
      const std::vector<double> pol = g.polarization_map(*setup_.polarization_factor, setup_.polarization_offset_rad);
      for (std::size_t p = 0; p < N; ++p) factor[p] *= pol[p];
    }
    std::vector<float> flat;
    if (!setup_.flat.empty()) flat = as_float(setup_.flat, rows_, cols_, "flat");
    for (std::size_t p = 0; p < N; ++p) {
      float w = static_cast<float>(factor[p]);
      if (!flat.empty()) w = flat[p] == 0 || !std::isfinite(flat[p]) ? 0.0f : w * flat[p];
      norm_[p] = std::isfinite(w) ? w : 0.0f;
    }
  }

  // Positions in internal units: centres and half-widths (no/bbox) or corners (full).
  std::vector<double> c0, d0, c1, d1, k0, k1;
  const Splitting split = setup_.splitting;
  if (split == Splitting::full) {
    k0 = g.corner_map(quantity);
    k1 = g.corner_chi_map();
  } else {
    c0 = g.center_map(quantity);
    if (use_chi) c1 = g.chi_map();
    if (split == Splitting::bbox) {
      const std::vector<double> corner = g.corner_map(quantity);
      const std::vector<double> corner_chi = use_chi ? g.corner_chi_map() : std::vector<double>{};
      d0.assign(N, 0);
      if (use_chi) d1.assign(N, 0);
      tbb::parallel_for(std::int64_t{0}, rows_, [&](std::int64_t i) {
        const std::int64_t w = cols_ + 1;
        for (std::int64_t j = 0; j < cols_; ++j) {
          const auto p = static_cast<std::size_t>(i * cols_ + j);
          const std::int64_t idx[4] = {i * w + j, (i + 1) * w + j, (i + 1) * w + j + 1, i * w + j + 1};
          for (std::int64_t k : idx) {
            d0[p] = std::max(d0[p], std::abs(corner[static_cast<std::size_t>(k)] - c0[p]));
            if (use_chi) {
              const double d = std::abs(corner_chi[static_cast<std::size_t>(k)] - c1[p]);
              d1[p] = std::max(d1[p], std::min(d, two_pi - d));
            }
          }
        }
      });
    }
  }

  // Bin boundaries over the unmasked pixels (pyFAI's calc_boundaries), then the user's ranges.
  double r_lo = std::numeric_limits<double>::infinity(), r_hi = -r_lo, a_lo = r_lo, a_hi = -r_lo;
  for (std::int64_t i = 0; i < rows_; ++i) {
    for (std::int64_t j = 0; j < cols_; ++j) {
      const auto p = static_cast<std::size_t>(i * cols_ + j);
      if (masked[p]) continue;
      if (split == Splitting::full) {
        const std::int64_t w = cols_ + 1;
        for (std::int64_t k : {i * w + j, (i + 1) * w + j, (i + 1) * w + j + 1, i * w + j + 1}) {
          const auto kk = static_cast<std::size_t>(k);
          r_lo = std::min(r_lo, k0[kk]), r_hi = std::max(r_hi, k0[kk]);
          a_lo = std::min(a_lo, k1[kk]), a_hi = std::max(a_hi, k1[kk]);
        }
      } else {
        const double dr = d0.empty() ? 0 : d0[p];
        r_lo = std::min(r_lo, c0[p] - dr), r_hi = std::max(r_hi, c0[p] + dr);
        if (use_chi) {
          const double da = d1.empty() ? 0 : d1[p];
          a_lo = std::min(a_lo, c1[p] - da), a_hi = std::max(a_hi, c1[p] + da);
        }
      }
    }
  }
  if (!(r_hi >= r_lo)) throw InvalidArgument("mask: every pixel is masked, nothing to integrate");
  r_lo = std::max(0.0, r_lo), r_hi = std::max(0.0, r_hi);
  a_lo = std::max(a_lo, -pi), a_hi = std::min(a_hi, pi);
  if (setup_.radial_range) {
    r_lo = std::min(setup_.radial_range->first, setup_.radial_range->second) / scale;
    r_hi = std::max(setup_.radial_range->first, setup_.radial_range->second) / scale;
  }
  if (setup_.azimuth_range) {
    a_lo = std::min(setup_.azimuth_range->first, setup_.azimuth_range->second) * pi / 180;
    a_hi = std::max(setup_.azimuth_range->first, setup_.azimuth_range->second) * pi / 180;
  }
  const double r_maxin = r_hi, a_maxin = a_hi;
  rad_min_ = r_lo, rad_max_ = upper_bound(r_hi);
  azim_min_ = a_lo, azim_max_ = upper_bound(a_hi);
  if (!(rad_max_ > rad_min_)) throw InvalidArgument("radial range is empty");
  const std::int64_t bins0 = setup_.npt_rad, bins1 = std::max<std::int64_t>(setup_.npt_azim, 1);
  const double delta0 = (rad_max_ - rad_min_) / static_cast<double>(bins0);
  const double delta1 = (azim_max_ - azim_min_) / static_cast<double>(bins1);
  // pyFAI's 2D bin index is rad · bins1 + azim; the output is (azim, rad).
  auto out_bin = [&](std::int64_t b) -> std::int32_t {
    return two_d ? static_cast<std::int32_t>((b % bins1) * bins0 + b / bins1) : static_cast<std::int32_t>(b);
  };

  // Per chunk of image rows: the (bin, pixel, fraction) entries in pixel order.
  const std::int64_t n_chunks = (rows_ + rows_per_chunk - 1) / rows_per_chunk;
  std::vector<std::vector<Entry>> chunks(static_cast<std::size_t>(n_chunks));
  tbb::parallel_for(std::int64_t{0}, n_chunks, [&](std::int64_t chunk) {
    std::vector<Entry>& out = chunks[static_cast<std::size_t>(chunk)];
    std::vector<detail::BinFraction> fr;
    const std::int64_t i_end = std::min(rows_, (chunk + 1) * rows_per_chunk);
    for (std::int64_t i = chunk * rows_per_chunk; i < i_end; ++i) {
      for (std::int64_t j = 0; j < cols_; ++j) {
        const auto p = static_cast<std::size_t>(i * cols_ + j);
        if (masked[p] || norm_[p] == 0) continue;
        fr.clear();
        if (split == Splitting::full) {
          detail::Quad q = pixel_quad(k0, k1, i, j, cols_);
          double lo1 = q[0][1], hi1 = lo1, lo0 = q[0][0], hi0 = lo0;
          for (const auto& c : q) {
            lo0 = std::min(lo0, c[0]), hi0 = std::max(hi0, c[0]);
            lo1 = std::min(lo1, c[1]), hi1 = std::max(hi1, c[1]);
          }
          if (!two_d) {
            if (setup_.azimuth_range && (hi1 < azim_min_ || lo1 > a_maxin)) continue;
            for (auto& c : q) c[0] = (c[0] - rad_min_) / delta0;
            detail::split_full_1d(q, bins0, fr);
          } else {
            if (hi0 < rad_min_ || lo0 > r_maxin || hi1 < azim_min_ || lo1 >= azim_max_) continue;
            for (auto& c : q) {
              c[0] = (std::clamp(c[0], rad_min_, r_maxin) - rad_min_) / delta0;
              c[1] = (std::clamp(c[1], azim_min_, a_maxin) - azim_min_) / delta1;
            }
            detail::split_full_2d(q, bins0, bins1, fr);
          }
        } else {
          const double dr = d0.empty() ? 0 : d0[p];
          const double f_lo = (c0[p] - dr - rad_min_) / delta0, f_hi = (c0[p] + dr - rad_min_) / delta0;
          if (!two_d) {
            if (setup_.azimuth_range) {
              const double da = d1.empty() ? 0 : d1[p];
              if (c1[p] + da < azim_min_ || c1[p] - da > a_maxin) continue;
            }
            detail::split_bbox_1d(f_lo, f_hi, bins0, fr);
          } else {
            const double da = d1.empty() ? 0 : d1[p];
            detail::split_bbox_2d(f_lo, f_hi, (c1[p] - da - azim_min_) / delta1, (c1[p] + da - azim_min_) / delta1,
                                  bins0, bins1, fr);
          }
        }
        for (const auto& f : fr)
          if (f.fraction != 0)
            out.push_back({out_bin(f.bin), static_cast<std::int32_t>(p), static_cast<float>(f.fraction)});
      }
    }
  });

  // Assemble the CSR: rows in output order, columns ascending within a row.
  const std::int64_t n_bins = bins0 * bins1;
  csr_ = CsrMatrix{};
  csr_.rows = n_bins;
  csr_.cols = n_pix;
  csr_.row_start.assign(static_cast<std::size_t>(n_bins + 1), 0);
  for (const auto& chunk : chunks)
    for (const Entry& e : chunk) ++csr_.row_start[static_cast<std::size_t>(e.bin) + 1];
  for (std::size_t b = 0; b < static_cast<std::size_t>(n_bins); ++b) csr_.row_start[b + 1] += csr_.row_start[b];
  const auto nnz = static_cast<std::size_t>(csr_.row_start.back());
  csr_.column.resize(nnz);
  csr_.value.resize(nnz);
  std::vector<std::int64_t> cursor(csr_.row_start.begin(), csr_.row_start.end() - 1);
  for (auto& chunk : chunks) {
    for (const Entry& e : chunk) {
      const auto at = static_cast<std::size_t>(cursor[static_cast<std::size_t>(e.bin)]++);
      csr_.column[at] = e.pixel;
      csr_.value[at] = e.value;
    }
    std::vector<Entry>().swap(chunk);
  }

  // Memory order of the per-frame signal: the pixels in the order of the first bin they feed, so
  // that a bin's entries (and its neighbours') read nearby memory instead of a whole ring of the
  // image. Columns are renumbered to these positions and sorted within each row.
  {
    std::vector<std::int32_t> position(N, -1);
    std::vector<std::int32_t> order;
    order.reserve(N);
    for (std::size_t e = 0; e < nnz; ++e) {
      const auto p = static_cast<std::size_t>(csr_.column[e]);
      if (position[p] < 0) {
        position[p] = static_cast<std::int32_t>(order.size());
        order.push_back(static_cast<std::int32_t>(p));
      }
      csr_.column[e] = position[p];
    }
    tbb::parallel_for(std::int64_t{0}, n_bins, [&](std::int64_t b) {
      const auto e0 = static_cast<std::size_t>(csr_.row_start[static_cast<std::size_t>(b)]);
      const auto e1 = static_cast<std::size_t>(csr_.row_start[static_cast<std::size_t>(b) + 1]);
      std::vector<std::pair<std::int32_t, float>> row;
      row.reserve(e1 - e0);
      for (std::size_t e = e0; e < e1; ++e) row.emplace_back(csr_.column[e], csr_.value[e]);
      std::sort(row.begin(), row.end());
      for (std::size_t e = e0; e < e1; ++e) std::tie(csr_.column[e], csr_.value[e]) = row[e - e0];
    });
    std::vector<float> norm(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) norm[k] = norm_[static_cast<std::size_t>(order[k])];
    norm_ = std::move(norm);
    csr_.cols = static_cast<std::int64_t>(order.size());
    csr_.pixel = std::move(order);
  }

  // Static per-bin sums over the valid pixels: Σ c·ω, Σ c, Σ c²·ω².
  bin_norm_.assign(static_cast<std::size_t>(n_bins), 0);
  bin_count_.assign(static_cast<std::size_t>(n_bins), 0);
  bin_c2w2_.assign(static_cast<std::size_t>(n_bins), 0);
  tbb::parallel_for(std::int64_t{0}, n_bins, [&](std::int64_t b) {
    double n = 0, c = 0, c2w2 = 0;
    for (std::int64_t e = csr_.row_start[static_cast<std::size_t>(b)]; e < csr_.row_start[static_cast<std::size_t>(b) + 1];
         ++e) {
      const double v = csr_.value[static_cast<std::size_t>(e)];
      const double w = norm_[static_cast<std::size_t>(csr_.column[static_cast<std::size_t>(e)])];
      n += v * w, c += v, c2w2 += v * v * w * w;
    }
    bin_norm_[static_cast<std::size_t>(b)] = n;
    bin_count_[static_cast<std::size_t>(b)] = c;
    bin_c2w2_[static_cast<std::size_t>(b)] = c2w2;
  });

  // 2D without splitting: each pixel feeds one bin with fraction 1.
  if (two_d && split == Splitting::no) {
    pixel_bin_.assign(N, -1);
    for (std::int64_t b = 0; b < n_bins; ++b)
      for (std::int64_t e = csr_.row_start[static_cast<std::size_t>(b)]; e < csr_.row_start[static_cast<std::size_t>(b) + 1];
           ++e)
        pixel_bin_[static_cast<std::size_t>(csr_.pixel[static_cast<std::size_t>(csr_.column[static_cast<std::size_t>(e)])])] =
            static_cast<std::int32_t>(b);
  }

  // 1D: the same matrix by image pixel, for the pixel-order fast path.
  if (!two_d) {
    csc_start_.assign(N + 1, 0);
    for (std::size_t e = 0; e < csr_.column.size(); ++e)
      ++csc_start_[static_cast<std::size_t>(csr_.pixel[static_cast<std::size_t>(csr_.column[e])]) + 1];
    for (std::size_t p = 0; p < N; ++p) csc_start_[p + 1] += csc_start_[p];
    csc_bin_.resize(csr_.column.size());
    csc_value_.resize(csr_.column.size());
    std::vector<std::int64_t> at(csc_start_.begin(), csc_start_.end() - 1);
    for (std::int64_t b = 0; b < n_bins; ++b)
      for (std::int64_t e = csr_.row_start[static_cast<std::size_t>(b)]; e < csr_.row_start[static_cast<std::size_t>(b) + 1];
           ++e) {
        const auto p = static_cast<std::size_t>(csr_.pixel[static_cast<std::size_t>(csr_.column[static_cast<std::size_t>(e)])]);
        const auto k = static_cast<std::size_t>(at[p]++);
        csc_bin_[k] = static_cast<std::int32_t>(b);
        csc_value_[k] = csr_.value[static_cast<std::size_t>(e)];
      }
  }
}

namespace {

// Σ v[e]·x[col[e]] over one matrix row, four independent partial sums (the order is fixed, so the
// result does not depend on threads).
inline double row_dot(const float* val, const std::int32_t* col, std::int64_t e0, std::int64_t e1, const float* x) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t e = e0;
  for (; e + 4 <= e1; e += 4) {
    s0 += static_cast<double>(val[e]) * x[col[e]];
    s1 += static_cast<double>(val[e + 1]) * x[col[e + 1]];
    s2 += static_cast<double>(val[e + 2]) * x[col[e + 2]];
    s3 += static_cast<double>(val[e + 3]) * x[col[e + 3]];
  }
  for (; e < e1; ++e) s0 += static_cast<double>(val[e]) * x[col[e]];
  return (s0 + s1) + (s2 + s3);
}

// The Poisson variance max(1, raw) (+ dark) is needed by these models (hybrid: for the result).
bool uses_poisson_variance(ErrorModel m) { return m == ErrorModel::poisson || m == ErrorModel::hybrid; }

}  // namespace

std::vector<float> AzimuthalIntegrator::take_buffer() const {
  std::lock_guard lock(pool_mutex_);
  if (pool_.empty()) return std::vector<float>(static_cast<std::size_t>(csr_.cols));
  std::vector<float> b = std::move(pool_.back());
  pool_.pop_back();
  return b;
}

void AzimuthalIntegrator::give_buffer(std::vector<float> buffer) const {
  std::lock_guard lock(pool_mutex_);
  if (pool_.size() < 8) pool_.push_back(std::move(buffer));
}

IntegrationResult AzimuthalIntegrator::integrate(const Array& frame, const FrameCorrections& corr) const {
  IntegrationResult res;
  integrate(frame, corr, res);
  return res;
}

bool AzimuthalIntegrator::preprocess(const Array& frame, const FrameCorrections& corr, std::vector<float>& signal,
                                     std::vector<float>& variance) const {
  if (frame.rank() != 2 || frame.shape(0) != rows_ || frame.shape(1) != cols_)
    throw InvalidArgument(fmt::format("frame has shape {}; the detector is ({}, {})", shape_string(frame.shape()),
                                      rows_, cols_));
  const Array input = frame.is_contiguous() ? frame : frame.copy();
  std::vector<float> dark;
  if (!corr.dark.empty()) dark = as_float(corr.dark, rows_, cols_, "dark");
  const auto N = static_cast<std::size_t>(csr_.cols);  // pixels feeding at least one bin
  const std::int32_t* pixel = csr_.pixel.data();
  const bool poisson = uses_poisson_variance(corr.error_model);
  const bool checks = corr.dummy || corr.valid_min || corr.valid_max;

  // Pass 1 (per pixel, in the input's dtype): signal x = raw − dark in float32 (pyFAI's), NaN for
  // invalid pixels; the Poisson variance max(1, raw) (+ dark).
  signal.resize(N);
  variance.resize(poisson ? N : 0);
  std::atomic<std::int64_t> n_invalid{0};
  visit_dtype(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* raw = reinterpret_cast<const T*>(input.bytes());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, N, 1 << 15), [&](const tbb::blocked_range<std::size_t>& r) {
      std::int64_t bad = 0;
      for (std::size_t k = r.begin(); k < r.end(); ++k) {
        const auto p = static_cast<std::size_t>(pixel[k]);
        const float v = static_cast<float>(raw[p]);
        float x = dark.empty() ? v : v - dark[p];
        bool ok = std::isfinite(x);
        if (checks) {
          if (ok && corr.dummy)
            ok = corr.delta_dummy == 0 ? v != *corr.dummy : std::abs(v - *corr.dummy) > corr.delta_dummy;
          if (ok && corr.valid_min) ok = v >= *corr.valid_min;
          if (ok && corr.valid_max) ok = v <= *corr.valid_max;
        }
        if (poisson) {
          const float var = std::max(1.0f, v) + (dark.empty() ? 0.0f : dark[p]);
          ok = ok && std::isfinite(var);
          variance[k] = ok ? var : 0.0f;
        }
        if (!ok) {
          x = std::numeric_limits<float>::quiet_NaN();
          ++bad;
        }
        signal[k] = x;
      }
      if (bad) n_invalid += bad;
    });
  });
  return n_invalid.load() > 0;
}

bool AzimuthalIntegrator::integrate_by_pixels(const Array& frame, const FrameCorrections& corr,
                                              IntegrationResult& res) const {
  if (csc_start_.empty() || corr.error_model == ErrorModel::azimuthal || corr.dummy || corr.valid_min ||
      corr.valid_max || !frame.is_contiguous() || frame.rank() != 2 || frame.shape(0) != rows_ ||
      frame.shape(1) != cols_)
    return false;
  std::vector<float> dark;
  if (!corr.dark.empty()) dark = as_float(corr.dark, rows_, cols_, "dark");
  const bool poisson = uses_poisson_variance(corr.error_model);
  const auto B = static_cast<std::size_t>(csr_.rows);
  const std::int64_t n_chunks = (rows_ + rows_per_chunk - 1) / rows_per_chunk;
  // Per chunk of image rows: Σ c·x (and Σ c²·σ²) per bin; merged in chunk order (deterministic).
  std::vector<double> sums(static_cast<std::size_t>(n_chunks) * B * (poisson ? 2 : 1), 0.0);
  std::atomic<bool> invalid{false};
  visit_dtype(frame.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* raw = reinterpret_cast<const T*>(frame.bytes());
    tbb::parallel_for(std::int64_t{0}, n_chunks, [&](std::int64_t chunk) {
      double* acc = sums.data() + static_cast<std::size_t>(chunk) * B * (poisson ? 2 : 1);
      double* acc_var = acc + B;
      const auto p0 = static_cast<std::size_t>(chunk * rows_per_chunk * cols_);
      const auto p1 = static_cast<std::size_t>(std::min(rows_, (chunk + 1) * rows_per_chunk) * cols_);
      for (std::size_t p = p0; p < p1; ++p) {
        const auto e0 = csc_start_[p], e1 = csc_start_[p + 1];
        if (e0 == e1) continue;
        const float v = static_cast<float>(raw[p]);
        const float x = dark.empty() ? v : v - dark[p];
        if (!std::isfinite(x)) {
          invalid = true;
          return;
        }
        for (std::int64_t e = e0; e < e1; ++e)
          acc[csc_bin_[static_cast<std::size_t>(e)]] += static_cast<double>(csc_value_[static_cast<std::size_t>(e)]) * x;
        if (poisson) {
          const double var = std::max(1.0f, v) + (dark.empty() ? 0.0f : dark[p]);
          for (std::int64_t e = e0; e < e1; ++e) {
            const double c = csc_value_[static_cast<std::size_t>(e)];
            acc_var[csc_bin_[static_cast<std::size_t>(e)]] += c * c * var;
          }
        }
      }
    });
  });
  if (invalid) return false;
  res.intensity.resize(B);
  res.sum_signal.resize(corr.keep_sums ? B : 0);
  res.sum_normalization.resize(corr.keep_sums ? B : 0);
  res.count.resize(corr.keep_sums ? B : 0);
  res.sigma.resize(poisson ? B : 0);
  for (std::size_t b = 0; b < B; ++b) {
    double s = 0, var = 0;
    for (std::int64_t chunk = 0; chunk < n_chunks; ++chunk) {
      const double* acc = sums.data() + static_cast<std::size_t>(chunk) * B * (poisson ? 2 : 1);
      s += acc[b];
      if (poisson) var += acc[B + b];
    }
    const double n = bin_norm_[b];
    res.intensity[b] = n != 0 ? s / n : corr.empty;
    if (poisson) res.sigma[b] = n != 0 ? std::sqrt(var) / n : corr.empty;
    if (corr.keep_sums) {
      res.sum_signal[b] = s;
      res.sum_normalization[b] = n;
      res.count[b] = bin_count_[b];
    }
  }
  fill_positions(res);
  return true;
}

bool AzimuthalIntegrator::integrate_integer_no_split(const Array& frame, const FrameCorrections& corr,
                                                     IntegrationResult& res) const {
  const DType t = frame.dtype();
  const bool integer = t == DType::u8 || t == DType::u16 || t == DType::u32 || t == DType::i32;
  if (pixel_bin_.empty() || !integer || !corr.dark.empty() || corr.error_model == ErrorModel::azimuthal ||
      corr.dummy || corr.valid_min || corr.valid_max || !frame.is_contiguous() || frame.rank() != 2 ||
      frame.shape(0) != rows_ || frame.shape(1) != cols_)
    return false;
  const bool poisson = uses_poisson_variance(corr.error_model);
  const auto B = static_cast<std::size_t>(csr_.rows);
  const std::size_t width = poisson ? 2 * B : B;  // Σ x, then Σ σ² per bin
  const std::int32_t* bin = pixel_bin_.data();
  // Per-thread exact sums (integer-valued float32 values below 2^63 in total).
  tbb::enumerable_thread_specific<std::vector<std::int64_t>> partial([&] { return std::vector<std::int64_t>(width, 0); });
  visit_dtype(t, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T> && sizeof(T) <= 4) {
      const T* raw = reinterpret_cast<const T*>(frame.bytes());
      const auto n_pix = static_cast<std::size_t>(rows_ * cols_);
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_pix, 1 << 16), [&](const tbb::blocked_range<std::size_t>& r) {
        std::int64_t* acc = partial.local().data();
        for (std::size_t p = r.begin(); p < r.end(); ++p) {
          const std::int32_t b = bin[p];
          if (b < 0) continue;
          const float v = static_cast<float>(raw[p]);  // pyFAI's float32 value, an integer
          acc[b] += static_cast<std::int64_t>(v);
          if (poisson) acc[B + static_cast<std::size_t>(b)] += static_cast<std::int64_t>(std::max(1.0f, v));
        }
      });
    }
  });
  std::vector<std::int64_t> sums(width, 0);
  for (const auto& acc : partial)
    for (std::size_t k = 0; k < width; ++k) sums[k] += acc[k];
  res.intensity.resize(B);
  res.sum_signal.resize(corr.keep_sums ? B : 0);
  res.sum_normalization.resize(corr.keep_sums ? B : 0);
  res.count.resize(corr.keep_sums ? B : 0);
  res.sigma.resize(poisson ? B : 0);
  for (std::size_t b = 0; b < B; ++b) {
    const auto s = static_cast<double>(sums[b]);
    const double n = bin_norm_[b];
    res.intensity[b] = n != 0 ? s / n : corr.empty;
    if (poisson) res.sigma[b] = n != 0 ? std::sqrt(static_cast<double>(sums[B + b])) / n : corr.empty;
    if (corr.keep_sums) {
      res.sum_signal[b] = s;
      res.sum_normalization[b] = n;
      res.count[b] = bin_count_[b];
    }
  }
  fill_positions(res);
  return true;
}

void AzimuthalIntegrator::integrate(const Array& frame, const FrameCorrections& corr, IntegrationResult& res) const {
  if (integrate_by_pixels(frame, corr, res) || integrate_integer_no_split(frame, corr, res)) return;
  const bool poisson = uses_poisson_variance(corr.error_model);
  const bool azimuthal = corr.error_model == ErrorModel::azimuthal;
  std::vector<float> signal = take_buffer(), variance;
  const bool any_invalid = preprocess(frame, corr, signal, variance);

  // Pass 2 (per bin): sums over the matrix row.
  const std::int64_t n_bins = csr_.rows;
  const auto B = static_cast<std::size_t>(n_bins);
  res.intensity.resize(B);
  res.sum_signal.resize(corr.keep_sums ? B : 0);
  res.sum_normalization.resize(corr.keep_sums ? B : 0);
  res.count.resize(corr.keep_sums ? B : 0);
  res.sigma.resize(corr.error_model != ErrorModel::none ? B : 0);
  const float* val = csr_.value.data();
  const std::int32_t* col = csr_.column.data();
  const float* x = signal.data();
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n_bins, 256), [&](const tbb::blocked_range<std::int64_t>& r) {
    for (std::int64_t b = r.begin(); b < r.end(); ++b) {
      const auto bb = static_cast<std::size_t>(b);
      const std::int64_t e0 = csr_.row_start[bb], e1 = csr_.row_start[bb + 1];
      double s = 0, n = bin_norm_[bb], c = corr.keep_sums ? bin_count_[bb] : 0, var = 0;
      if (!any_invalid) {
        s = row_dot(val, col, e0, e1, x);
      } else {
        n = 0, c = 0;
        for (std::int64_t e = e0; e < e1; ++e) {
          const auto p = static_cast<std::size_t>(col[e]);
          if (std::isnan(x[p])) continue;
          const double v = val[e];
          s += v * x[p], n += v * norm_[p], c += v;
        }
      }
      if (poisson) {
        for (std::int64_t e = e0; e < e1; ++e) {
          const double v = val[e];
          var += v * v * variance[static_cast<std::size_t>(col[e])];
        }
      } else if (azimuthal && n != 0) {
        // Σ c²·ω²·(x/ω − Ī)² with Ī = Σ c·x / Σ c·ω, over the valid pixels.
        const double mean = s / n;
        for (std::int64_t e = e0; e < e1; ++e) {
          const auto p = static_cast<std::size_t>(col[e]);
          if (std::isnan(x[p])) continue;
          const double v = val[e];
          const double dev = x[p] - norm_[p] * mean;
          var += v * v * dev * dev;
        }
      }
      if (corr.keep_sums) {
        res.sum_signal[bb] = s;
        res.sum_normalization[bb] = n;
        res.count[bb] = c;
      }
      res.intensity[bb] = n != 0 ? s / n : corr.empty;
      if (!res.sigma.empty()) res.sigma[bb] = n != 0 ? std::sqrt(var) / n : corr.empty;
    }
  });
  give_buffer(std::move(signal));
  fill_positions(res);
}

void AzimuthalIntegrator::fill_positions(IntegrationResult& res) const {
  const double scale = unit_scale(setup_.unit);
  const std::int64_t bins0 = setup_.npt_rad;
  const double delta0 = (rad_max_ - rad_min_) / static_cast<double>(bins0);
  res.radial.resize(static_cast<std::size_t>(bins0));
  for (std::int64_t k = 0; k < bins0; ++k)
    res.radial[static_cast<std::size_t>(k)] = (rad_min_ + (static_cast<double>(k) + 0.5) * delta0) * scale;
  if (setup_.npt_azim > 0) {
    const double delta1 = (azim_max_ - azim_min_) / static_cast<double>(setup_.npt_azim);
    res.azimuthal.resize(static_cast<std::size_t>(setup_.npt_azim));
    for (std::int64_t k = 0; k < setup_.npt_azim; ++k)
      res.azimuthal[static_cast<std::size_t>(k)] = (azim_min_ + (static_cast<double>(k) + 0.5) * delta1) * 180.0 / pi;
  } else {
    res.azimuthal.clear();
  }
}

IntegrationResult AzimuthalIntegrator::median_filter(const Array& frame, const FrameCorrections& corr, double q_min,
                                                     double q_max) const {
  check_quantiles(q_min, q_max);
  const bool poisson = uses_poisson_variance(corr.error_model);
  const bool azimuthal = corr.error_model == ErrorModel::azimuthal;
  std::vector<float> signal = take_buffer(), variance;
  preprocess(frame, corr, signal, variance);
  const auto B = static_cast<std::size_t>(csr_.rows);
  IntegrationResult res;
  res.intensity.assign(B, corr.empty);
  if (corr.keep_sums) {
    res.sum_signal.assign(B, 0);
    res.sum_normalization.assign(B, 0);
    res.count.assign(B, 0);
  }
  if (corr.error_model != ErrorModel::none) res.sigma.assign(B, corr.empty);
  struct Item {
    float value, sig, var, norm;  // x/ω, c·x, c²·σ², c·ω (float32, as pyFAI sorts them)
  };
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, csr_.rows, 16), [&](const tbb::blocked_range<std::int64_t>& r) {
    std::vector<Item> items;
    for (std::int64_t b = r.begin(); b < r.end(); ++b) {
      const auto bb = static_cast<std::size_t>(b);
      items.clear();
      for (std::int64_t e = csr_.row_start[bb]; e < csr_.row_start[bb + 1]; ++e) {
        const auto k = static_cast<std::size_t>(csr_.column[static_cast<std::size_t>(e)]);
        const float x = signal[k];
        if (std::isnan(x)) continue;
        const float c = csr_.value[static_cast<std::size_t>(e)];
        items.push_back({x / norm_[k], x * c, poisson ? variance[k] * c * c : 0.0f, norm_[k] * c});
      }
      if (items.empty()) continue;
      std::sort(items.begin(), items.end(), [](const Item& a, const Item& b2) {
        return a.value != b2.value ? a.value < b2.value : a.sig < b2.sig;
      });
      double total = 0;
      for (const Item& it : items) total += it.norm;
      double lower = 0, s = 0, n = 0, c2w2 = 0, var = 0, cnt = 0;
      std::vector<const Item*> kept;
      for (const Item& it : items) {
        const double upper = lower + it.norm;
        if (upper >= q_min * total && lower <= q_max * total) {
          s += it.sig, n += it.norm, var += it.var, c2w2 += static_cast<double>(it.norm) * it.norm, cnt += 1;
          if (azimuthal) kept.push_back(&it);
        }
        lower = upper;
      }
      if (n == 0) continue;
      const double mean = s / n;
      if (azimuthal) {
        var = 0;
        for (const Item* it : kept) {
          const double d = it->sig - it->norm * mean;  // c·(x − ω·I)
          var += d * d;
        }
      }
      res.intensity[bb] = mean;
      if (!res.sigma.empty()) res.sigma[bb] = std::sqrt(var) / n;
      if (corr.keep_sums) {
        res.sum_signal[bb] = s;
        res.sum_normalization[bb] = n;
        res.count[bb] = cnt;
      }
    }
  });
  give_buffer(std::move(signal));
  fill_positions(res);
  return res;
}

IntegrationResult AzimuthalIntegrator::sigma_clip(const Array& frame, const FrameCorrections& corr, double threshold,
                                                  int max_iter) const {
  check_sigma_clip(corr.error_model, threshold, max_iter);
  const bool poisson_result = uses_poisson_variance(corr.error_model);
  const bool azimuthal_clip = corr.error_model != ErrorModel::poisson;
  std::vector<float> signal = take_buffer(), variance;
  preprocess(frame, corr, signal, variance);
  const auto B = static_cast<std::size_t>(csr_.rows);
  IntegrationResult res;
  res.intensity.assign(B, corr.empty);
  res.sigma.assign(B, corr.empty);
  res.std_dev.assign(B, corr.empty);
  if (corr.keep_sums) {
    res.sum_signal.assign(B, 0);
    res.sum_normalization.assign(B, 0);
    res.count.assign(B, 0);
  }
  // pyFAI takes a bin's entries in image-pixel order; without splitting the matrix's column order
  // is that order already (each pixel feeds one bin), with splitting the entries are sorted.
  const bool sort_by_pixel = setup_.splitting != Splitting::no;
  struct Item {
    std::int32_t pixel;
    float c, x, var, w;  // fraction, signal, Poisson variance, ω (all float32, as pyFAI's)
  };
  struct Sums {
    double s = 0, n = 0, n2 = 0, var = 0, count = 0;
  };
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, csr_.rows, 64), [&](const tbb::blocked_range<std::int64_t>& r) {
    std::vector<Item> items;
    std::vector<std::uint8_t> kept;
    for (std::int64_t b = r.begin(); b < r.end(); ++b) {
      const auto bb = static_cast<std::size_t>(b);
      items.clear();
      for (std::int64_t e = csr_.row_start[bb]; e < csr_.row_start[bb + 1]; ++e) {
        const auto k = static_cast<std::size_t>(csr_.column[static_cast<std::size_t>(e)]);
        const float x = signal[k], c = csr_.value[static_cast<std::size_t>(e)];
        if (std::isnan(x) || c == 0) continue;
        items.push_back({csr_.pixel[k], c, x, variance.empty() ? 0.0f : variance[k], norm_[k]});
      }
      if (items.empty()) continue;
      if (sort_by_pixel)
        std::sort(items.begin(), items.end(), [](const Item& a, const Item& b2) { return a.pixel < b2.pixel; });
      kept.assign(items.size(), 1);
      // Sums over the kept entries; `azimuthal`: V by the weighted running update.
      auto accumulate = [&](bool azimuthal) {
        Sums t;
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (!kept[i]) continue;
          const Item& it = items[i];
          const double c = it.c, w = c * it.w;
          if (azimuthal && t.n != 0) {
            const double v = static_cast<double>(it.x) / it.w;  // this pixel's x/ω
            const double before = t.s / t.n - v;
            t.s += c * it.x, t.n += w, t.n2 += w * w;
            t.var += w * w * before * (t.s / t.n - v);
          } else {
            t.s += c * it.x, t.n += w, t.n2 += w * w;
            if (!azimuthal) t.var += c * c * it.var;
          }
          t.count += c;
        }
        return t;
      };
      Sums t = accumulate(corr.error_model == ErrorModel::azimuthal || (azimuthal_clip && max_iter > 0));
      for (int iter = 0; iter < max_iter && t.n != 0 && t.count != 0; ++iter) {
        const double mean = t.s / t.n, std_dev = std::sqrt(t.var / t.n2);
        const double k =
            std::max(threshold, std::sqrt(2.0 * std::log(std::max(3.0, t.count) / std::sqrt(2.0 * pi))));
        std::size_t dropped = 0;
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (kept[i] && std::abs(static_cast<double>(items[i].x) / items[i].w - mean) > k * std_dev) {
            kept[i] = 0;
            ++dropped;
          }
        }
        // Hybrid: the last sums (nothing more dropped, or the last iteration) use the Poisson σ².
        const bool last = dropped == 0 || iter + 1 == max_iter;
        if (dropped == 0 && !(poisson_result && azimuthal_clip)) break;
        t = accumulate(azimuthal_clip && !(poisson_result && last));
        if (dropped == 0) break;
      }
      if (t.n == 0 || t.count == 0) continue;
      res.intensity[bb] = t.s / t.n;
      res.std_dev[bb] = std::sqrt(t.var / t.n2);
      res.sigma[bb] = std::sqrt(t.var) / t.n;
      if (corr.keep_sums) {
        res.sum_signal[bb] = t.s;
        res.sum_normalization[bb] = t.n;
        res.count[bb] = t.count;
      }
    }
  });
  give_buffer(std::move(signal));
  fill_positions(res);
  return res;
}

}  // namespace scandiff::xray
