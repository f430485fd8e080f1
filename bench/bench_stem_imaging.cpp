// STEM imaging throughput: bright field + annular dark field + centre of mass in ONE pass over a
// simulated uint16 dataset of 256x256 frames (a raw file written by the simulator, memory-mapped
// from the page cache), and the same over data in process memory; many detectors in one sweep
// per frame against one VirtualImage analysis per detector. In the same process, the references:
// one thread summing the in-memory data as 64-bit words (memory read bandwidth per core) and the
// page-cache mapping rate. Every benchmark measures the process's CPU time too: the summary gives
// wall-clock rates and rates per CPU second (best repetition; use --benchmark_repetitions=N),
// which on a machine shared with other work are the comparable per-core figures.
//
//   bench_stem_imaging [--size-mib 2048] [--file PATH] [--memory-mib 512] [--json RATES.json]
//                      [google-benchmark flags]
//   bench_stem_imaging --size-mib N --budget-mib 256 [--json OUT.json]
//       one BF + ADF + CoM pass over the page-cached file, all threads, with that memory budget;
//       prints the peak resident set size of the process during the pass (VmHWM after resetting
//       it through /proc/self/clear_refs), so the budget can be checked against what the OS saw.
// bench/compare_imaging.py runs this, py4DSTEM and LiberTEM on the same file.
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scandiff/engine/run.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/raw_source.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/center_of_mass.hpp"
#include "scandiff/stem/virtual_image.hpp"
#include "scandiff/stem/virtual_images.hpp"

#include "rate_reporter.hpp"

using namespace scandiff;

namespace {

std::int64_t size_mib = 2048;    // the raw file
std::int64_t memory_mib = 512;   // the in-memory subset
std::string file_path = "/tmp/scandiff_bench_stem_u16.raw";
std::string json_path;
std::int64_t budget_mib = 0;     // > 0: the budget run only
constexpr std::int64_t side = 256, scan_x = 128;

sim::CrystalScanParams params() {
  sim::CrystalScanParams p;
  const std::int64_t frames = size_mib * (1 << 20) / (side * side * 2);
  p.scan_y = frames / scan_x;
  p.scan_x = scan_x;
  p.frame_y = p.frame_x = side;
  p.dtype = DType::u16;
  p.g1_px = {44, 8};
  p.g2_px = {-12, 40};
  p.max_g_px = 128;
  p.disk_radius_px = 8;
  p.central_intensity = 60;
  p.ring_radius_px = 90;
  p.ring_intensity = 2;
  p.background = 0.3;
  p.descan_per_rx_px = {0.01, 0};
  p.descan_per_ry_px = {0, 0.01};
  p.noise = sim::Noise::poisson;
  p.seed = 1;
  return p;
}

io::RawLayout layout() {
  const auto p = params();
  return {p.scan_y, p.scan_x, side, side, DType::u16, 0, false};
}

// Writes the dataset with the simulator once (same parameters, same bytes), then reads it so it
// sits in the page cache.
void prepare_file() {
  const io::RawLayout l = layout();
  const auto bytes = static_cast<std::size_t>(l.scan_y * l.scan_x * side * side * 2);
  struct stat st {};
  if (::stat(file_path.c_str(), &st) != 0 || static_cast<std::size_t>(st.st_size) != bytes) {
    std::fprintf(stderr, "writing %s (%zu MiB) with the simulator...\n", file_path.c_str(), bytes >> 20);
    sim::SimulatedSource source(params());
    io::RawWriter writer(file_path, source.info());
    engine::WriteFrames write(writer);
    engine::Analysis* list[] = {&write};
    engine::run(source, list);
    writer.commit();
  }
  std::vector<char> buf(1 << 24);
  const int fd = ::open(file_path.c_str(), O_RDONLY);
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
}

// The first memory_mib of the file, in process memory.
const Array& in_memory() {
  static Array data = [] {
    io::RawLayout l = layout();
    l.scan_y = std::min<std::int64_t>(l.scan_y, memory_mib * (1 << 20) / (side * side * 2) / scan_x);
    Array a(DType::u16, {l.scan_y, l.scan_x, side, side});
    io::RawSource(file_path, layout()).read(0, l.scan_y * l.scan_x, a.bytes());
    return a;
  }();
  return data;
}

// Bright field (the central disk and its descan margin) and annular dark field, as the demo.
std::vector<stem::NamedDetector> bf_adf() {
  const double c = (side - 1) / 2.0;
  return {{"bright_field", stem::Detector::circle(side, side, c, c, 10)},
          {"annular_dark_field", stem::Detector::annulus(side, side, c, c, 12, 122)}};
}

void report(benchmark::State& state, const io::DatasetInfo& info) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * info.total_bytes()));
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * info.frame_count()),
                                                      benchmark::Counter::kIsRate);
}

