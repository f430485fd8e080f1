// engine::run — one pass over a Source feeding many analyses.
//
// A three-stage oneTBB pipeline:
//   1. (serial)          pick the next block of frames and a free slot (buffer + partials);
//   2. (parallel)        get the frames (zero-copy view or decode into the slot's buffer), run
//                        the preparation stages (ping-pong between the slot's two stage
//                        buffers) and let every analysis process the result into its partial
//                        (frame-local analyses slice by slice, all of them per slice, so a
//                        frame is fetched from memory once and swept by each from L2);
//   3. (serial, in order) merge the partials in frame order, release the frames, report progress.
// Partials are merged in frame order with a block size that does not depend on the thread
// count, so results are bit-identical for any number of threads.
#include "scandiff/engine/run.hpp"

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "memory_plan.hpp"

namespace scandiff::engine {

namespace {

struct Slot {
  std::unique_ptr<std::byte[]> buffer;  // decode target when the source has no zero-copy view
  std::unique_ptr<std::byte[]> stage_buffer[2];  // outputs of stages 0, 2, 4, ... and 1, 3, 5, ...
  std::vector<std::unique_ptr<Partial>> partials;  // one per analysis (nullptr if none)
};

// Frame-local analyses (Analysis::frame_local) take a block in slices of about this many bytes
// when more than one of them runs: small enough that a slice stays in a core's L2 cache while
// every analysis sweeps it.
constexpr std::size_t slice_bytes = std::size_t{256} << 10;

struct Work {
  std::int64_t block = -1;
  int slot = -1;
  bool processed = false;
};

}  // namespace

RunStats run(io::Source& source, std::span<Analysis* const> analyses, const RunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const io::DatasetInfo& info = source.info();
  info.validate();
  if (analyses.empty()) throw InvalidArgument("engine::run: no analysis to run");

  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  const std::size_t budget = options.memory_budget > 0 ? options.memory_budget : default_memory_budget();

  // The frames as each stage receives them (layouts[s]) and as the analyses see them (.back()).
  std::vector<io::DatasetInfo> layouts{info};
  for (std::size_t s = 0; s < options.stages.size(); ++s)
    layouts.push_back(prepare_stages(layouts.back(), std::span(&options.stages[s], 1)));
  const io::DatasetInfo& prepared = layouts.back();
  // Ping-pong stage buffers: bytes per frame of the largest output written into each.
  std::size_t stage_frame_bytes[2] = {0, 0};
  for (std::size_t s = 0; s < options.stages.size(); ++s)
    stage_frame_bytes[s % 2] = std::max(stage_frame_bytes[s % 2], layouts[s + 1].frame_bytes());

  for (Analysis* a : analyses) a->prepare(prepared);

  // Partials: make one per analysis per slot; measure their size for the plan.
  std::size_t output_bytes = 0, partial_bytes = 0;
  std::size_t per_frame_bytes = info.frame_bytes() + stage_frame_bytes[0] + stage_frame_bytes[1];
  for (Analysis* a : analyses) {
    output_bytes += a->output_bytes();
    per_frame_bytes += a->partial_bytes_per_frame();
    if (auto p = a->make_partial()) partial_bytes += p->bytes();
  }
  const bool zero_copy = source.view(0, std::min<std::int64_t>(1, info.frame_count())) != nullptr;
  if (zero_copy) source.release(0, 1);

  const MemoryPlan plan = plan_memory({.budget = budget,
                                       .output_bytes = output_bytes,
                                       .partial_bytes = partial_bytes,
                                       .frame_bytes = per_frame_bytes,
                                       .frame_count = info.frame_count(),
                                       .preferred_block_frames = source.preferred_block_frames(),
                                       .requested_block_frames = options.block_frames,
                                       .threads = threads});
  const std::int64_t block_frames = plan.block_frames;
  const std::int64_t n_blocks = (info.frame_count() + block_frames - 1) / block_frames;
  log_debug("engine: {} frames of {} B in {} blocks of {} frames, {} slots, {} threads, budget {} B", info.frame_count(),
            info.frame_bytes(), n_blocks, block_frames, plan.slots, threads, budget);

  std::vector<Slot> slots(static_cast<std::size_t>(plan.slots));
  tbb::concurrent_queue<int> free_slots;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    if (!zero_copy) slots[s].buffer.reset(new std::byte[static_cast<std::size_t>(block_frames) * info.frame_bytes()]);
    for (int b = 0; b < 2; ++b)
      if (stage_frame_bytes[b] > 0)
        slots[s].stage_buffer[b].reset(new std::byte[static_cast<std::size_t>(block_frames) * stage_frame_bytes[b]]);
    for (Analysis* a : analyses) slots[s].partials.push_back(a->make_partial());
    free_slots.push(static_cast<int>(s));
  }

