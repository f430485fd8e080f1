// How a pass fits in the memory budget: the block size (frames per block) and the number of
// blocks in flight ("slots", each a frame buffer or resident mapped pages, plus one partial
// per analysis). Private to the engine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scandiff::engine {

struct MemoryRequest {
  std::size_t budget = 0;          // bytes the pass may use
  std::size_t output_bytes = 0;    // per-position outputs, allocated once
  std::size_t partial_bytes = 0;   // all analyses' partials for one block
  std::size_t frame_bytes = 0;     // one frame: decoded data plus what partials hold per frame
  std::int64_t frame_count = 0;
  std::int64_t preferred_block_frames = 1;  // e.g. the HDF5 chunk depth
  std::int64_t requested_block_frames = 0;  // 0: choose
  int threads = 1;
};

struct MemoryPlan {
  std::int64_t block_frames = 1;
  std::int64_t slots = 1;
};

// Block size: about 8 MiB or a quarter of what the outputs leave, whichever is smaller —
// never a function of the thread count, so results do not depend on it. Slots: up to
// two per thread, as many as fit. Throws BudgetError saying how much would be needed.
MemoryPlan plan_memory(const MemoryRequest& request);

// Block size aimed at: large enough to amortise per-block work, small enough to stay in cache-friendly range.
inline constexpr std::size_t target_block_bytes = std::size_t{8} << 20;

}  // namespace scandiff::engine
