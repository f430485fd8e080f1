// The Analysis contract (think LiberTEM's UDF): one pass over the frames of a
// Source feeds any number of analyses. An analysis never knows where the frames
// came from or how many threads run.
//
// Per-position outputs (virtual images, centre-of-mass maps) are written directly
// by process() at the block's scan positions: blocks are disjoint, so no locking.
// Global reductions (mean diffraction pattern, histograms) go into a Partial owned by
// the block; the engine merges partials in frame order, so results do not depend on
// the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/result.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::engine {

// A contiguous run of frames, in scan order, as the analyses see it.
struct FrameBlock {
  std::int64_t first = 0;   // linear index of the first frame: ry * scan_x + rx
  std::int64_t count = 0;   // number of frames
  std::int64_t frame_y = 0, frame_x = 0;  // detector shape (qy, qx)
  std::int64_t scan_x = 0;  // to turn a linear index into (ry, rx)
  DType dtype = DType::u16;
  const std::byte* data = nullptr;  // count * frame_y * frame_x elements, C order
  // True when another analysis has just swept these frames (a slice of frame-local analyses,
  // see Analysis::frame_local), so they sit in the core's cache: a hint for kernels whose best
  // access order differs between cached and uncached data. Results must not depend on it.
  bool in_cache = false;

  // The frames as a (count, qy, qx) view; throws InvalidArgument if T is not the dtype.
  template <class T>
  NdView<const T, 3> frames() const {
    if (dtype_v<T> != dtype) throw InvalidArgument("frame block dtype mismatch");
    return {reinterpret_cast<const T*>(data), {count, frame_y, frame_x}};
  }
  std::int64_t frame_pixels() const { return frame_y * frame_x; }
};

// Per-block state of a global reduction. The engine keeps a pool of them, resets
// and reuses them, so per-block allocation stays off the hot path.
class Partial {
 public:
  virtual ~Partial() = default;
  virtual void reset() = 0;        // back to the empty state
  virtual std::size_t bytes() const = 0;  // memory held, counted against the budget
};

class Analysis {
 public:
  virtual ~Analysis() = default;
  virtual std::string name() const = 0;

  // Before the pass: check parameters against the dataset (throw InvalidArgument naming
  // the parameter) and allocate outputs.
  virtual void prepare(const io::DatasetInfo& info) = 0;
  // Bytes the outputs allocated by prepare() hold (counted against the budget).
  virtual std::size_t output_bytes() const { return 0; }

  // A fresh, empty per-block state, or nullptr for analyses with only per-position output.
  virtual std::unique_ptr<Partial> make_partial() const { return nullptr; }

  // Bytes a partial grows by per frame of its block (e.g. a copy of the block), so the
  // engine can size blocks within the budget.
  virtual std::size_t partial_bytes_per_frame() const { return 0; }

  // True when the analysis has no partial and each position's output is computed from that
  // position's frame alone (virtual images, centre of mass). The engine then hands the block to
  // all such analyses of a run a few frames at a time (a slice that stays in the core's L2
  // cache), so each frame is read from memory once however many of them run; the results
  // cannot depend on the slicing.
  virtual bool frame_local() const { return false; }

  // Consumes one block (or, for frame-local analyses, a slice of one). Called concurrently for
  // different blocks; must only write the block's own positions of shared outputs, and global
  // state only into `partial`.
  virtual void process(const FrameBlock& block, Partial* partial) = 0;

  // Folds a block's partial into the total. Called serially, in frame order.
  virtual void merge(const Partial& /*partial*/) {}

  // After the last block (e.g. divide a sum by the frame count).
  virtual void finish() {}

  // The outputs, with axes and units.
  virtual std::vector<Result> results() const = 0;
};

}  // namespace scandiff::engine