  // Which analyses take the block whole and which slice by slice (only worth it for two or more).
  std::vector<std::size_t> whole, sliced;
  for (std::size_t i = 0; i < analyses.size(); ++i)
    (analyses[i]->frame_local() && !slots[0].partials[i] ? sliced : whole).push_back(i);
  if (sliced.size() == 1) {
    whole.push_back(sliced[0]);
    sliced.clear();
  }
  const std::int64_t slice_frames = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(slice_bytes / std::max<std::size_t>(1, prepared.frame_bytes())));

  std::atomic<bool> cancelled{false};
  auto should_stop = [&] {
    if (options.cancel && options.cancel->cancelled()) cancelled = true;
    return cancelled.load();
  };

  std::int64_t next_block = 0, frames_done = 0, blocks_done = 0;
  std::size_t bytes_read = 0;

  auto emit = [&](tbb::flow_control& fc) -> Work {
    if (next_block >= n_blocks || should_stop()) {
      fc.stop();
      return {};
    }
    Work w;
    w.block = next_block++;
    if (!free_slots.try_pop(w.slot)) throw Error("engine: internal error, no free slot for a block");
    return w;
  };

  auto process = [&](Work w) -> Work {
    if (should_stop()) return w;  // cancelled while queued: skip, stay within one block per thread
    Slot& slot = slots[static_cast<std::size_t>(w.slot)];
    const std::int64_t first = w.block * block_frames;
    const std::int64_t count = std::min(block_frames, info.frame_count() - first);
    const std::byte* data = zero_copy ? source.view(first, count) : nullptr;
    if (!data) {
      // A source may decline a view for some ranges (e.g. frames separated by headers can
      // be viewed one at a time only): decode into the slot, whose buffer the plan counted.
      if (!slot.buffer) slot.buffer.reset(new std::byte[static_cast<std::size_t>(block_frames) * info.frame_bytes()]);
      source.read(first, count, slot.buffer.get());
      data = slot.buffer.get();
    }
    for (std::size_t s = 0; s < options.stages.size(); ++s) {
      const io::DatasetInfo& in = layouts[s];
      const FrameBlock raw{.first = first, .count = count, .frame_y = in.frame_y, .frame_x = in.frame_x,
                           .scan_x = in.scan_x, .dtype = in.dtype, .data = data};
      std::byte* out = slot.stage_buffer[s % 2].get();
      options.stages[s]->apply(raw, out);
      data = out;
    }
    const FrameBlock block{.first = first, .count = count, .frame_y = prepared.frame_y,
                           .frame_x = prepared.frame_x, .scan_x = prepared.scan_x, .dtype = prepared.dtype,
                           .data = data};
    for (const std::size_t i : whole) analyses[i]->process(block, slot.partials[i].get());
    for (std::int64_t f0 = 0; !sliced.empty() && f0 < count; f0 += slice_frames) {
      FrameBlock slice = block;
      slice.first = first + f0;
      slice.count = std::min(slice_frames, count - f0);
      slice.data = data + static_cast<std::size_t>(f0) * prepared.frame_bytes();
      for (const std::size_t i : sliced) {
        analyses[i]->process(slice, nullptr);
        slice.in_cache = true;  // the next ones find the slice in cache
      }
    }
    w.processed = true;
    return w;
  };

  auto merge = [&](Work w) {
    Slot& slot = slots[static_cast<std::size_t>(w.slot)];
    const std::int64_t first = w.block * block_frames;
    const std::int64_t count = std::min(block_frames, info.frame_count() - first);
    if (w.processed) {
      for (std::size_t i = 0; i < analyses.size(); ++i) {
        if (slot.partials[i]) {
          analyses[i]->merge(*slot.partials[i]);
          slot.partials[i]->reset();
        }
      }
      if (zero_copy) source.release(first, count);
      frames_done += count;
      ++blocks_done;
      bytes_read += static_cast<std::size_t>(count) * info.frame_bytes();
      if (options.progress && !options.progress(frames_done, info.frame_count(), "frames")) cancelled = true;
    }
    free_slots.push(w.slot);
  };

  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(static_cast<std::size_t>(plan.slots),
                           tbb::make_filter<void, Work>(tbb::filter_mode::serial_in_order, emit) &
                               tbb::make_filter<Work, Work>(tbb::filter_mode::parallel, process) &
                               tbb::make_filter<Work, void>(tbb::filter_mode::serial_in_order, merge));
  });
  if (cancelled || (options.cancel && options.cancel->cancelled() && frames_done < info.frame_count()))
    throw Cancelled();

  for (Analysis* a : analyses) a->finish();

  RunStats stats;
  stats.frames = frames_done;
  stats.blocks = blocks_done;
  stats.block_frames = block_frames;
  stats.blocks_in_flight = plan.slots;
  stats.threads = threads;
  stats.memory_budget = budget;
  stats.bytes_read = bytes_read;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace scandiff::engine
