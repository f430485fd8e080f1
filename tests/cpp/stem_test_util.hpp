// Helpers shared by the stem tests: random and simulated scans, direct (naive) reference computations.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/sim/crystal_scan.hpp"

namespace scandiff::test {

// A (sy, sx) scan of 96x96 uint16 frames: a crystal (g1 = (22, 4), g2 = (-6, 20) px, disks of
// radius 5 px, central disk 100 counts at (46.3, 49.1)) over an amorphous ring (radius 38 px)
// and 0.2 counts background. Noise, descan, strain and seed are left to the test.
inline sim::CrystalScanParams disk_scan_96(std::int64_t sy, std::int64_t sx) {
  sim::CrystalScanParams p;
  p.scan_y = sy;
  p.scan_x = sx;
  p.frame_y = p.frame_x = 96;
  p.dtype = DType::u16;
  p.g1_px = {22, 4};
  p.g2_px = {-6, 20};
  p.max_g_px = 45;
  p.disk_radius_px = 5;
  p.central_intensity = 100;
  p.ring_radius_px = 38;
  p.ring_intensity = 3;
  p.background = 0.2;
  p.origin_qy_px = 46.3;
  p.origin_qx_px = 49.1;
  return p;
}

// (sy, sx, fy, fx) scan of random values: integers in [0, 4000), floats in [0, 1000/7).
template <class T>
inline Array random_scan(std::int64_t sy, std::int64_t sx, std::int64_t fy, std::int64_t fx, unsigned seed) {
  Array a(dtype_v<T>, {sy, sx, fy, fx});
  std::mt19937 rng(seed);
  T* p = a.data<T>();
  for (std::int64_t i = 0; i < a.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      p[i] = static_cast<T>(std::uniform_real_distribution<double>(0, 1000)(rng) / 7.0);
    else
      p[i] = static_cast<T>(rng() % 4000);
  }
  return a;
}

// Value of pixel (i, j) of frame (y, x) of a 4D array, as double.
inline double at(const Array& scan, std::int64_t y, std::int64_t x, std::int64_t i, std::int64_t j) {
  return visit_dtype(scan.dtype(), [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(scan.view<const T, 4>()(y, x, i, j));
  });
}

inline std::int64_t wrap(std::int64_t v, std::int64_t n) { return ((v % n) + n) % n; }

// numpy.roll of a (H, W) float64 array by (sy, sx).
inline std::vector<double> roll(const std::vector<double>& a, std::int64_t H, std::int64_t W, std::int64_t sy,
                                std::int64_t sx) {
  std::vector<double> out(a.size());
  for (std::int64_t i = 0; i < H; ++i)
    for (std::int64_t j = 0; j < W; ++j)
      out[static_cast<std::size_t>(wrap(i + sy, H) * W + wrap(j + sx, W))] = a[static_cast<std::size_t>(i * W + j)];
  return out;
}

// Runs the analyses over an in-memory scan with `threads` threads and blocks of `block` frames.
inline void run_on(const Array& scan, std::initializer_list<engine::Analysis*> analyses, const Calibration& cal = {},
                   int threads = 2, std::int64_t block = 3) {
  io::MemorySource src(scan, cal);
  std::vector<engine::Analysis*> list(analyses);
  engine::RunOptions o;
  o.threads = threads;
  o.block_frames = block;
  engine::run(src, list, o);
}

// Per-position origin maps (ry, rx) with fractional shifts that avoid exact halves.
inline void set_origin_maps(Calibration& cal, std::int64_t sy, std::int64_t sx, double qy0, double qx0,
                            unsigned seed, double spread = 2.6) {
  cal.origin_qy_map = Array(DType::f64, {sy, sx});
  cal.origin_qx_map = Array(DType::f64, {sy, sx});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-spread, spread);
  double* py = cal.origin_qy_map.data<double>();
  double* px = cal.origin_qx_map.data<double>();
  for (std::int64_t k = 0; k < sy * sx; ++k) {
    py[k] = qy0 + u(rng);
    px[k] = qx0 + u(rng);
  }
}

inline double map_mean(const Array& m) {
  double s = 0;
  const double* p = m.data<double>();
  for (std::int64_t k = 0; k < m.size(); ++k) s += p[k];
  return s / static_cast<double>(m.size());
}

}  // namespace scandiff::test
