// Private: frames written straight into a contiguous, unfiltered HDF5 dataset with pwrite(2), from
// any number of threads at once and without the HDF5 lock. The dataset's space is allocated when
// it is created (H5D_ALLOC_TIME_EARLY) and never filled (H5D_FILL_TIME_NEVER), so its file offset
// is fixed and HDF5 itself never writes there; each frame has one place, so blocks may arrive in
// any order. This is how `convert` writes uncompressed output at the rate of the disk: no copy
// into HDF5, no serial writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include <hdf5.h>

namespace scandiff::io::h5 {

class DirectFrames {
 public:
  // `file`: the HDF5 file being written (its temporary name); `dset`: a contiguous dataset of
  // `frames` frames of `frame_bytes` created in it with early allocation. Call under h5::Lock.
  // Throws IoError naming `where` when the file cannot be opened or the dataset has no offset.
  DirectFrames(const std::filesystem::path& file, hid_t dset, std::size_t frame_bytes, std::string where);
  ~DirectFrames();
  DirectFrames(const DirectFrames&) = delete;
  DirectFrames& operator=(const DirectFrames&) = delete;

  // Writes frames [first, first + count) from `data` (C order). Thread-safe; no HDF5 call.
  void write(std::int64_t first, std::int64_t count, const std::byte* data) const;
  // Closes the descriptor; throws IoError if the kernel reported a write error at close.
  void finish();

 private:
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::size_t frame_bytes_;
  std::string where_;
};

}  // namespace scandiff::io::h5
