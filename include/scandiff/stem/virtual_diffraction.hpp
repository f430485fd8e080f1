// Virtual diffraction: pixel-wise reductions over all scan positions,
//   mean[qy, qx] = (1/N) sum_{ry, rx} frame[ry, rx, qy, qx]
//   max[qy, qx]  = max_{ry, rx} frame[ry, rx, qy, qx]
// in float64, as py4DSTEM's get_dp_mean / get_dp_max.
#pragma once

#include "scandiff/engine/analysis.hpp"

namespace scandiff::stem {

class VirtualDiffraction : public engine::Analysis {
 public:
  struct Options {
    bool mean = true;
    bool max = true;
  };
  VirtualDiffraction() : VirtualDiffraction(Options{}) {}
  explicit VirtualDiffraction(Options options);

  std::string name() const override { return "virtual_diffraction"; }
  void prepare(const io::DatasetInfo& info) override;
  std::size_t output_bytes() const override { return sum_.nbytes() + max_.nbytes(); }
  std::unique_ptr<engine::Partial> make_partial() const override;
  void process(const engine::FrameBlock& block, engine::Partial* partial) override;
  void merge(const engine::Partial& partial) override;
  void finish() override;
  std::vector<Result> results() const override;

  const Array& mean() const { return mean_; }  // (qy, qx) float64, after the run
  const Array& max() const { return max_; }    // (qy, qx) float64, after the run

 private:
  Options options_;
  io::DatasetInfo info_;
  Array sum_, max_, mean_;
};

}  // namespace scandiff::stem
