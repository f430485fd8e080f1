// A Source seen with a different calibration: the frames of `inner`, the calibration given
// (e.g. an origin taken from another file with --origin). Everything else is forwarded.
#pragma once

#include <memory>

#include "scandiff/io/source.hpp"

namespace scandiff::cli {

class CalibratedSource : public io::Source {
 public:
  CalibratedSource(std::unique_ptr<io::Source> inner, const Calibration& calibration) : inner_(std::move(inner)) {
    info_ = inner_->info();
    info_.calibration = calibration;
  }
  void read(std::int64_t first, std::int64_t count, std::byte* dst) override { inner_->read(first, count, dst); }
  const std::byte* view(std::int64_t first, std::int64_t count) override { return inner_->view(first, count); }
  void release(std::int64_t first, std::int64_t count) override { inner_->release(first, count); }
  std::int64_t preferred_block_frames() const override { return inner_->preferred_block_frames(); }

 private:
  std::unique_ptr<io::Source> inner_;
};

}  // namespace scandiff::cli
