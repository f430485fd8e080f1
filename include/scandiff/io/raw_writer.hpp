// Writes frames as headerless native-endian binary (the layout RawSource reads), to a
// temporary name renamed onto the target only once every frame has been written.
#pragma once

#include <cstdio>
#include <filesystem>

#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/frame_sink.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::io {

class RawWriter : public FrameSink {
 public:
  RawWriter(std::filesystem::path target, const DatasetInfo& layout);
  ~RawWriter() override;
  // Frames must arrive in order, without gaps.
  void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) override;
  // Checks that every frame was written, flushes, renames onto the target.
  void commit();

 private:
  AtomicOutput out_;
  DatasetInfo layout_;
  std::FILE* file_ = nullptr;
  std::int64_t next_frame_ = 0;
};

// Streams frames into a DataCube of an EmdWriter (see emd.hpp).
class EmdWriter;
class EmdDataCubeSink : public FrameSink {
 public:
  EmdDataCubeSink(EmdWriter& writer, std::string root, std::string name)
      : writer_(writer), root_(std::move(root)), name_(std::move(name)) {}
  void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) override;
  bool concurrent() const override;

 private:
  EmdWriter& writer_;
  std::string root_, name_;
};

}  // namespace scandiff::io
