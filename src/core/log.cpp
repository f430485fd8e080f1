#include "scandiff/core/log.hpp"

#include <atomic>
#include <mutex>

namespace scandiff {
namespace {
std::mutex sink_mutex;
LogSink current_sink;
std::atomic<int> current_threshold{static_cast<int>(LogLevel::info)};
std::atomic<bool> has_sink{false};
}  // namespace

std::string_view name_of(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "log";
}

LogSink set_log_sink(LogSink sink, LogLevel threshold) {
  std::lock_guard lock(sink_mutex);
  LogSink previous = std::move(current_sink);
  current_sink = std::move(sink);
  current_threshold = static_cast<int>(threshold);
  has_sink = static_cast<bool>(current_sink);
  return previous;
}

bool log_enabled(LogLevel level) {
  return has_sink.load(std::memory_order_relaxed) && static_cast<int>(level) >= current_threshold.load();
}

void log_message(LogLevel level, std::string_view message) {
  std::lock_guard lock(sink_mutex);
  if (current_sink) current_sink(level, message);
}

}  // namespace scandiff
