// Test helper: one preparation stage applied to every frame of an in-memory scan, without the engine.
#pragma once

#include "scandiff/engine/frame_stage.hpp"
#include "scandiff/io/memory_source.hpp"

namespace scandiff::test {

// prepare() on the scan's dataset, then apply() to all its frames at once; the prepared dataset
// goes to *out_info when given.
inline Array apply_stage(engine::FrameStage& stage, const Array& scan, io::DatasetInfo* out_info = nullptr) {
  io::MemorySource src(scan);
  const io::DatasetInfo out = stage.prepare(src.info());
  if (out_info) *out_info = out;
  Array result(out.dtype, out.shape());
  const engine::FrameBlock block{.first = 0, .count = src.info().frame_count(), .frame_y = src.info().frame_y,
                                 .frame_x = src.info().frame_x, .scan_x = src.info().scan_x,
                                 .dtype = src.info().dtype, .data = scan.bytes()};
  stage.apply(block, result.bytes());
  return result;
}

}  // namespace scandiff::test
