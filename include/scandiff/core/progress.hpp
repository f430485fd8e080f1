// Progress reporting and cancellation for long operations.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace scandiff {

// Called with the work done and the total (same unit, e.g. frames) and a short label.
// Return false to request cancellation; the operation then stops within one block
// and throws scandiff::Cancelled. Called from one thread at a time.
using ProgressCallback = std::function<bool(std::int64_t done, std::int64_t total, std::string_view what)>;

// A flag another thread (a signal handler, a GUI) may set to cancel a running operation.
class CancelToken {
 public:
  void cancel() { flag_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
  void reset() { flag_.store(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace scandiff
