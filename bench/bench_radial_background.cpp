// Per-pattern cost of py4DSTEM's radial background (stem/radial_background.hpp) on a 256 x 256
// float64 pattern, one thread, PolarDatacube's default bins (qstep 1 px, 180 annular bins):
//   - ConstantOrigin: the polar plan built once (a global origin), then per pattern the polar
//     image, the median over angle per radial bin, the profile smoothing and the subtraction;
//   - OriginMap: a different origin at every pattern (a fitted origin map), so the plan is
//     rebuilt each time as well;
//   - PlanOnly: the plan alone (PolarTransform construction).
//
//   bench_radial_background [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "scandiff/stem/polar_transform.hpp"
#include "scandiff/stem/radial_background.hpp"

using namespace scandiff;
using namespace scandiff::stem;

namespace {

constexpr std::int64_t N = 256;

// Rings and a decaying background plus Poisson-like noise, about (127.4, 128.7).
const std::vector<double>& pattern() {
  static const std::vector<double> f = [] {
    std::vector<double> v(static_cast<std::size_t>(N * N));
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0, 1);
    for (std::int64_t y = 0; y < N; ++y)
      for (std::int64_t x = 0; x < N; ++x) {
        const double r = std::hypot(static_cast<double>(y) - 127.4, static_cast<double>(x) - 128.7);
        const double mean = 20 + 500 * std::exp(-r / 30) + 80 * std::exp(-(r - 70) * (r - 70) / 18);
        v[static_cast<std::size_t>(y * N + x)] = std::max(0.0, mean + std::sqrt(mean) * noise(rng));
      }
    return v;
  }();
  return f;
}

const Ellipse ellipse{41.0, 40.0, 0.3};

void ConstantOrigin(benchmark::State& state) {
  const RadialBackground rb(N, N, ellipse, PolarOptions{});
  RadialBackground::Workspace ws;
  std::vector<double> frame;
  for (auto _ : state) {
    frame = pattern();
    rb.subtract(frame.data(), 127.4, 128.7, ws);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void OriginMap(benchmark::State& state) {
  const RadialBackground rb(N, N, ellipse, PolarOptions{});
  RadialBackground::Workspace ws;
  std::vector<double> frame;
  std::int64_t k = 0;
  for (auto _ : state) {
    frame = pattern();
    const double shift = 0.01 * static_cast<double>(k++ % 100);  // a new origin every pattern
    rb.subtract(frame.data(), 127.4 + shift, 128.7 - shift, ws);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void PlanOnly(benchmark::State& state) {
  for (auto _ : state) {
    const PolarTransform t(N, N, 127.4, 128.7, ellipse, PolarOptions{});
    benchmark::DoNotOptimize(&t);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(ConstantOrigin)->Unit(benchmark::kMicrosecond);
BENCHMARK(OriginMap)->Unit(benchmark::kMicrosecond);
BENCHMARK(PlanOnly)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