void run_pass(io::Source& source, std::vector<engine::Analysis*> list, int threads) {
  engine::RunOptions o;
  o.threads = threads;
  engine::run(source, list, o);
}

// BF + ADF + CoM, one pass. state.range(0): threads; state.range(1): 1 = page cache file, 0 = memory.
void BM_Imaging(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  std::unique_ptr<io::Source> source;
  if (state.range(1))
    source = std::make_unique<io::RawSource>(file_path, layout());
  else
    source = std::make_unique<io::MemorySource>(in_memory());
  for (auto _ : state) {
    stem::VirtualImages images(bf_adf());
    stem::CenterOfMass com;
    run_pass(*source, {&images, &com}, threads);
    benchmark::DoNotOptimize(com.com_x().bytes());
  }
  report(state, source->info());
}

// The reference for "memory bandwidth per core": one thread summing the in-memory dataset as
// 64-bit words (four independent sums), no other work.
void BM_MemoryRead(benchmark::State& state) {
  const Array& a = in_memory();
  const std::size_t words = a.nbytes() / 8;
  const auto* w = reinterpret_cast<const std::uint64_t*>(a.bytes());
  for (auto _ : state) {
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i + 4 <= words; i += 4) {
      s0 += w[i];
      s1 += w[i + 1];
      s2 += w[i + 2];
      s3 += w[i + 3];
    }
    benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * words * 8));
}

// The ceiling of any pass over memory-mapped page-cache data (rate_reporter.hpp).
void BM_PageCacheMapping(benchmark::State& state) { page_cache_mapping(state, file_path); }

// One part only (in memory, 1 thread): 0 = BF + ADF, 1 = CoM.
void BM_Part(benchmark::State& state) {
  io::MemorySource source(in_memory());
  for (auto _ : state) {
    stem::VirtualImages images(bf_adf());
    stem::CenterOfMass com;
    if (state.range(0) == 0)
      run_pass(source, {&images}, 1);
    else
      run_pass(source, {&com}, 1);
  }
  report(state, source.info());
}

// N annular detectors tiling the frame: one VirtualImages (one sweep per frame) or N VirtualImage.
std::vector<stem::NamedDetector> rings(std::int64_t n) {
  std::vector<stem::NamedDetector> d;
  const double c = (side - 1) / 2.0, step = 120.0 / static_cast<double>(n);
  for (std::int64_t k = 0; k < n; ++k)
    d.push_back({"ring_" + std::to_string(k),
                 stem::Detector::annulus(side, side, c, c, static_cast<double>(k) * step, static_cast<double>(k + 1) * step + 4)});
  return d;
}

void BM_DetectorsOneSweep(benchmark::State& state) {
  io::MemorySource source(in_memory());
  const auto dets = rings(state.range(0));
  for (auto _ : state) {
    stem::VirtualImages images(dets);
    run_pass(source, {&images}, 1);
  }
  report(state, source.info());
}

void BM_DetectorsSeparate(benchmark::State& state) {
  io::MemorySource source(in_memory());
  const auto dets = rings(state.range(0));
  for (auto _ : state) {
    std::vector<std::unique_ptr<stem::VirtualImage>> images;
    std::vector<engine::Analysis*> list;
    for (const auto& d : dets) {
      images.push_back(std::make_unique<stem::VirtualImage>(d.name, d.detector));
      list.push_back(images.back().get());
    }
    run_pass(source, list, 1);
  }
  report(state, source.info());
}

