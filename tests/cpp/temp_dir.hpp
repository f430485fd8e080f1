// A fresh, empty folder per test under the system temp directory, removed when destroyed.
// The name carries the process id and a counter, so parallel test processes never share one.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace scandiff_test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) : path(unique_path(name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }

 private:
  static std::filesystem::path unique_path(const std::string& name) {
    static std::atomic<int> counter{0};
    return std::filesystem::temp_directory_path() /
           ("scandiff_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  }
};

}  // namespace scandiff_test
