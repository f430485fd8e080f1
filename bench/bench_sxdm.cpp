// SXDM maps: ROI + centroid maps in one pass over a simulated 26-ID-C-like scan (516x516 int32
// frames, sim::SxdmScan, noise-free so the simulator renders at memory speed), streamed from the
// simulator without touching the disk, within a memory budget; prints GB/s, frames/s and the
// peak resident set (VmHWM after resetting it through /proc/self/clear_refs).
//
//   bench_sxdm [--gib 20] [--memory-mib 1024] [--threads 0] [--boxes 4] [--hot-pixels]
//       the budget run: CentroidMaps (whole frame, sxdm segmentation) + RoiMaps (--boxes boxes);
//       --hot-pixels adds the 2-D selective median stage (d = 1, height 1000).
//   bench_sxdm --roi-scaling [--frames 200]
//       ROI maps over the same frames held in memory, one thread: one 160x160 box against the same
//       pixels as 16 boxes of 40x40 (the cost of many boxes against one).
// Exit status 5 when the peak RSS exceeds the budget.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/sim/sxdm_scan.hpp"
#include "scandiff/sxdm/centroid_maps.hpp"
#include "scandiff/sxdm/hot_pixel_filter.hpp"
#include "scandiff/sxdm/roi_maps.hpp"
#include "rate_reporter.hpp"

using namespace scandiff;

namespace {

std::vector<sxdm::DetectorBox> boxes(int n) {
  std::vector<sxdm::DetectorBox> out;
  for (int k = 0; k < n; ++k) {  // 40x40 boxes tiled over the middle of the detector
    const std::int64_t x0 = 100 + 40 * (k % 8), y0 = 180 + 40 * (k / 8);
    out.push_back({x0, y0, x0 + 40, y0 + 40});
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int roi_scaling(std::int64_t frames) {
  sim::SxdmScanParams p;
  p.scan_y = 1;
  p.scan_x = frames;
  p.noise = sim::Noise::poisson;
  sim::SimulatedSource sim_source(std::make_shared<const sim::SxdmScan>(p));
  Array data(p.dtype, {1, frames, p.frame_y, p.frame_x});
  sim_source.read(0, frames, data.bytes());
  io::MemorySource source(data);
  // The same 160x160 pixels as one box and as 16 boxes of 40x40 (boxes(16) tiles 320x80: use a
  // 4x4 tiling here), so the two passes read the same pixels.
  std::vector<sxdm::DetectorBox> sixteen;
  for (int k = 0; k < 16; ++k)
    sixteen.push_back({180 + 40 * (k % 4), 180 + 40 * (k / 4), 220 + 40 * (k % 4), 220 + 40 * (k / 4)});
  const std::vector<sxdm::DetectorBox> sets[2] = {{{180, 180, 340, 340}}, sixteen};
  double t[2] = {0, 0};
  for (int r = 0; r < 3; ++r)  // best of three
    for (int i = 0; i < 2; ++i) {
      sxdm::RoiMaps roi(sets[i]);
      engine::Analysis* list[] = {&roi};
      engine::RunOptions o;
      o.threads = 1;
      const auto t0 = std::chrono::steady_clock::now();
      engine::run(source, list, o);
      const double s = seconds_since(t0);
      t[i] = r == 0 ? s : std::min(t[i], s);
    }
  const double gb = static_cast<double>(source.info().total_bytes()) / 1e9;
  std::printf("roi scaling: %lld frames of 516x516 int32 in memory, 1 thread, GB/s counted on whole frames: one "
              "160x160 box %.4f s (%.1f GB/s), the same pixels as 16 boxes of 40x40 %.4f s (%.1f GB/s): %.2fx\n",
              static_cast<long long>(frames), t[0], gb / t[0], t[1], gb / t[1], t[1] / t[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double gib = 20;
  long long memory_mib = 1024, frames = 200;
  int threads = 0, n_boxes = 4;
  bool hot = false, scaling = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gib") == 0 && i + 1 < argc) gib = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--memory-mib") == 0 && i + 1 < argc) memory_mib = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--boxes") == 0 && i + 1 < argc) n_boxes = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--frames") == 0 && i + 1 < argc) frames = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--hot-pixels") == 0) hot = true;
    else if (std::strcmp(argv[i], "--roi-scaling") == 0) scaling = true;
    else {
      std::fprintf(stderr, "bench_sxdm: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (scaling) return roi_scaling(frames);

  sim::SxdmScanParams p;  // 516x516 int32, noise-free, 4 hot pixels
  const double frame_bytes = static_cast<double>(p.frame_y * p.frame_x * 4);
  p.scan_x = 100;
  p.scan_y = std::max<std::int64_t>(1, static_cast<std::int64_t>(gib * 1073741824.0 / frame_bytes / 100));
  sim::SimulatedSource source(std::make_shared<const sim::SxdmScan>(p));

  const double baseline = status_mib("VmRSS");
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {  // "5": reset the peak RSS (VmHWM)
    std::fputs("5", f);
    std::fclose(f);
  }
  sxdm::CentroidMaps centroid({});
  sxdm::RoiMaps roi(boxes(n_boxes));
  sxdm::SelectiveMedianFrames stage({.half_window = 1, .height = 1000});
  engine::Analysis* list[] = {&centroid, &roi};
  engine::RunOptions o;
  o.threads = threads;
  o.memory_budget = static_cast<std::size_t>(memory_mib) << 20;
  if (hot) o.stages.push_back(&stage);
  const auto t0 = std::chrono::steady_clock::now();
  const engine::RunStats stats = engine::run(source, list, o);
  const double seconds = seconds_since(t0);
  const double peak = status_mib("VmHWM");
  const double bytes = static_cast<double>(source.info().total_bytes());
  std::printf("sxdm maps: %lld frames of 516x516 int32 (%.2f GB) simulated and streamed, centroid + %d ROI boxes%s, "
              "%d threads, budget %lld MiB: %.1f s, %.2f GB/s, %.0f frames/s; peak RSS %.1f MiB (%.1f MiB before "
              "the pass); blocks of %lld frames, %lld in flight\n",
              static_cast<long long>(source.info().frame_count()), bytes / 1e9, n_boxes,
              hot ? " + 2-D hot-pixel stage" : "", stats.threads, memory_mib, seconds, bytes / seconds / 1e9,
              static_cast<double>(source.info().frame_count()) / seconds, peak, baseline,
              static_cast<long long>(stats.block_frames), static_cast<long long>(stats.blocks_in_flight));
  return peak <= static_cast<double>(memory_mib) ? 0 : 5;
}
