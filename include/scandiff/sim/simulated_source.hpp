// An io::Source whose frames are rendered on demand by a sim::FrameGenerator, so tests and
// benchmarks can stream a synthetic dataset of any size without touching the disk or
// holding it in memory. info() is the generator's info() (format "simulated").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "scandiff/io/source.hpp"
#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/frame_generator.hpp"
#include "scandiff/sim/ring_pattern.hpp"

namespace scandiff::sim {

class SimulatedSource final : public io::Source {
 public:
  // Throws InvalidArgument when `generator` is null.
  explicit SimulatedSource(std::shared_ptr<const FrameGenerator> generator);
  explicit SimulatedSource(CrystalScanParams params);
  explicit SimulatedSource(RingPatternParams params);

  const FrameGenerator& generator() const { return *generator_; }

  // Renders frames [first, first + count) into dst; thread-safe. Throws InvalidArgument
  // when the range is outside the scan.
  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;

 private:
  std::shared_ptr<const FrameGenerator> generator_;
};

}  // namespace scandiff::sim
