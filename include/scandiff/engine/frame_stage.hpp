// Frame-level preparation: a FrameStage transforms every block of frames before any analysis
// sees it (hot-pixel repair, crop, bin, pad), once per pass, whatever the number of analyses.
//
// Stages run in the order given (RunOptions::stages). Each may change the frame shape and the
// element type; the analyses' prepare() receives the dataset as the LAST stage leaves it
// (prepare_stages()), so their outputs, axes and calibration are those of the prepared frames.
// A stage works frame by frame, so results stay bit-identical for any thread count.
//
// Memory: the engine gives each block in flight two ping-pong buffers (stage 0, 2, 4, ... write
// into the first, 1, 3, ... into the second), sized for the largest output of their stages, and
// counts them against the budget as bytes per frame (see memory_plan.hpp).
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "scandiff/core/calibration.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/engine/analysis.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::engine {

class FrameStage {
 public:
  virtual ~FrameStage() = default;
  virtual std::string name() const = 0;

  // Before the pass, in chain order: checks the parameters against the dataset as the previous
  // stage leaves it (throws InvalidArgument naming the parameter) and returns the dataset as this
  // stage leaves it: frame shape, dtype, and the detector calibration (pixel size, origin,
  // ellipse) expressed in the new pixels. Scan shape and scan calibration never change.
  virtual io::DatasetInfo prepare(const io::DatasetInfo& in) = 0;

  // Transforms the in.count frames of `in` (the layout prepare() was given) into `out`
  // (in.count frames of the layout prepare() returned, C order). Called concurrently for
  // different blocks after prepare(): must not modify the stage. `out` never aliases in.data.
  virtual void apply(const FrameBlock& in, std::byte* out) const = 0;

  // The parameters, for provenance.
  virtual Metadata parameters() const = 0;
};

// Calls prepare() on each stage in order and returns the dataset the analyses will see. Each
// stage's name and parameters are appended to metadata["preparation"] (a JSON array).
io::DatasetInfo prepare_stages(const io::DatasetInfo& info, std::span<FrameStage* const> stages);

// The detector calibration after the pixel mapping q_new = (q_old - shift_px) / scale, for
// both axes (qy, qx): origin (global and maps) mapped, detector pixel size multiplied by
// `scale`, ellipse semi-axes divided by it. Used by crop (scale 1, shift = first row/column),
// pad (shift = -padding) and binning (scale k, shift (k - 1) / 2: binned pixel I has its centre
// at old coordinate k·I + (k - 1)/2).
Calibration map_detector_pixels(const Calibration& cal, double shift_qy_px, double shift_qx_px, double scale);

}  // namespace scandiff::engine
