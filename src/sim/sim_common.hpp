// Private helpers shared by the generators: seeding, the Poisson sampler, the ellipse
// matrices, parameter checks and the final write of a frame in the output dtype.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "scandiff/core/dtype.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/sim/frame_generator.hpp"

namespace scandiff::sim::detail {

// splitmix64 finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The per-frame generator: splitmix64 seeded from (seed, frame index).
class FrameRng {
 public:
  FrameRng(std::uint64_t seed, std::int64_t frame)
      : state_(mix64(mix64(seed ^ 0x5ca9d1ff5ca9d1ffULL) + static_cast<std::uint64_t>(frame))) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    return mix64(z);
  }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

// Poisson draws with the mean of the previous call cached (neighbouring pixels often share
// it). Mean < 10: multiplication (Knuth) method; mean >= 10: PTRS transformed rejection
// (Hörmann 1993), as numpy's legacy generator does.
class PoissonSampler {
 public:
  std::int64_t operator()(FrameRng& rng, double mean);

 private:
  void setup(double mean);
  double mean_ = -1;
  double exp_neg_mean_ = 0;                      // small means
  double log_mean_ = 0, b_ = 0, a_ = 0, inv_alpha_ = 0, vr_ = 0, log_inv_alpha_ = 0;  // PTRS
};

// 2x2 matrix [[m00, m01], [m10, m11]] acting on (x, y).
struct Mat2 {
  double m00 = 1, m01 = 0, m10 = 0, m11 = 1;
  Vec2 operator()(Vec2 v) const { return {m00 * v.x + m01 * v.y, m10 * v.x + m11 * v.y}; }
};
// R(theta)·diag(s, 1)·R(theta)^T.
Mat2 axis_scale(double theta, double s);
inline Mat2 distortion_matrix(const EllipseDistortion& e) { return axis_scale(e.theta_rad, e.ratio); }
inline Mat2 correction_matrix(const EllipseDistortion& e) { return axis_scale(e.theta_rad, 1 / e.ratio); }

// Parameter checks: throw InvalidArgument("sim: <name> must be ... (got v)").
void require(bool ok, std::string_view name, std::string_view expectation, double got);
void require_finite(double v, std::string_view name);
void require_positive(double v, std::string_view name);      // finite and > 0
void require_non_negative(double v, std::string_view name);  // finite and >= 0
void require_shape(std::int64_t v, std::string_view name);   // > 0
// Scan and frame extents: each in [1, 2^24], so sizes and byte counts cannot overflow.
void require_frame_size(std::int64_t fy, std::int64_t fx, std::int64_t sy, std::int64_t sx);
void require_ellipse(const EllipseDistortion& e);

// Throws InvalidArgument unless [first, first + count) lies within `frames` frames.
void check_range(std::string_view what, std::int64_t first, std::int64_t count, std::int64_t frames);

// Writes one frame of expected counts (`expected`, already scaled by the dose) to `dst` in
// `dtype`: rounded and clipped (integer dtypes) or as is (float), or one Poisson draw per
// pixel from `rng` when noise is Poisson.
void write_frame(std::span<const double> expected, DType dtype, Noise noise, FrameRng& rng, PoissonSampler& poisson,
                 std::byte* dst);

Metadata to_json(Vec2 v);
Metadata to_json(const EllipseDistortion& e);

// What every generator's info() starts from: `path`, format "simulated", the scan and frame shape
// and dtype of its parameters `p`, and `parameters` as metadata["simulation"].
template <class Params>
io::DatasetInfo simulated_info(std::string_view path, const Params& p, Metadata parameters) {
  io::DatasetInfo info;
  info.path = std::string(path);
  info.format = "simulated";
  info.scan_y = p.scan_y;
  info.scan_x = p.scan_x;
  info.frame_y = p.frame_y;
  info.frame_x = p.frame_x;
  info.dtype = p.dtype;
  info.metadata["simulation"] = std::move(parameters);
  return info;
}

// The first fields of every generator's parameter record: its name, the shape and the dtype.
template <class Params>
Metadata parameter_header(std::string_view generator, const Params& p) {
  Metadata m;
  m["generator"] = std::string(generator);
  m["scan_y"] = p.scan_y;
  m["scan_x"] = p.scan_x;
  m["frame_y"] = p.frame_y;
  m["frame_x"] = p.frame_x;
  m["dtype"] = std::string(name_of(p.dtype));
  return m;
}

}  // namespace scandiff::sim::detail
