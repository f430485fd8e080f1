#include "scandiff/io/raw_writer.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

RawWriter::RawWriter(std::filesystem::path target, const DatasetInfo& layout)
    : out_(std::move(target)), layout_(layout) {
  layout_.validate();
  file_ = std::fopen(out_.temp_path().c_str(), "wb");
  if (!file_) throw IoError(fmt::format("{}: cannot create: {}", out_.target().string(), std::strerror(errno)));
}

RawWriter::~RawWriter() {
  if (file_) std::fclose(file_);
}

void RawWriter::write_frames(std::int64_t first, std::int64_t count, const std::byte* data) {
  if (first != next_frame_ || count < 0 || first + count > layout_.frame_count())
    throw InvalidArgument(fmt::format("{}: frames [{}, {}) written out of order; expected frame {} next of {}",
                                      out_.target().string(), first, first + count, next_frame_,
                                      layout_.frame_count()));
  const std::size_t bytes = static_cast<std::size_t>(count) * layout_.frame_bytes();
  if (std::fwrite(data, 1, bytes, file_) != bytes)
    throw IoError(fmt::format("{}: write failed: {}", out_.target().string(), std::strerror(errno)));
  next_frame_ += count;
}

void RawWriter::commit() {
  if (next_frame_ != layout_.frame_count())
    throw Error(fmt::format("{}: only {} of {} frames were written; not saved", out_.target().string(), next_frame_,
                            layout_.frame_count()));
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) throw IoError(fmt::format("{}: closing failed: {}", out_.target().string(), std::strerror(errno)));
  out_.commit();
}

void EmdDataCubeSink::write_frames(std::int64_t first, std::int64_t count, const std::byte* data) {
  writer_.write_frames(root_, name_, first, count, data);
}

bool EmdDataCubeSink::concurrent() const { return writer_.concurrent_frames(root_, name_); }

}  // namespace scandiff::io
