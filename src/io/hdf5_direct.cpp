#include "hdf5_direct.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io::h5 {

DirectFrames::DirectFrames(const std::filesystem::path& file, hid_t dset, std::size_t frame_bytes, std::string where)
    : frame_bytes_(frame_bytes), where_(std::move(where)) {
  const haddr_t offset = H5Dget_offset(dset);
  if (offset == HADDR_UNDEF)
    throw IoError(fmt::format("{}: the frame dataset has no file space allocated", where_));
  offset_ = offset;
  fd_ = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw IoError(fmt::format("{}: cannot open {} for writing: {}", where_, file.string(), std::strerror(errno)));
}

DirectFrames::~DirectFrames() {
  if (fd_ >= 0) ::close(fd_);
}

void DirectFrames::write(std::int64_t first, std::int64_t count, const std::byte* data) const {
  std::size_t left = static_cast<std::size_t>(count) * frame_bytes_;
  std::uint64_t at = offset_ + static_cast<std::uint64_t>(first) * frame_bytes_;
  while (left > 0) {
    const ssize_t n = ::pwrite(fd_, data, left, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw IoError(fmt::format("{}: cannot write frames [{}, {}): {}", where_, first, first + count,
                                n < 0 ? std::strerror(errno) : "no progress (disk full?)"));
    data += n;
    at += static_cast<std::uint64_t>(n);
    left -= static_cast<std::size_t>(n);
  }
}

void DirectFrames::finish() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw IoError(fmt::format("{}: writing the frames failed: {}", where_, std::strerror(errno)));
}

}  // namespace scandiff::io::h5
