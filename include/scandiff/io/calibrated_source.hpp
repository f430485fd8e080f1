// A Source seen with a different calibration: the frames of `inner`, the calibration given
// (e.g. an origin taken from another file with --origin, or set from Python). Everything else
// is forwarded; the inner source is shared, so several calibrations may view the same frames.
#pragma once

#include <memory>

#include "scandiff/io/source.hpp"

namespace scandiff::io {

class CalibratedSource : public Source {
 public:
  CalibratedSource(std::shared_ptr<Source> inner, const Calibration& calibration) : inner_(std::move(inner)) {
    info_ = inner_->info();
    info_.calibration = calibration;
  }
  void read(std::int64_t first, std::int64_t count, std::byte* dst) override { inner_->read(first, count, dst); }
  const std::byte* view(std::int64_t first, std::int64_t count) override { return inner_->view(first, count); }
  void release(std::int64_t first, std::int64_t count) override { inner_->release(first, count); }
  std::int64_t preferred_block_frames() const override { return inner_->preferred_block_frames(); }

 private:
  std::shared_ptr<Source> inner_;
};

}  // namespace scandiff::io
