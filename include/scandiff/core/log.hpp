// The library never prints: it reports through a process-wide log sink that the
// application installs (the CLI writes to stderr, Python forwards to `logging`).
// With no sink installed, messages are discarded.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace scandiff {

enum class LogLevel { debug = 0, info = 1, warning = 2, error = 3 };

std::string_view name_of(LogLevel level);

using LogSink = std::function<void(LogLevel, std::string_view message)>;

// Installs `sink` (thread-safe); messages below `threshold` are dropped before formatting.
// Returns the previous sink. Pass an empty function to silence the library.
LogSink set_log_sink(LogSink sink, LogLevel threshold = LogLevel::info);
bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (log_enabled(level)) log_message(level, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::debug, f, std::forward<Args>(a)...); }
template <class... Args>
void log_info(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::info, f, std::forward<Args>(a)...); }
template <class... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::warning, f, std::forward<Args>(a)...); }

}  // namespace scandiff
