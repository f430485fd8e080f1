// Synthetic 4D-STEM data with exact ground truth: the pieces every generator shares.
//
// Conventions for the whole `scandiff::sim` layer:
// - scan axes (ry, rx), detector axes (qy, qx); qx is the fast (column) axis. Frames are
//   written in scan order (ry major, rx minor), each C order (qy, qx), as io::Source::read.
// - Pixel (i, j) of a frame is the detector sample whose *centre* is at (qy, qx) = (i, j);
//   an intensity-weighted centroid sum(I * j) / sum(I) is therefore directly comparable to
//   every position below.
// - Vectors are written (x, y) = (qx, qy), in detector pixels. Angles are in radians,
//   measured from +qx towards +qy.
// - Elliptical distortion (ratio = a/b >= 1, theta = angle of the a-axis): an ideal pattern
//   vector q (relative to the origin) lands on the detector at D·q with
//   D = R(theta)·diag(a/b, 1)·R(theta)^T. Correction by the py4DSTEM rule
//   (stem-algorithms.md §6: q <- R(theta)·diag(b/a, 1)·R(theta)^T·q) is exactly D^-1, so the
//   ideal radius of a feature is the semi-minor axis b of its elliptical image.
// - Reproducibility: frame i draws its noise from a generator seeded by a splitmix64 hash of
//   (seed, i), so a frame's bytes do not depend on which thread renders it, on the order of
//   rendering or on how frames are grouped into calls. The Poisson sampler is implemented
//   here rather than taken from std::poisson_distribution (whose algorithm differs between
//   standard libraries), so the bytes agree across platforms as far as their exp/log/sqrt do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::sim {

// A detector-plane vector, (x, y) = (qx, qy) in pixels.
struct Vec2 {
  double x = 0;
  double y = 0;
};

// Elliptical distortion of the whole pattern about the origin (see the conventions above).
struct EllipseDistortion {
  double ratio = 1;      // a/b >= 1; 1 means no distortion
  double theta_rad = 0;  // angle of the a-axis from +qx towards +qy
};

enum class Noise {
  none,     // the expected counts (rounded for integer dtypes)
  poisson,  // one Poisson draw per pixel with the expected counts as its mean
};

std::string_view name_of(Noise noise);
// "none" or "poisson"; throws InvalidArgument naming `what` otherwise.
Noise parse_noise(std::string_view text, std::string_view what = "noise");

// The detector-space image of the ideal vector q under `e`: D·q.
Vec2 distort(const EllipseDistortion& e, Vec2 q);
// The py4DSTEM correction D^-1·v: restores the ideal vector from a measured one.
Vec2 correct(const EllipseDistortion& e, Vec2 v);

// Anything that renders frames of a synthetic scan on demand. Implementations are
// immutable after construction, so render() may be called from many threads at once.
class FrameGenerator {
 public:
  virtual ~FrameGenerator() = default;

  // Shape, dtype, calibration (what a reader of the data would know) and metadata.
  // info().format is "simulated".
  virtual io::DatasetInfo info() const = 0;

  // Renders frames [first, first + count) (linear index ry * scan_x + rx) into `dst`:
  // count * frame_bytes bytes, C order (count, qy, qx), dtype info().dtype.
  // Throws InvalidArgument when the range is outside the scan. Thread-safe.
  virtual void render(std::int64_t first, std::int64_t count, std::byte* dst) const = 0;

  // The exact truth the data was made from, as named float64 results.
  virtual std::vector<Result> ground_truth() const = 0;

  // Every parameter, as JSON, for provenance.
  virtual Metadata parameters() const = 0;
};

}  // namespace scandiff::sim
