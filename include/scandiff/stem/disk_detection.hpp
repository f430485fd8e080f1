// Bragg disk detection over a whole scan as an engine::Analysis: every frame goes through
// DiskFinder (bragg_disks.hpp) on the engine's threads, each thread with its own buffers and
// the one shared FFTW plan set. Output: raw BraggVectors (detector pixels), identical for any
// thread count (each position's list depends on its frame only).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "scandiff/engine/analysis.hpp"
#include "scandiff/stem/bragg_disks.hpp"
#include "scandiff/stem/bragg_vectors.hpp"

namespace scandiff::stem {

class DiskDetection : public engine::Analysis {
 public:
  // `kernel`: (qy, qx) of the frame shape, or empty for no template (checked in prepare()).
  DiskDetection(Array kernel, DiskDetectionOptions options);
  ~DiskDetection() override;

  std::string name() const override { return "bragg_disks"; }
  // Validates the options against the frame shape (InvalidArgument naming the option); with
  // radial_background the calibration must hold the origin (global or per position), and its
  // ellipse, when set, is used as py4DSTEM's PolarDatacube does. Each thread's workspace keeps the
  // polar plan of its last origin: built once for a global origin, per pattern for origin maps.
  void prepare(const io::DatasetInfo& info) override;
  // Upper bound: max_num_peaks peaks at every position.
  std::size_t output_bytes() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  // "bragg_vector_map" (raw, (qy, qx), Σ intensities) and "peak_count" ((ry, rx), peaks found).
  std::vector<Result> results() const override;

  const BraggVectors& vectors() const { return vectors_; }
  const DiskDetectionOptions& options() const { return options_; }

 private:
  std::unique_ptr<DiskFinder::Workspace> acquire();
  void release(std::unique_ptr<DiskFinder::Workspace> ws);

  Array kernel_;
  DiskDetectionOptions options_;
  io::DatasetInfo info_;
  std::unique_ptr<DiskFinder> finder_;
  BraggVectors vectors_;
  std::vector<double> origin_qy_, origin_qx_;  // per position, for the radial background
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<DiskFinder::Workspace>> pool_;
};

}  // namespace scandiff::stem
