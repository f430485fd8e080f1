// engine::run: one pass over a Source, feeding any number of analyses, on a thread
// pool, within a memory budget, with progress and cancellation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "scandiff/core/progress.hpp"
#include "scandiff/engine/analysis.hpp"
#include "scandiff/engine/frame_stage.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::engine {

struct RunOptions {
  int threads = 0;                    // 0: all cores
  std::size_t memory_budget = 0;      // bytes; 0: default_memory_budget()
  std::int64_t block_frames = 0;      // 0: chosen from the budget (about 8 MiB per block)
  ProgressCallback progress;          // called in frame order after each merged block
  const CancelToken* cancel = nullptr;  // checked before each block
  // Frame preparation applied in this order to every block before the analyses (see
  // frame_stage.hpp); the analyses see the prepared frames. Not owned; must outlive run().
  std::vector<FrameStage*> stages;
};

struct RunStats {
  std::int64_t frames = 0;         // frames processed
  std::int64_t blocks = 0;         // blocks processed
  std::int64_t block_frames = 0;   // frames per block
  std::int64_t blocks_in_flight = 0;  // blocks held in memory at once (at most)
  int threads = 0;
  std::size_t memory_budget = 0;   // the budget in force
  std::size_t bytes_read = 0;
  double seconds = 0;
};

// Runs all analyses over every frame of `source` in one pass, after options.stages.
// Throws BudgetError when the budget cannot hold the outputs plus one block per thread,
// Cancelled when cancelled, and rethrows the first error an analysis or the source raised.
RunStats run(io::Source& source, std::span<Analysis* const> analyses, const RunOptions& options = {});

// A quarter of the memory available now (MemAvailable), at least 64 MiB.
std::size_t default_memory_budget();

// Parses "512M", "2G", "64MiB", "1.5GB", "1000000" (bytes) into bytes; binary units
// (K = 1024). Throws InvalidArgument naming `what` on anything else.
std::size_t parse_memory_size(std::string_view text, std::string_view what = "--memory");

}  // namespace scandiff::engine
