// Internal helpers shared by the image readers (not installed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <system_error>

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

}  // namespace scandiff::io::detail
