// HyperSpy HDF5 (.hspy, file format 3.3) as ePSIC's Merlin converter writes it: the frames at
// /Experiments/__unnamed__/data, C order (ry, rx, qy, qx), and one attribute-only group
// axis-i per array dimension i. Layout reference: shared/reference/emd-format.md §9.
//
// Axes we write: axis-0 "y" and axis-1 "x" (navigate = True: the scan rows and columns, step
// scan_pixel_size in scan_units), axis-2 "ky" and axis-3 "kx" (navigate = False: detector rows and
// columns, step detector_pixel_size in detector_units); offset 0, is_binned False. HyperSpy lists
// navigation axes fastest first, so hs.load shows them as (x, y | kx, ky) over the same array.
// Metadata: General/title, Signal/signal_type ("electron_diffraction" for electron data, as
// ePSIC writes; HyperSpy without pyxem loads it as a plain Signal2D with a warning).
//
// Thread safety as in emd.hpp: every call holds the process-wide HDF5 lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "scandiff/core/metadata.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/frame_sink.hpp"
#include "scandiff/io/hdf5_storage.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::io {

// Writes one 4D signal; frames stream in through write_frames() (a FrameSink), in any order of
// whole blocks (from several threads at once when the storage is contiguous). Output goes to a
// temporary file renamed onto the target by commit(); a writer destroyed without commit()
// removes it. Not thread-safe as an object otherwise.
class HspyWriter : public FrameSink {
 public:
  // `layout`: shape, dtype and calibration of the data; `title`: General/title ("" is written
  // as the experiment name __unnamed__, as HyperSpy does).
  HspyWriter(std::filesystem::path target, const DatasetInfo& layout, const Hdf5Storage& storage = {},
             const std::string& title = "");
  ~HspyWriter() override;
  HspyWriter(const HspyWriter&) = delete;
  HspyWriter& operator=(const HspyWriter&) = delete;

  // Frames [first, first + count), C order (count, qy, qx), in the layout's dtype.
  void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) override;
  // Contiguous storage: frames are written straight into the file from any thread (hdf5_direct).
  bool concurrent() const override;

  // Stores a JSON object under original_metadata/<name>: objects become groups, strings,
  // numbers and bools attributes, null "_None_", anything else (arrays) its JSON text.
  void add_original_metadata(const std::string& name, const Metadata& md);

  // Refuses a signal with frames missing; closes the file and renames it onto the target.
  void commit();

  const std::filesystem::path& target() const { return out_.target(); }

 private:
  struct State;
  AtomicOutput out_;
  std::unique_ptr<State> state_;
};

// True when `path` is an HDF5 file in HyperSpy's layout (root attribute file_format =
// "HyperSpy", or an /Experiments group). Never throws.
bool is_hspy_file(const std::filesystem::path& path);

struct HspyOpenOptions {
  std::string datapath;  // the experiment ("__unnamed__", "/Experiments/x" or ".../data"); "" = the first 3D/4D one
  // For a 3D stack of frames (n, qy, qx): the scan shape (scan_y, scan_x); default 1 x n.
  std::optional<std::pair<std::int64_t, std::int64_t>> scan_shape;
};

// Opens the frames of a HyperSpy file as a Source (format "hyperspy"): a 4D signal with
// navigation axes 0, 1 and signal axes 2, 3, or a 3D stack (n, qy, qx). Chunked and compressed
// data (e.g. ePSIC's Blosc) are read block by block through HDF5's filters (the plugin must be
// installed: a clear FormatError otherwise); preferred_block_frames() is one chunk's frames.
// Calibration comes from the axis-1 (scan) and axis-3 (detector) scale and units; info().metadata
// ["hyperspy"] holds the title, signal type, every axis and the experiment path.
// Throws IoError / FormatError naming the file and what was expected.
std::unique_ptr<Source> open_hspy(const std::filesystem::path& path, const HspyOpenOptions& options = {});

}  // namespace scandiff::io
