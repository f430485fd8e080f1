// Google Benchmark console reporter that also keeps each benchmark's rates, so a benchmark
// program can print its summary (ratios against bandwidth, ceilings or other runs) at the end.
// Shared by the programs in bench/.
#pragma once

#include <benchmark/benchmark.h>

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
        if (const auto it = r.counters.find("bytes_per_second"); it != r.counters.end()) rate[name] = it->second;
        if (const auto it = r.counters.find("frames_per_s"); it != r.counters.end()) fps[name] = it->second;
      }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rate;  // bytes per second
  std::map<std::string, double> fps;   // frames per second, where the benchmark counts frames
};
