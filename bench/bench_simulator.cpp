// Simulator throughput: frames/s rendering a 256x256 uint16 strained-crystal scan with
// ~80 reflections, an amorphous ring, descan and ellipse, without and with Poisson noise,
// single thread (the engine renders frames in parallel, one block per thread).
#include <benchmark/benchmark.h>

#include <vector>

#include "scandiff/sim/crystal_scan.hpp"

using namespace scandiff;
using namespace scandiff::sim;

namespace {

CrystalScanParams scan(Noise noise) {
  CrystalScanParams p;
  p.scan_y = 64;
  p.scan_x = 64;
  p.frame_y = 256;
  p.frame_x = 256;
  p.g1_px = {22, 4};
  p.g2_px = {-6, 20};
  p.max_g_px = 110;
  p.disk_radius_px = 6;
  p.central_intensity = 200;
  p.intensity_sigma_px = 50;
  p.ring_radius_px = 70;
  p.ring_width_px = 6;
  p.ring_intensity = 5;
  p.background = 1;
  p.descan_per_rx_px = {0.02, 0.01};
  p.ellipse = {1.03, 0.5};
  p.strain.exx.bump = 0.01;
  p.strain.rotation_rad.wave = 0.005;
  p.noise = noise;
  return p;
}

void BM_RenderCrystalScan(benchmark::State& state) {
  const CrystalScan sim(scan(state.range(0) ? Noise::poisson : Noise::none));
  constexpr std::int64_t block = 16;
  std::vector<std::byte> buf(static_cast<std::size_t>(256 * 256 * 2 * block));
  std::int64_t frame = 0;
  for (auto _ : state) {
    sim.render(frame, block, buf.data());
    frame = (frame + block) % (64 * 64);
    benchmark::DoNotOptimize(buf.data());
  }
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * block), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block * 256 * 256 * 2));
  state.SetLabel(state.range(0) ? "poisson" : "no noise");
}

}  // namespace

BENCHMARK(BM_RenderCrystalScan)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
