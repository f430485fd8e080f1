// The engine's bare pass: sum of all frames (mean diffraction pattern) of a uint16 dataset
// that lies in the page cache, through the memory-mapped raw source — beside the
// single-thread memory-read bandwidth measured by the same program.
//
//   bench_engine [--size-mib N] [--file PATH] [--json RATES.json] [google-benchmark flags]
// Target: per engine thread, at least 70% of the single-thread read bandwidth.
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/raw_source.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"

#include "rate_reporter.hpp"

using namespace scandiff;

namespace {

std::int64_t size_mib = 1024;
std::string file_path = "/tmp/scandiff_bench_u16.raw";
std::string json_path;  // --json PATH: also write every benchmark's bytes/s there
constexpr std::int64_t frame_side = 256;

io::RawLayout layout() {
  const std::int64_t frames = size_mib * (1 << 20) / (frame_side * frame_side * 2);
  io::RawLayout l;
  l.scan_y = frames / 64;
  l.scan_x = 64;
  l.frame_y = frame_side;
  l.frame_x = frame_side;
  l.dtype = DType::u16;
  return l;
}

// Writes the dataset once (a deterministic pattern) and reads it back so it sits in the page cache.
void prepare_file() {
  const auto l = layout();
  const std::size_t frame_bytes = frame_side * frame_side * 2;
  const std::int64_t frames = l.scan_y * l.scan_x;
  FILE* f = std::fopen(file_path.c_str(), "rb");
  bool ok = false;
  if (f) {
    std::fseek(f, 0, SEEK_END);
    ok = std::ftell(f) == static_cast<long>(frame_bytes * frames);
    std::fclose(f);
  }
  if (!ok) {
    f = std::fopen(file_path.c_str(), "wb");
    if (!f) {
      std::perror(file_path.c_str());
      std::exit(1);
    }
    std::vector<std::uint16_t> frame(frame_side * frame_side);
    for (std::int64_t i = 0; i < frames; ++i) {
      for (std::size_t p = 0; p < frame.size(); ++p) frame[p] = static_cast<std::uint16_t>((p * 31 + i * 7) % 4096);
      std::fwrite(frame.data(), 1, frame_bytes, f);
    }
    std::fclose(f);
  }
  std::vector<char> buf(1 << 24);
  const int fd = ::open(file_path.c_str(), O_RDONLY);
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
}

// Single-thread read bandwidth: sum of 64-bit words over a buffer far larger than the caches.
void BM_MemoryReadBandwidth(benchmark::State& state) {
  const std::size_t words = static_cast<std::size_t>(size_mib) * (1 << 20) / 8;
  std::unique_ptr<std::uint64_t[]> buffer(new std::uint64_t[words]);
  for (std::size_t i = 0; i < words; ++i) buffer[i] = i;
  for (auto _ : state) {
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i < words; i += 4) {
      s0 += buffer[i];
      s1 += buffer[i + 1];
      s2 += buffer[i + 2];
      s3 += buffer[i + 3];
    }
    benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * words * 8));
}

void BM_PageCacheMapping(benchmark::State& state) { page_cache_mapping(state, file_path); }

void BM_EngineSumFrames(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  io::RawSource source(file_path, layout());
  for (auto _ : state) {
    stem::VirtualDiffraction sum(stem::VirtualDiffraction::Options{.mean = true, .max = false});
    engine::Analysis* list[] = {&sum};
    engine::RunOptions o;
    o.threads = threads;
    engine::run(source, list, o);
    benchmark::DoNotOptimize(sum.mean().bytes());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * source.info().total_bytes()));
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * source.info().frame_count()), benchmark::Counter::kIsRate);
}

// The same pass over the dataset already in this process's memory: the difference to the
// memory-mapped pass is the cost of mapping page-cache pages (page faults).
void BM_EngineSumFramesInMemory(benchmark::State& state) {
  const auto l = layout();
  Array data(DType::u16, {l.scan_y, l.scan_x, l.frame_y, l.frame_x});
  io::RawSource(file_path, l).read(0, l.scan_y * l.scan_x, data.bytes());
  io::MemorySource source(data);
  for (auto _ : state) {
    stem::VirtualDiffraction sum(stem::VirtualDiffraction::Options{.mean = true, .max = false});
    engine::Analysis* list[] = {&sum};
    engine::RunOptions o;
    o.threads = static_cast<int>(state.range(0));
    engine::run(source, list, o);
    benchmark::DoNotOptimize(sum.mean().bytes());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * source.info().total_bytes()));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--size-mib") == 0 && i + 1 < argc) size_mib = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--file") == 0 && i + 1 < argc) file_path = argv[++i];
    else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json_path = argv[++i];
    else rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  prepare_file();
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  benchmark::RegisterBenchmark("page_cache_mapping_1thread", BM_PageCacheMapping)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("memory_read_1thread", BM_MemoryReadBandwidth)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (int t = 1; t <= hw; t *= 2)
    benchmark::RegisterBenchmark("engine_sum_frames", BM_EngineSumFrames)->Arg(t)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (int t = 1; t <= hw; t *= 2)
    benchmark::RegisterBenchmark("engine_sum_frames_in_memory", BM_EngineSumFramesInMemory)
        ->Arg(t)->UseRealTime()->Unit(benchmark::kMillisecond);
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double mem = reporter.rate["memory_read_1thread"];
  const double map = reporter.rate["page_cache_mapping_1thread"];
  std::printf("\nsummary (%lld MiB uint16 dataset in page cache, %s)\n", static_cast<long long>(size_mib),
              file_path.c_str());
  std::printf("  single-thread memory read bandwidth:   %6.2f GB/s\n", mem / 1e9);
  std::printf("  single-thread page-cache mapping rate: %6.2f GB/s (ceiling for any mmap pass)\n", map / 1e9);
  for (int t = 1; t <= hw; t *= 2) {
    const double r = reporter.rate["engine_sum_frames/" + std::to_string(t)];
    const double m = reporter.rate["engine_sum_frames_in_memory/" + std::to_string(t)];
    std::printf("  %d thread(s): engine pass from page cache %6.2f GB/s = %3.0f%% of read bandwidth, %3.0f%% of the "
                "mapping rate per thread; in process memory %6.2f GB/s = %3.0f%% of read bandwidth per thread "
                "(target 70%%)\n",
                t, r / 1e9, 100.0 * r / t / mem, 100.0 * r / t / map, m / 1e9, 100.0 * m / t / mem);
  }
  if (!json_path.empty() && !reporter.write_json(json_path)) return 1;
  benchmark::Shutdown();
  return 0;
}
