// Writers never leave a half-written output: they write to a temporary name in the
// target's folder and rename it over the target only when everything succeeded.
#pragma once

#include <filesystem>

namespace scandiff::io {

class AtomicOutput {
 public:
  // Chooses a temporary path "<dir>/.<name>.tmp-<pid>-<n>" beside `target`.
  // Throws IoError if the target's folder does not exist or is not writable.
  explicit AtomicOutput(std::filesystem::path target);
  ~AtomicOutput();  // removes the temporary file unless commit() succeeded
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  // Renames the temporary file onto the target (atomic on one filesystem).
  void commit();

 private:
  std::filesystem::path target_, temp_;
  bool committed_ = false;
};

}  // namespace scandiff::io