// One BF + ADF + CoM pass with a memory budget; returns the process exit code.
int budget_run() {
  const double baseline = status_mib("VmRSS");
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {  // "5": reset the peak RSS (VmHWM)
    std::fputs("5", f);
    std::fclose(f);
  }
  io::RawSource source(file_path, layout());
  stem::VirtualImages images(bf_adf());
  stem::CenterOfMass com;
  engine::Analysis* list[] = {&images, &com};
  engine::RunOptions o;
  o.memory_budget = static_cast<std::size_t>(budget_mib) << 20;
  const auto t0 = std::chrono::steady_clock::now();
  engine::run(source, list, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double peak = status_mib("VmHWM");
  const double gb_per_s = static_cast<double>(source.info().total_bytes()) / seconds / 1e9;
  std::printf("budget run: %lld MiB file, budget %lld MiB, all threads: %.2f s (%.2f GB/s); peak RSS %.1f MiB "
              "(%.1f MiB before the pass)\n",
              static_cast<long long>(size_mib), static_cast<long long>(budget_mib), seconds, gb_per_s, peak, baseline);
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f) return 1;
    std::fprintf(f, "{\"budget_mib\": %lld, \"size_mib\": %lld, \"seconds\": %.4f, \"peak_rss_mib\": %.1f, "
                 "\"baseline_rss_mib\": %.1f}\n",
                 static_cast<long long>(budget_mib), static_cast<long long>(size_mib), seconds, peak, baseline);
    std::fclose(f);
  }
  return peak <= static_cast<double>(budget_mib) ? 0 : 5;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--size-mib") == 0 && i + 1 < argc) size_mib = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--memory-mib") == 0 && i + 1 < argc) memory_mib = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--file") == 0 && i + 1 < argc) file_path = argv[++i];
    else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json_path = argv[++i];
    else if (std::strcmp(argv[i], "--budget-mib") == 0 && i + 1 < argc) budget_mib = std::atoll(argv[++i]);
    else rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  prepare_file();
  if (budget_mib > 0) return budget_run();
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  // Wall-clock rates, and (process CPU time measured too) rates per CPU second.
  auto add = [](const char* name, auto fn) {
    return benchmark::RegisterBenchmark(name, fn)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);
  };
  add("memory_read_1thread", BM_MemoryRead);
  add("page_cache_mapping_1thread", BM_PageCacheMapping);
  for (int t = 1; t <= hw; t *= 2) add("bf_adf_com_page_cache", BM_Imaging)->Args({t, 1});
  for (int t = 1; t <= hw; t *= 2) add("bf_adf_com_in_memory", BM_Imaging)->Args({t, 0});
  add("bf_adf_only_in_memory", BM_Part)->Arg(0);
  add("com_only_in_memory", BM_Part)->Arg(1);
  for (int d : {1, 2, 4, 8, 16}) {
    add("detectors_one_sweep", BM_DetectorsOneSweep)->Arg(d);
    add("detectors_separate", BM_DetectorsSeparate)->Arg(d);
  }
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto l = layout();
  std::printf("\nsummary: %lld frames of 256x256 uint16 (%lld MiB, %s); in-memory subset %lld MiB\n",
              static_cast<long long>(l.scan_y * l.scan_x), static_cast<long long>(size_mib), file_path.c_str(),
              static_cast<long long>(memory_mib));
  const double mem = reporter.rate["memory_read_1thread"], mem_cpu = reporter.cpu_rate["memory_read_1thread"];
  const double map = reporter.rate["page_cache_mapping_1thread"];
  if (mem > 0)
    std::printf("  single-thread memory read (64-bit sum over the in-memory data): %6.2f GB/s, %6.2f GB/s per CPU second\n",
                mem / 1e9, mem_cpu / 1e9);
  if (map > 0) std::printf("  single-thread page-cache mapping rate: %6.2f GB/s\n", map / 1e9);
  for (int t = 1; t <= hw; t *= 2) {
    const std::string a = "bf_adf_com_page_cache/" + std::to_string(t) + "/1", b = "bf_adf_com_in_memory/" + std::to_string(t) + "/0";
    if (reporter.rate.count(a) == 0 && reporter.rate.count(b) == 0) continue;
    std::printf("  BF + ADF + CoM, one pass, %d thread(s): page cache %6.2f GB/s (%7.0f frames/s); in memory %6.2f GB/s "
                "(%7.0f frames/s)\n",
                t, reporter.rate[a] / 1e9, reporter.fps[a], reporter.rate[b] / 1e9, reporter.fps[b]);
    if (t == 1 && mem > 0)
      std::printf("    per core: page cache %.0f%%, in memory %.0f%% of the read bandwidth (wall clock); per CPU second "
                  "%6.2f / %6.2f GB/s = %.0f%% / %.0f%% of the read rate per CPU second\n",
                  100 * reporter.rate[a] / mem, 100 * reporter.rate[b] / mem, reporter.cpu_rate[a] / 1e9,
                  reporter.cpu_rate[b] / 1e9, 100 * reporter.cpu_rate[a] / mem_cpu, 100 * reporter.cpu_rate[b] / mem_cpu);
  }
  if (reporter.rate.count("bf_adf_only_in_memory/0"))
    std::printf("  parts, in memory, 1 thread: BF + ADF alone %6.2f GB/s, CoM alone %6.2f GB/s\n",
                reporter.rate["bf_adf_only_in_memory/0"] / 1e9, reporter.rate["com_only_in_memory/1"] / 1e9);
  for (int d : {1, 2, 4, 8, 16}) {
    const double one = reporter.rate["detectors_one_sweep/" + std::to_string(d)];
    const double sep = reporter.rate["detectors_separate/" + std::to_string(d)];
    if (one == 0 && sep == 0) continue;
    std::printf("  %2d detectors, 1 thread: one sweep %6.2f GB/s, separate analyses %6.2f GB/s (%.1fx)\n", d, one / 1e9,
                sep / 1e9, sep > 0 ? one / sep : 0.0);
  }
  if (!json_path.empty() && !reporter.write_json(json_path)) return 1;
  benchmark::Shutdown();
  return 0;
}
