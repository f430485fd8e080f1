// The median diffraction pattern: for every detector pixel, the exact median over scan
// positions, as numpy.median in py4DSTEM's get_dp_median / get_virtual_diffraction('median')
// (stem-algorithms.md §2):
//   median[qy, qx] = middle value of { w_r · DP_r[qy, qx] } over the positions r that
//                    `positions` lets in (scan_weights.hpp); for an even count, the mean of the
//                    two middle values.
// Optionally on patterns rolled so their origin lands on the mean origin (integer shift only,
// DP'[p] = DP[(p − rint(mean − origin)) mod shape]; py4DSTEM has no shifted median).
//
// Memory: a median needs every value of a pixel at once, so each pass gathers the values of one
// tile of detector pixels [pixel_begin, pixel_end) for all positions (raw dtype values, or
// float64 for weights) and selects the medians (std::nth_element) at the end of the pass. The
// tile is as large as the memory allowed, so a dataset whose included frames fit in that memory
// takes one pass, a larger one ceil(size / memory) passes over the data — each pass reads every
// frame again, but memory never exceeds the budget. (A histogram-based selection, exact for
// 8/16-bit data in two passes whatever the size, would trade this for 1 KiB per pixel; not done.)
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/stem/center_shift.hpp"
#include "scandiff/stem/calibrated_origin.hpp"
#include "scandiff/stem/scan_weights.hpp"

namespace scandiff::stem {

struct MedianOptions {
  ScanWeights positions{};                 // all positions by default
  CenterShift shift = CenterShift::none;   // none or integer; subpixel is refused
  int threads = 0;                         // for the selection at the end of a pass; 0: all cores
};

// One tile of detector pixels [pixel_begin, pixel_end) (linear qy * frame_x + qx), written into
// `out`, a (qy, qx) float64 array shared by the tiles of one median.
class MedianDiffraction : public engine::Analysis {
 public:
  MedianDiffraction(MedianOptions options, std::int64_t pixel_begin, std::int64_t pixel_end, Array out);

  std::string name() const override { return "median_diffraction"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return values_bytes_; }
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void finish() override;
  std::vector<Result> results() const override;

 private:
  template <class V, class T>
  void gather(const engine::FrameBlock& block, const T* frames);
  template <class V>
  void select_medians();

  MedianOptions options_;
  std::int64_t begin_, end_;
  Array out_;
  io::DatasetInfo info_;
  Origin origin_;
  std::vector<std::int64_t> ordinal_;  // per position: index among the included ones, or -1
  std::int64_t included_ = 0;
  std::size_t value_bytes_ = 0;
  std::unique_ptr<std::byte[]> values_;  // (pixel in tile, ordinal) values, dtype or float64
  std::size_t values_bytes_ = 0;
};

// Bytes one median pass needs per detector pixel of its tile.
std::size_t median_bytes_per_pixel(const io::DatasetInfo& info, const ScanWeights& positions);

// The tiles [begin, end) of detector pixels, each needing at most `bytes` (at least one pixel
// per tile; BudgetError when even one pixel needs more).
std::vector<std::pair<std::int64_t, std::int64_t>> median_tiles(const io::DatasetInfo& info,
                                                                const ScanWeights& positions, std::size_t bytes);

// The whole median: as many passes over `source` as tiles of half the run's memory budget
// (the other half is left to the engine's blocks). run.progress sees the frames of all passes
// as one count. Returns the (qy, qx) float64 result "median_diffraction".
Result median_diffraction(io::Source& source, const MedianOptions& options, const engine::RunOptions& run = {});

}  // namespace scandiff::stem
