// Azimuthal integration throughput: the CSR matrix (built once) applied to a Pilatus-1M-sized
// int32 image (1043 x 981, the CeO2_Pilatus1M geometry), 1D (1000 bins) and 2D (1000 x 360 bins),
// for each pixel splitting scheme, on 1..N threads; sigma clipping (1D, no splitting, azimuthal
// errors, threshold 5, 5 iterations); plus the one-off matrix build.
//
//   bench_azimuthal [--json RATES.json] [google-benchmark flags]
// bench/compare_pyfai.py runs this and pyFAI (integrate1d/2d, method (split, "csr", "cython"))
// on the same geometry and image size, 1 thread each.
#include <benchmark/benchmark.h>

#include <oneapi/tbb/task_arena.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "scandiff/xray/integrator.hpp"

#include "rate_reporter.hpp"

using namespace scandiff;
using namespace scandiff::xray;

namespace {

constexpr std::int64_t rows = 1043, cols = 981;

PoniGeometry pilatus_poni() {  // CeO2_Pilatus1M.poni (Dioptas test data)
  PoniGeometry p;
  p.pixel1_m = p.pixel2_m = 172e-6;
  p.distance_m = 0.208651380603;
  p.poni1_m = 0.0872948482846;
  p.poni2_m = 0.0799601126306;
  p.rot1_rad = -0.0184422457059;
  p.rot2_rad = 0.00413760084465;
  p.rot3_rad = -2.77645988275e-08;
  p.wavelength_m = 4.066e-11;
  return p;
}

const Array& image() {
  static const Array img = [] {
    Array a(DType::i32, {rows, cols});
    std::mt19937 rng(7);
    std::poisson_distribution<int> counts(200);
    for (std::int64_t p = 0; p < rows * cols; ++p) a.data<std::int32_t>()[p] = counts(rng);
    return a;
  }();
  return img;
}

IntegrationSetup setup(Splitting split, bool two_d) {
  IntegrationSetup s;
  s.unit = RadialUnit::q_nm;
  s.npt_rad = 1000;
  s.npt_azim = two_d ? 360 : 0;
  s.splitting = split;
  s.polarization_factor = 0.99;
  return s;
}

// Args: splitting (0 no, 1 bbox, 2 full), 2D (0/1), threads.
void BM_Integrate(benchmark::State& state) {
  const auto split = static_cast<Splitting>(state.range(0));
  tbb::task_arena arena(static_cast<int>(state.range(2)));
  std::unique_ptr<AzimuthalIntegrator> ai;
  arena.execute([&] {
    ai = std::make_unique<AzimuthalIntegrator>(DetectorGeometry(pilatus_poni(), rows, cols),
                                               setup(split, state.range(1) != 0));
  });
  IntegrationResult out;  // reused from frame to frame, as a series or a scan is integrated
  FrameCorrections corrections;
  corrections.keep_sums = false;  // intensity only
  for (auto _ : state) {
    arena.execute([&] { ai->integrate(image(), corrections, out); });
    benchmark::DoNotOptimize(out.intensity.data());
  }
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(state.iterations() * rows * cols * 4);
}

// Sigma clipping (pyFAI's sigma_clip_ng), 1D without splitting, azimuthal error model,
// threshold 5, at most 5 iterations. Args: threads.
void BM_SigmaClip(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  std::unique_ptr<AzimuthalIntegrator> ai;
  arena.execute([&] {
    ai = std::make_unique<AzimuthalIntegrator>(DetectorGeometry(pilatus_poni(), rows, cols), setup(Splitting::no, false));
  });
  FrameCorrections corrections;
  corrections.keep_sums = false;
  corrections.error_model = ErrorModel::azimuthal;
  for (auto _ : state) {
    IntegrationResult out;
    arena.execute([&] { out = ai->sigma_clip(image(), corrections, 5, 5); });
    benchmark::DoNotOptimize(out.intensity.data());
  }
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(state.iterations() * rows * cols * 4);
}

void BM_Build(benchmark::State& state) {
  const auto split = static_cast<Splitting>(state.range(0));
  tbb::task_arena arena(1);
  for (auto _ : state) {
    arena.execute([&] {
      AzimuthalIntegrator ai(DetectorGeometry(pilatus_poni(), rows, cols), setup(split, state.range(1) != 0));
      benchmark::DoNotOptimize(ai.matrix().value.data());
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json_path = argv[++i];
    else rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  const char* names[] = {"no", "bbox", "full"};
  for (int split = 0; split < 3; ++split)
    for (int two_d = 0; two_d < 2; ++two_d)
      for (int t = 1; t <= hw; t *= 2)
        benchmark::RegisterBenchmark((std::string(two_d ? "integrate2d_" : "integrate1d_") + names[split]).c_str(), BM_Integrate)
            ->Args({split, two_d, t})
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
  for (int t = 1; t <= hw; t *= 2)
    benchmark::RegisterBenchmark("sigma_clip1d_no", BM_SigmaClip)->Args({t})->UseRealTime()->Unit(benchmark::kMillisecond);
  for (int split = 0; split < 3; ++split)
    benchmark::RegisterBenchmark((std::string("build1d_") + names[split]).c_str(), BM_Build)
        ->Args({split, 0})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f) {
      std::perror(json_path.c_str());
      return 1;
    }
    std::fprintf(f, "{");
    const char* sep = "";
    for (const auto& [name, fps] : reporter.fps) {
      std::fprintf(f, "%s\"%s\": %.6g", sep, name.c_str(), fps);
      sep = ", ";
    }
    std::fprintf(f, "}\n");
    std::fclose(f);
  }
  benchmark::Shutdown();
  return 0;
}
