// Shared helpers of the MIB tests: temporary folders, reading a source back, capturing
// library warnings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "scandiff/core/log.hpp"
#include "scandiff/io/source.hpp"
#include "temp_dir.hpp"

namespace scandiff_test {

// Every frame of a source as uint32 values, scan order.
inline std::vector<std::uint32_t> read_values(scandiff::io::Source& src) {
  const auto& info = src.info();
  std::vector<std::byte> buf(info.total_bytes());
  src.read(0, info.frame_count(), buf.data());
  std::vector<std::uint32_t> out(static_cast<std::size_t>(info.frame_count() * info.frame_pixels()));
  scandiff::visit_dtype(info.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* p = reinterpret_cast<const T*>(buf.data());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint32_t>(p[i]);
  });
  return out;
}

// Random frames of `pixels` values below 2^bits.
inline std::vector<std::vector<std::uint32_t>> random_frames(std::size_t count, std::int64_t pixels, int bits,
                                                             unsigned seed) {
  std::mt19937 rng(seed);
  const std::uint32_t mask = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1u;
  std::vector<std::vector<std::uint32_t>> frames(count, std::vector<std::uint32_t>(static_cast<std::size_t>(pixels)));
  for (auto& f : frames)
    for (auto& v : f) v = static_cast<std::uint32_t>(rng()) & mask;
  return frames;
}

inline std::vector<std::uint32_t> concat(const std::vector<std::vector<std::uint32_t>>& frames) {
  std::vector<std::uint32_t> out;
  for (const auto& f : frames) out.insert(out.end(), f.begin(), f.end());
  return out;
}

// Collects library warnings while alive.
struct CaptureLog {
  std::vector<std::string> lines;
  scandiff::LogSink previous;
  CaptureLog() {
    previous = scandiff::set_log_sink(
        [this](scandiff::LogLevel level, std::string_view m) {
          if (level >= scandiff::LogLevel::warning) lines.emplace_back(m);
        },
        scandiff::LogLevel::warning);
  }
  ~CaptureLog() { scandiff::set_log_sink(previous, scandiff::LogLevel::info); }
  bool contains(const std::string& text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

}  // namespace scandiff_test
