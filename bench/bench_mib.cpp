// Merlin .mib read + decode throughput from the page cache: MibSource::read() of whole
// files in ~8 MiB blocks, per layout and counter depth, on synthetic files written with
// tests/cpp/mib_test_writer.hpp (the format reference's encoding). Throughput counts the
// DECODED bytes written (the frames analyses see); "in_GBps" counts file bytes read.
//
//   bench_mib [--size-mib N] [--dir PATH] [google-benchmark flags]
// Targets (per core): non-RAW decode >= 5 GB/s; 1-bit RAW unpack >= 2 GB/s of output.
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../tests/cpp/mib_test_writer.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/io/mib.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"

#include "rate_reporter.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {

std::int64_t size_mib = 256;  // decoded bytes per case
fs::path dir = "/tmp";

struct Case {
  const char* name;
  scandiff_test::MibSpec spec;
};

scandiff_test::MibSpec spec(const char* type, int depth, bool quad) {
  scandiff_test::MibSpec s;
  s.type = type;
  s.depth = depth;
  s.layout = quad ? "2x2" : "1x1";
  s.chips = quad ? 4 : 1;
  s.header_bytes = quad ? 768 : 384;
  s.frame_y = s.frame_x = quad ? 512 : 256;
  return s;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"U08_1x1_6bit", spec("U08", 6, false)},  {"U16_1x1_12bit", spec("U16", 12, false)},
      {"U08_2x2_6bit", spec("U08", 6, true)},   {"U16_2x2_12bit", spec("U16", 12, true)},
      {"U32_2x2_24bit", spec("U32", 24, true)}, {"R64_1x1_1bit", spec("R64", 1, false)},
      {"R64_1x1_12bit", spec("R64", 12, false)}, {"R64_2x2_1bit", spec("R64", 1, true)},
      {"R64_2x2_6bit", spec("R64", 6, true)},
      {"R64_2x2_12bit", spec("R64", 12, true)}, {"R64_2x2_24bit", spec("R64", 24, true)},
  };
  return c;
}

std::size_t out_frame_bytes(const scandiff_test::MibSpec& s) {
  const std::size_t px = static_cast<std::size_t>(s.frame_y * s.frame_x);
  if (s.type == "U08" || (s.type == "R64" && s.depth <= 6)) return px;
  if (s.type == "U16" || (s.type == "R64" && s.depth == 12)) return 2 * px;
  return 4 * px;
}

std::int64_t frame_count(const scandiff_test::MibSpec& s) {
  return std::max<std::int64_t>(64, size_mib * (1 << 20) / static_cast<std::int64_t>(out_frame_bytes(s)));
}

fs::path path_of(const Case& c) { return dir / (std::string("scandiff_bench_mib_") + c.name + ".mib"); }

// Writes the file once (8 distinct random frames, repeated with running frame numbers),
// then reads it so that it sits in the page cache.
void prepare(const Case& c) {
  const fs::path p = path_of(c);
  const std::int64_t n = frame_count(c.spec);
  std::error_code ec;
  if (fs::file_size(p, ec) != static_cast<std::uintmax_t>(n) * c.spec.frame_bytes()) {
    const int bits = c.spec.type == "R64" ? c.spec.depth : c.spec.depth > 16 ? 24 : c.spec.depth;
    std::mt19937 rng(1);
    std::vector<std::string> pixels;
    for (int k = 0; k < 8; ++k) {
      std::vector<std::uint32_t> frame(static_cast<std::size_t>(c.spec.frame_y * c.spec.frame_x));
      for (auto& v : frame) v = static_cast<std::uint32_t>(rng()) & ((1u << bits) - 1u);
      pixels.push_back(scandiff_test::mib_pixels(c.spec, frame));
    }
    std::ofstream f(p, std::ios::binary);
    for (std::int64_t i = 0; i < n; ++i)
      f << scandiff_test::mib_header(c.spec, i + 1, 0.001, 50'000'000'000'000 + i * 1'002'100)
        << pixels[static_cast<std::size_t>(i % 8)];
  }
  std::vector<char> buf(1 << 24);
  const int fd = ::open(p.c_str(), O_RDONLY);
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
}

