// Internal helpers shared by the image readers (not installed).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io::detail {

// Checks that `path` names an existing regular file and returns its size in bytes.
// Throws IoError naming the file (and `what`, e.g. "TIFF") when it is missing or a folder.
inline std::uintmax_t readable_file_size(const std::filesystem::path& path, std::string_view what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    const std::string reason =
        (ec && ec != std::errc::no_such_file_or_directory) ? ec.message() : std::string("no such file");
    throw IoError(fmt::format("{}: cannot read {}: {}", path.string(), what, reason));
  }
  if (fs::is_directory(st)) throw IoError(fmt::format("{}: cannot read {}: it is a folder", path.string(), what));
  const auto size = fs::file_size(path, ec);
  if (ec) throw IoError(fmt::format("{}: cannot read {}: {}", path.string(), what, ec.message()));
  return size;
}

// Reads `count` bytes at byte `offset` of `path` (fewer when the file ends first: the result
// says how many). Throws IoError naming the file (and `what`) when it cannot be opened or read.
inline std::vector<std::byte> read_file_bytes(const std::filesystem::path& path, std::uint64_t offset,
                                              std::size_t count, std::string_view what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(fmt::format("{}: cannot read {}: {}", path.string(), what, std::strerror(errno)));
  std::vector<std::byte> out(count);
  f.seekg(static_cast<std::streamoff>(offset));
  if (f) f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(count));
  if (f.bad()) throw IoError(fmt::format("{}: cannot read {}: read error", path.string(), what));
  if (f) return out;
  const auto got = static_cast<std::size_t>(f.gcount() > 0 ? f.gcount() : 0);  // the file ended first
  return std::vector<std::byte>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got));
}

}  // namespace scandiff::io::detail
