#include "scandiff/io/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <system_error>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io {

namespace fs = std::filesystem;

AtomicOutput::AtomicOutput(fs::path target) : target_(std::move(target)) {
  static std::atomic<int> counter{0};
  if (target_.filename().empty())
    throw InvalidArgument(fmt::format("output path '{}' names a folder, expected a file name", target_.string()));
  fs::path dir = target_.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError(fmt::format("{}: cannot write, folder '{}' does not exist", target_.string(), dir.string()));
  if (fs::is_directory(target_, ec))
    throw IoError(fmt::format("{}: cannot write, it is a folder", target_.string()));
  if (::access(dir.c_str(), W_OK) != 0)
    throw IoError(fmt::format("{}: cannot write, folder '{}' is not writable", target_.string(), dir.string()));
  temp_ = dir / fmt::format(".{}.tmp-{}-{}", target_.filename().string(), ::getpid(), counter++);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicOutput::commit() {
  std::error_code ec;
  fs::rename(temp_, target_, ec);
  if (ec)
    throw IoError(fmt::format("{}: cannot rename the finished temporary file onto it: {}", target_.string(),
                              ec.message()));
  committed_ = true;
}

}  // namespace scandiff::io
