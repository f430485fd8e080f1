// What the programs in bench/ share: a Google Benchmark console reporter that also keeps each
// benchmark's rates (so a program can print its summary, ratios against bandwidth, ceilings or
// other runs, at the end, and write them as JSON for the compare_*.py scripts), the
// page-cache mapping ceiling and the process's memory figures.
#pragma once

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration || r.aggregate_name == "mean") {
        // "name/arg" as the summaries look them up (no "/real_time" suffix).
        const std::string name = r.run_name.function_name + (r.run_name.args.empty() ? "" : "/" + r.run_name.args);
        if (const auto it = r.counters.find("bytes_per_second"); it != r.counters.end()) {
          rate[name] = it->second;
          // Per CPU second (benchmarks that measure process CPU time): the best repetition.
          const double cpu = r.GetAdjustedCPUTime(), real = r.GetAdjustedRealTime();
          if (r.run_type == Run::RT_Iteration && cpu > 0 && real > 0) {
            const double per_cpu = it->second * real / cpu;  // the counter is per real second
            cpu_rate[name] = std::max(cpu_rate[name], per_cpu);
          }
        }
        if (const auto it = r.counters.find("frames_per_s"); it != r.counters.end()) fps[name] = it->second;
      }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rate;  // bytes per second
  std::map<std::string, double> fps;   // frames per second, where the benchmark counts frames
  // Bytes per CPU second (user + system) of the best repetition, for benchmarks registered with
  // MeasureProcessCPUTime()->UseRealTime(): on a machine shared with other work, what one core
  // achieves; a one-thread pass's rate per core.
  std::map<std::string, double> cpu_rate;

  // Writes {"name/arg": {"bytes_per_s": ..., "frames_per_s": ..., "bytes_per_cpu_s": ...}, ...};
  // false (with a perror message) when the file cannot be written.
  bool write_json(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
      std::perror(path.c_str());
      return false;
    }
    std::fprintf(f, "{");
    const char* sep = "";
    for (const auto& [name, bytes_per_s] : rate) {
      std::fprintf(f, "%s\"%s\": {\"bytes_per_s\": %.6g, \"frames_per_s\": %.6g, \"bytes_per_cpu_s\": %.6g}", sep,
                   name.c_str(), bytes_per_s, fps.count(name) ? fps[name] : 0.0,
                   cpu_rate.count(name) ? cpu_rate[name] : 0.0);
      sep = ", ";
    }
    std::fprintf(f, "}\n");
    return std::fclose(f) == 0;
  }
};

// The kernel's cost of mapping page-cache pages of `path` into the process, one thread: map the
// file, touch one byte per 4 KiB page, unmap. No pass over memory-mapped page-cache data can be
// faster. Sets the bytes processed on `state`.
inline void page_cache_mapping(benchmark::State& state, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    state.SkipWithError(("cannot open " + path).c_str());
    return;
  }
  const auto bytes = static_cast<std::size_t>(::lseek(fd, 0, SEEK_END));
  for (auto _ : state) {
    auto* p = static_cast<volatile std::uint8_t*>(::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0));
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < bytes; i += 4096) s += p[i];
    ::munmap(const_cast<std::uint8_t*>(p), bytes);
    benchmark::DoNotOptimize(s);
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// A field of /proc/self/status in MiB (e.g. "VmRSS", "VmHWM": the peak resident set); -1 when
// it cannot be read.
inline double status_mib(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  double kib = -1;
  const std::size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') kib = std::atof(line + n + 1);
  std::fclose(f);
  return kib / 1024;
}
