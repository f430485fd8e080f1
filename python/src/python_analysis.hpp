// Analyses whose per-frame work is a Python function: the "general analysis" a user writes in
// Python, run by the engine over any source, out of core.
//
// GIL: engine::run runs with the GIL released; process() takes the GIL only around the calls into
// Python, so several blocks may be decoded and prepared concurrently while Python code runs one
// block at a time. Frames reach Python as READ-ONLY numpy views of the engine's block buffer
// (no copy), valid only during the call: a function that keeps frames must copy them.
//
// Determinism: FrameMap writes each position's value at that position; BlockReduce merges the
// per-block values with the user's `merge` serially in frame order (engine::Analysis::merge), and
// the block size never depends on the thread count, so both give the same result for any number of
// threads (for a fixed block_frames / memory budget).
//
// Errors: the first Python exception raised by a function is kept and the pass stops; run() then
// raises that exception (with its traceback) in the caller.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "scandiff/engine/analysis.hpp"

namespace scandiff::python {

class PythonAnalysis : public engine::Analysis {
 public:
  // Re-raises (in the calling thread, with the GIL held) the first exception a function raised.
  void rethrow_python_error();

 protected:
  // Called with the GIL held inside a try block by the subclasses; keeps the error and throws a
  // C++ error so the engine stops the pass.
  [[noreturn]] void fail(nb::python_error& error);

 private:
  std::mutex mutex_;
  std::optional<nb::python_error> error_;
};

// value[ry, rx, ...] = function(frame) for every frame (per_block = false), or
// value[block positions, ...] = function(frames, first) for every block of frames (per_block = true,
// frames (n, qy, qx), first = linear index ry * scan_x + rx of frames[0]). The output has shape
// (ry, rx) + value_shape and dtype `dtype`; numpy converts what the function returns.
class FrameMap final : public PythonAnalysis {
 public:
  FrameMap(nb::callable function, std::string name, std::vector<std::int64_t> value_shape, DType dtype,
           bool per_block, std::string units);
  std::string name() const override { return name_; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return output_.nbytes(); }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  std::vector<Result> results() const override;

 private:
  nb::callable function_;
  std::string name_, units_;
  std::vector<std::int64_t> value_shape_;
  DType dtype_;
  bool per_block_;
  io::DatasetInfo info_;
  Array output_;
};

// partial = function(frames, first) for every block (frames (n, qy, qx)); the partials are folded
// in frame order: total = merge(total, partial) (total starts as the first block's partial); then
// value = finish(total) when finish is given. `value` is any Python object.
class BlockReduce final : public PythonAnalysis {
 public:
  BlockReduce(nb::callable function, nb::callable merge, nb::object finish, std::string name);
  std::string name() const override { return name_; }
  void prepare(const io::DatasetInfo& info) override;
  std::unique_ptr<engine::Partial> make_partial() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void merge(const engine::Partial& partial) override;
  void finish() override;
  std::vector<Result> results() const override { return {}; }

  nb::object value() const { return value_; }

 private:
  nb::callable function_, merge_;
  nb::object finish_;
  std::string name_;
  nb::object value_;
  bool failed_ = false;
};

// The frames of a block as a read-only numpy view (n, qy, qx), no copy.
nb::object frames_view(const engine::FrameBlock& block);

}  // namespace scandiff::python
