#include "scandiff/io/raw_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "scandiff/core/log.hpp"

namespace scandiff::io {

namespace {

void byteswap_in_place(std::byte* data, std::size_t count, std::size_t elem) {
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * elem, data + (i + 1) * elem);
}

std::size_t page_size() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

RawSource::RawSource(const std::filesystem::path& path, const RawLayout& layout, Calibration calibration)
    : layout_(layout) {
  info_.path = path.string();
  info_.format = "raw";
  info_.scan_y = layout.scan_y;
  info_.scan_x = layout.scan_x;
  info_.frame_y = layout.frame_y;
  info_.frame_x = layout.frame_x;
  info_.dtype = layout.dtype;
  info_.calibration = std::move(calibration);
  info_.validate();

  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError(fmt::format("{}: cannot open: {}", info_.path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw IoError(fmt::format("{}: not a regular file", info_.path));
  }
  const std::size_t need = layout.header_bytes + info_.total_bytes();
  const auto have = static_cast<std::size_t>(st.st_size);
  if (have < need) {
    ::close(fd_);
    throw FormatError(fmt::format("{}: file is {} bytes, but a {} {} dataset after a {}-byte header needs {} bytes "
                                  "(truncated, or wrong shape/dtype)",
                                  info_.path, have, shape_string(info_.shape()), name_of(layout.dtype),
                                  layout.header_bytes, need));
  }
  if (have > need)
    log_warning("{}: {} bytes beyond the {} {} dataset are ignored", info_.path, have - need,
                shape_string(info_.shape()), name_of(layout.dtype));
  swap_ = size_of(layout.dtype) > 1 && (layout.big_endian != (std::endian::native == std::endian::big));
  if (!swap_ && need > 0) {
    void* m = ::mmap(nullptr, need, PROT_READ, MAP_SHARED, fd_, 0);
    if (m != MAP_FAILED) {
      map_ = static_cast<std::byte*>(m);
      map_bytes_ = need;
      ::madvise(m, need, MADV_SEQUENTIAL);
    }
  }
}

RawSource::~RawSource() {
  if (map_) ::munmap(map_, map_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

const std::byte* RawSource::view(std::int64_t first, std::int64_t count) {
  check_range(first, count);
  if (!map_) return nullptr;
  return map_ + layout_.header_bytes + static_cast<std::size_t>(first) * info_.frame_bytes();
}

void RawSource::release(std::int64_t first, std::int64_t count) {
  if (!map_) return;
  // Drop whole pages of the range from this process's resident set; the page cache keeps them.
  const std::size_t ps = page_size();
  std::size_t begin = layout_.header_bytes + static_cast<std::size_t>(first) * info_.frame_bytes();
  std::size_t end = begin + static_cast<std::size_t>(count) * info_.frame_bytes();
  begin = begin / ps * ps;
  end = std::min((end + ps - 1) / ps * ps, map_bytes_);
  if (end > begin) ::madvise(map_ + begin, end - begin, MADV_DONTNEED);
}

void RawSource::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  const std::size_t bytes = static_cast<std::size_t>(count) * info_.frame_bytes();
  const auto offset = static_cast<off_t>(layout_.header_bytes + static_cast<std::size_t>(first) * info_.frame_bytes());
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd_, dst + done, bytes - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw IoError(fmt::format("{}: reading frames {}..{} failed: {}", info_.path, first, first + count - 1,
                                n == 0 ? "unexpected end of file" : std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  if (swap_)
    byteswap_in_place(dst, bytes / size_of(layout_.dtype), size_of(layout_.dtype));
}

}  // namespace scandiff::io
