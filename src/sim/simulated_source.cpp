#include "scandiff/sim/simulated_source.hpp"

#include <utility>

#include "scandiff/core/error.hpp"

namespace scandiff::sim {

SimulatedSource::SimulatedSource(std::shared_ptr<const FrameGenerator> generator)
    : generator_(std::move(generator)) {
  if (!generator_) throw InvalidArgument("sim: SimulatedSource needs a frame generator (got null)");
  info_ = generator_->info();
}

SimulatedSource::SimulatedSource(CrystalScanParams params)
    : SimulatedSource(std::make_shared<const CrystalScan>(std::move(params))) {}

SimulatedSource::SimulatedSource(RingPatternParams params)
    : SimulatedSource(std::make_shared<const RingPattern>(std::move(params))) {}

void SimulatedSource::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  generator_->render(first, count, dst);
}

}  // namespace scandiff::sim
