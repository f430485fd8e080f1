#include "hdf5_probe.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"

namespace scandiff::io::h5 {

namespace {

bool probe_child = false;

// How long a metadata walk may take before the file is declared unreadable (a valid file
// takes milliseconds).
constexpr auto probe_timeout = std::chrono::seconds(60);

// Exit codes of the probe child; any other status counts as a crash.
constexpr int walk_ok = 0;
constexpr int walk_reported_error = 10;
constexpr int walk_unexpected = 11;

using FileVersion = std::tuple<dev_t, ino_t, off_t, std::int64_t, long, std::string>;

}  // namespace

bool in_probe_child() { return probe_child; }

void probe_in_child(const std::filesystem::path& path, const std::function<void()>& walk,
                    const std::string& purpose) {
  if (probe_child) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // the caller reports a missing file itself
  static std::set<FileVersion> probed;  // guarded by the HDF5 lock the caller holds
  const FileVersion version{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, purpose};
  if (probed.count(version)) return;

  const pid_t pid = ::fork();
  if (pid < 0) {
    log_warning("{}: cannot start the crash-isolated check of this HDF5 file ({}); reading it directly",
                path.string(), std::strerror(errno));
    return;
  }
  if (pid == 0) {
    probe_child = true;
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);  // a crashing HDF5 may print: keep it out of our output
    int code = walk_ok;
    try {
      walk();
    } catch (const Error&) {
      code = walk_reported_error;  // the parent will meet it again, with its message
    } catch (...) {
      code = walk_unexpected;
    }
    ::_exit(code);
  }

  const auto deadline = std::chrono::steady_clock::now() + probe_timeout;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw FormatError(fmt::format("{}: reading this HDF5 file's metadata did not finish within {} s; the file "
                                    "is corrupt or not a usable HDF5 dataset",
                                    path.string(), probe_timeout.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Anything but a clean exit with one of our codes (a signal, a sanitizer's or the C
  // library's own exit status, an unexpected exception) means reading the file is unsafe.
  const bool clean = WIFEXITED(status) &&
                     (WEXITSTATUS(status) == walk_ok || WEXITSTATUS(status) == walk_reported_error);
  if (!clean)
    throw FormatError(fmt::format("{}: the file is corrupt: the HDF5 library failed ({}) while reading its "
                                  "metadata, so it cannot be read safely",
                                  path.string(),
                                  WIFSIGNALED(status) ? std::string(::strsignal(WTERMSIG(status)))
                                                      : fmt::format("exit status {}", WEXITSTATUS(status))));
  probed.insert(version);
}

}  // namespace scandiff::io::h5