io::MibOptions flat(const Case& c) {
  io::MibOptions o;
  o.scan_shape = std::pair<std::int64_t, std::int64_t>{1, frame_count(c.spec)};
  return o;
}

// One thread reads every frame in ~8 MiB blocks into a reused buffer.
void BM_MibRead(benchmark::State& state, const Case* c) {
  io::MibSource src(path_of(*c), flat(*c));
  const auto& info = src.info();
  const std::int64_t block = std::max<std::int64_t>(1, (8 << 20) / static_cast<std::int64_t>(info.frame_bytes()));
  std::vector<std::byte> buf(static_cast<std::size_t>(block) * info.frame_bytes());
  for (auto _ : state) {
    for (std::int64_t f = 0; f < info.frame_count(); f += block) {
      src.read(f, std::min(block, info.frame_count() - f), buf.data());
      benchmark::DoNotOptimize(buf.data());
    }
  }
  const auto frames = static_cast<double>(state.iterations() * info.frame_count());
  state.SetBytesProcessed(static_cast<std::int64_t>(frames * static_cast<double>(info.frame_bytes())));
  state.counters["in_GBps"] = benchmark::Counter(frames * static_cast<double>(c->spec.frame_bytes()) / 1e9,
                                                 benchmark::Counter::kIsRate);
  state.counters["frames_per_s"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
}

// The engine's pass (mean diffraction pattern) over the same file, N threads.
void BM_MibEngineSum(benchmark::State& state, const Case* c) {
  io::MibSource src(path_of(*c), flat(*c));
  for (auto _ : state) {
    stem::VirtualDiffraction sum(stem::VirtualDiffraction::Options{.mean = true, .max = false});
    engine::Analysis* list[] = {&sum};
    engine::RunOptions o;
    o.threads = static_cast<int>(state.range(0));
    engine::run(src, list, o);
    benchmark::DoNotOptimize(sum.mean().bytes());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * src.info().total_bytes()));
}

// The page-cache mapping ceiling of any mmap pass over this file.
void BM_PageCacheMapping(benchmark::State& state, const Case* c) { page_cache_mapping(state, path_of(*c)); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--size-mib") == 0 && i + 1 < argc) size_mib = std::atoll(argv[++i]);
    else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
    else rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  for (const Case& c : cases()) prepare(c);
  const Case* u16 = &cases()[3];
  const Case* r1 = &cases()[7];
  benchmark::RegisterBenchmark("page_cache_mapping_U16_2x2", BM_PageCacheMapping, u16)
      ->UseRealTime()->Unit(benchmark::kMillisecond);
  for (const Case& c : cases())
    benchmark::RegisterBenchmark((std::string("mib_read_1thread_") + c.name).c_str(), BM_MibRead, &c)
        ->UseRealTime()->Unit(benchmark::kMillisecond);
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  for (const Case* c : {u16, r1})
    for (int t = 1; t <= hw; t *= 2)
      benchmark::RegisterBenchmark((std::string("mib_engine_sum_") + c->name).c_str(), BM_MibEngineSum, c)
          ->Arg(t)->UseRealTime()->Unit(benchmark::kMillisecond);
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::printf("\nsummary: MibSource::read, 1 thread, page cache, GB/s of decoded frames (target)\n");
  for (const Case& c : cases()) {
    const bool raw1 = c.spec.type == "R64" && c.spec.depth == 1;
    const bool raw = c.spec.type == "R64";
    const double r = reporter.rate[std::string("mib_read_1thread_") + c.name];
    std::printf("  %-16s %6.2f GB/s%s\n", c.name, r / 1e9,
                raw1 ? "  (1-bit RAW unpack: >= 2)" : raw ? "" : "  (non-RAW: >= 5)");
  }
  std::printf("  page-cache mapping ceiling (U16 quad file): %.2f GB/s\n",
              reporter.rate["page_cache_mapping_U16_2x2"] / 1e9);
  benchmark::Shutdown();
  return 0;
}
