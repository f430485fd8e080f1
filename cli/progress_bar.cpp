#include "progress_bar.hpp"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace scandiff::cli {

CancelToken& interrupt_token() {
  static CancelToken token;
  return token;
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && drawn_ && tty_) draw(last_done_, last_total_, true);
}

ProgressCallback ProgressBar::callback() {
  return [this](std::int64_t done, std::int64_t total, std::string_view) { return update(done, total); };
}

bool ProgressBar::update(std::int64_t done, std::int64_t total) {
  last_done_ = done;
  last_total_ = total;
  if (enabled_ && total > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (tty_) {
      if (now - last_draw_ > std::chrono::milliseconds(100) || done == total) {
        draw(done, total, false);
        last_draw_ = now;
      }
    } else {
      const int quarter = static_cast<int>(4 * done / total);
      if (quarter != last_quarter_ && quarter > 0) {
        last_quarter_ = quarter;
        draw(done, total, true);
      }
    }
  }
  return !interrupt_token().cancelled();
}

void ProgressBar::draw(std::int64_t done, std::int64_t total, bool final_line) {
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  constexpr int width = 30;
  const int filled = static_cast<int>(fraction * width);
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                          std::string(static_cast<std::size_t>(width - filled), '.');
  const std::string line = fmt::format("{} [{}] {:3.0f}% {}/{} frames, {:.0f} frames/s, {:.1f} s left", label_, bar,
                                       100 * fraction, done, total, rate, eta);
  if (tty_)
    std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final_line ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace scandiff::cli
