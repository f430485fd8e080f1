#include "hdf5_frames.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hdf5_util.hpp"

namespace scandiff::io::h5 {

std::int64_t FrameSegment::frames() const {
  if (shape.size() == 4) return shape[0] * shape[1];
  return shape.empty() ? 0 : shape[0];
}

FrameSource::FrameSource(DatasetInfo info, Handle file, std::vector<FrameSegment> segments, std::int64_t block) noexcept
    : file_(std::move(file)), segments_(std::move(segments)), block_(block) {
  info_ = std::move(info);
  std::int64_t start = 0;
  for (const FrameSegment& s : segments_) {
    starts_.push_back(start);
    start += s.frames();
  }
}

FrameSource::~FrameSource() {
  Lock lock;
  segments_.clear();
  file_.reset();
}

void FrameSource::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  if (count == 0) return;
  Lock lock;
  const std::int64_t end = first + count;
  // The segment holding `first`: the last one starting at or before it.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), first);
  std::size_t s = static_cast<std::size_t>(it - starts_.begin()) - 1;
  for (std::int64_t f = first; f < end; ++s) {
    const FrameSegment& seg = segments_.at(s);
    const std::int64_t local = f - starts_[s];
    const std::int64_t n = std::min(end - f, seg.frames() - local);
    if (n <= 0) continue;
    const std::string what = fmt::format("{}: cannot read frames [{}, {}) of {} (file truncated or corrupt?)",
                                         info_.path, f, f + n, seg.name);
    transfer_frames(seg.data.get(), seg.shape, native_type(info_.dtype), local, n,
                    dst + static_cast<std::size_t>(f - first) * info_.frame_bytes(), info_.frame_bytes(), true, what);
    f += n;
  }
}

std::int64_t chunk_frames(hid_t data, const Shape& shape) {
  Handle dcpl(H5Dget_create_plist(data));
  if (!dcpl || H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return 1;
  const int rank = static_cast<int>(shape.size());
  hsize_t chunk[4] = {1, 1, 1, 1};
  if (rank < 3 || rank > 4 || H5Pget_chunk(dcpl.get(), rank, chunk) != rank) return 1;
  if (rank == 3) return std::max<std::int64_t>(1, static_cast<std::int64_t>(chunk[0]));
  if (chunk[0] > 1) return static_cast<std::int64_t>(chunk[0]) * shape[1];
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(chunk[1]));
}

}  // namespace scandiff::io::h5
