// Shared pieces of the scandiff Python bindings (one binding source per library area, each
// registering its classes and functions on the module with bind_<area>()). The bindings hold no
// analysis logic: they convert arguments, release the GIL around library calls and convert back.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"
#include "scandiff/engine/analysis.hpp"
#include "scandiff/engine/frame_stage.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/hdf5_storage.hpp"
#include "scandiff/io/hspy.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::python {

namespace nb = nanobind;

// A numpy array over `array`'s memory WITHOUT copying: a capsule holding a copy of the Array
// (which shares ownership of the buffer) is the numpy array's base, so the buffer lives as long
// as either side uses it. None for an empty Array.
nb::object to_numpy(const Array& array);

// An Array borrowing the memory of a numpy (or any DLPack/buffer) array, any strides, without
// copying. The caller keeps `data` alive for as long as the Array is used. Throws TypeError for
// element types scandiff does not handle (it handles uint8/16/32, int32, float32, float64).
Array borrow_array(const nb::ndarray<nb::ro, nb::device::cpu>& data);
// A C-contiguous owned copy of any numpy-convertible object, converted to `dtype` when given.
Array copy_array(nb::handle object);

// JSON metadata <-> Python objects (dict, list, str, int, float, bool, None).
nb::object to_python(const Metadata& json);
Metadata from_python(nb::handle object);

// A dataset open for reading: the Source and whatever its memory belongs to (a numpy array).
struct Dataset {
  std::shared_ptr<io::Source> source;
  nb::object keep_alive;  // None, or the array a MemorySource borrows
  const io::DatasetInfo& info() const { return source->info(); }
};

// An EmdWriter that Python can abandon explicitly (a traceback may keep the object alive long
// after a failed run; abort() removes the temporary file at once).
struct EmdFile {
  std::unique_ptr<io::EmdWriter> writer;
  io::EmdWriter& get() {
    if (!writer) throw InvalidArgument("EMD writer already committed or aborted");
    return *writer;
  }
};

struct HspyFile {
  std::unique_ptr<io::HspyWriter> writer;
  io::HspyWriter& get() {
    if (!writer) throw InvalidArgument("HyperSpy writer already committed or aborted");
    return *writer;
  }
};

// HDF5 storage of written frames: chunk_frames (0 contiguous, 1 one frame per chunk, N frames of a
// scan row), compression ("none", "gzip", "lz4", "bitshuffle-lz4", "blosc") and level (0 default).
io::Hdf5Storage storage_of(std::int64_t chunk_frames, const std::string& compression, int level);

struct RawFile {
  std::unique_ptr<io::RawWriter> writer;
  io::RawWriter& get() {
    if (!writer) throw InvalidArgument("raw writer already committed or aborted");
    return *writer;
  }
};

// How a pass runs, as Python gives it: threads (0: all cores), memory budget ("" default, "2G",
// bytes), block_frames (0: from the budget), progress(done, total) or None, preparation stages.
struct PassOptions {
  int threads = 0;
  std::string memory;
  std::int64_t block_frames = 0;
  nb::object progress;
  std::vector<engine::FrameStage*> stages;
};

// Runs `body` (which calls engine::run, or a library function running passes, with the options it
// is given) on a worker thread while this thread waits with the GIL released, checking for
// signals every 50 ms: Ctrl-C cancels the pass and KeyboardInterrupt is raised when it has
// stopped. The progress callback runs with the GIL; returning False cancels (Cancelled), an
// exception in it cancels and is re-raised. Then the first exception of a Python analysis in
// `analyses` is re-raised, then the library's own error. Call with the GIL held.
void run_interruptible(const PassOptions& pass, const std::function<void(const engine::RunOptions&)>& body,
                       std::span<engine::Analysis* const> analyses = {});

void bind_core(nb::module_& m);
void bind_io(nb::module_& m);
void bind_engine(nb::module_& m);
void bind_sim(nb::module_& m);
void bind_stem(nb::module_& m);
void bind_polar(nb::module_& m);
void bind_bragg(nb::module_& m);
void bind_xray(nb::module_& m);
void bind_analysis(nb::module_& m);
void bind_sxdm(nb::module_& m);

}  // namespace scandiff::python
