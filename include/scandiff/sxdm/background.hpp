// Per-scan background subtraction for SXDM, as sxdm's scan_background():
//   B[qy, qx] = multiplier · mean over the background frames of frame[qy, qx]      (float64)
// where the background frames are the first N and the last N frames of the scan in acquisition
// (scan) order, each counted once when the scan has fewer than 2N frames (sxdm takes them from
// the first and last map rows; its last-row slice [cols-N, rows-1) is an indexing slip, we take
// the full N). Or B = multiplier · the mean of given dark/background images (one or more files).
//
// BackgroundSubtracted is the Source of the corrected frames, out = float32(frame − B): the
// difference can be negative, so the output dtype is always float32 whatever the input dtype.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::sxdm {

struct BackgroundSpec {
  enum class Kind { none, edge_frames, image };
  Kind kind = Kind::edge_frames;
  std::int64_t frames = 3;    // N for edge_frames
  double multiplier = 1;      // scales B
  std::vector<std::filesystem::path> images;  // Kind::image: single-frame TIFF/EDF/CBF files, averaged
};

// multiplier · mean of the first n and last n frames of `source`, float64 (qy, qx). Throws
// InvalidArgument unless n >= 1.
Array edge_frame_background(io::Source& source, std::int64_t n, double multiplier);

// The background of `source` as `spec` says, float64 (qy, qx) (zeros for Kind::none). An image
// of another shape than the frames is an InvalidArgument naming the file.
Array scan_background(io::Source& source, const BackgroundSpec& spec);

// float32 frames of `inner` minus `background` (float64 (qy, qx) of the frame shape).
class BackgroundSubtracted final : public io::Source {
 public:
  BackgroundSubtracted(std::shared_ptr<io::Source> inner, Array background);
  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;
  std::int64_t preferred_block_frames() const override { return inner_->preferred_block_frames(); }
  const Array& background() const { return background_; }

 private:
  std::shared_ptr<io::Source> inner_;
  Array background_;  // float64 (qy, qx), contiguous
};

}  // namespace scandiff::sxdm
