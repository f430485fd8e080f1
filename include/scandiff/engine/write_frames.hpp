// An analysis that streams every frame of the pass into a FrameSink (a dataset writer),
// so one pass can convert a dataset and analyse it at the same time. Blocks are copied
// into their partial in parallel and written in frame order by merge(), or, for a concurrent()
// sink, written directly by process() from the block itself.
#pragma once

#include "scandiff/engine/analysis.hpp"
#include "scandiff/io/frame_sink.hpp"

namespace scandiff::engine {

class WriteFrames : public Analysis {
 public:
  explicit WriteFrames(io::FrameSink& sink) : sink_(sink) {}
  std::string name() const override { return "write_frames"; }
  void prepare(const io::DatasetInfo& info) override { info_ = info; }
  std::unique_ptr<Partial> make_partial() const override;
  std::size_t partial_bytes_per_frame() const override { return sink_.concurrent() ? 0 : info_.frame_bytes(); }
  void process(const FrameBlock& block, Partial* partial) override;
  void merge(const Partial& partial) override;
  std::vector<Result> results() const override { return {}; }

 private:
  io::FrameSink& sink_;
  io::DatasetInfo info_;
};

}  // namespace scandiff::engine
