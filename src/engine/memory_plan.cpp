#include "memory_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/engine/run.hpp"

namespace scandiff::engine {

namespace {
std::string mib(std::size_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }
}  // namespace

MemoryPlan plan_memory(const MemoryRequest& r) {
  const std::size_t minimum = r.output_bytes + r.frame_bytes + r.partial_bytes;
  if (r.budget < minimum)
    throw BudgetError(fmt::format(
        "--memory {}: too small for this pass; the results need {}, one frame {} and the per-block partials {}, "
        "so at least {} is needed",
        mib(r.budget), mib(r.output_bytes), mib(r.frame_bytes), mib(r.partial_bytes), mib(minimum)));
  const std::size_t available = r.budget - r.output_bytes;

  MemoryPlan plan;
  if (r.requested_block_frames > 0) {
    plan.block_frames = r.requested_block_frames;
  } else {
    const std::size_t target = std::min(target_block_bytes, (available - r.partial_bytes) / 4);
    plan.block_frames = std::max<std::int64_t>(1, static_cast<std::int64_t>(target / r.frame_bytes));
    const std::int64_t pref = std::max<std::int64_t>(1, r.preferred_block_frames);
    if (plan.block_frames >= pref) plan.block_frames -= plan.block_frames % pref;
  }
  plan.block_frames = std::clamp<std::int64_t>(plan.block_frames, 1, std::max<std::int64_t>(1, r.frame_count));

  const std::size_t per_slot = static_cast<std::size_t>(plan.block_frames) * r.frame_bytes + r.partial_bytes;
  if (per_slot > available)
    throw BudgetError(fmt::format("--memory {}: a block of {} frames needs {} beside the results' {}", mib(r.budget),
                                  plan.block_frames, mib(per_slot), mib(r.output_bytes)));
  plan.slots = std::clamp<std::int64_t>(static_cast<std::int64_t>(available / per_slot), 1,
                                        2 * static_cast<std::int64_t>(std::max(1, r.threads)));
  return plan;
}

}  // namespace scandiff::engine
