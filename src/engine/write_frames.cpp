#include "scandiff/engine/write_frames.hpp"

#include <cstring>
#include <vector>

namespace scandiff::engine {

namespace {
struct BlockCopy : Partial {
  std::vector<std::byte> bytes_;
  std::int64_t first = 0, count = 0;
  void reset() override { count = 0; }
  // Grows to one block on first use (declared through partial_bytes_per_frame).
  std::size_t bytes() const override { return bytes_.capacity(); }
};
}  // namespace

std::unique_ptr<Partial> WriteFrames::make_partial() const { return std::make_unique<BlockCopy>(); }

void WriteFrames::process(const FrameBlock& block, Partial* partial) {
  if (sink_.concurrent()) {
    sink_.write_frames(block.first, block.count, block.data);
    return;
  }
  auto& p = static_cast<BlockCopy&>(*partial);
  const std::size_t n = static_cast<std::size_t>(block.count) * info_.frame_bytes();
  p.bytes_.resize(n);
  std::memcpy(p.bytes_.data(), block.data, n);
  p.first = block.first;
  p.count = block.count;
}

void WriteFrames::merge(const Partial& partial) {
  const auto& p = static_cast<const BlockCopy&>(partial);
  if (p.count > 0) sink_.write_frames(p.first, p.count, p.bytes_.data());
}

}  // namespace scandiff::engine
