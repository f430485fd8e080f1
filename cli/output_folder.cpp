#include "output_folder.hpp"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::cli {

void create_output_folder(const std::string& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw IoError(fmt::format("--out {}: cannot create the folder: {}", folder, ec.message()));
}

}  // namespace scandiff::cli
