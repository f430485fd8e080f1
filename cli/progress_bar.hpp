// Progress bars on stderr for long work. On a terminal: one redrawn line, about ten
// times a second. Otherwise: a line at each quarter, so logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "scandiff/core/progress.hpp"

namespace scandiff::cli {

// Set by Ctrl-C; every run started from the CLI watches it.
CancelToken& interrupt_token();

class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  // Redraws (rate-limited); returns false once Ctrl-C was pressed.
  bool update(std::int64_t done, std::int64_t total);
  // A ProgressCallback that drives this bar.
  ProgressCallback callback();

 private:
  void draw(std::int64_t done, std::int64_t total, bool final_line);
  std::string label_;
  bool enabled_, tty_;
  bool drawn_ = false;
  int last_quarter_ = -1;
  std::int64_t last_done_ = 0, last_total_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace scandiff::cli
