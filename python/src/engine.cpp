// Bindings of scandiff/engine: analyses, preparation stages, and run() with progress,
// Ctrl-C and the GIL handled.
//
// run() starts engine::run on a worker thread and waits for it on the calling thread with the GIL
// released, waking every 50 ms to run Python's signal handlers (PyErr_CheckSignals only works on
// the main thread, and the engine's progress callback may come from any pool thread). A
// KeyboardInterrupt (Ctrl-C, Jupyter's interrupt) cancels the pass through the CancelToken; run()
// waits for the engine to stop (within one block per thread), then raises the KeyboardInterrupt.
// Outputs of a cancelled pass are never committed (writers remove their temporary files).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "python_analysis.hpp"
#include "scandiff/engine/bin_q.hpp"
#include "scandiff/engine/crop_q.hpp"
#include "scandiff/engine/pad_q.hpp"
#include "scandiff/engine/pixel_repair.hpp"
#include "scandiff/engine/resample_q.hpp"
#include "scandiff/engine/run.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/raw_writer.hpp"

namespace scandiff::python {

namespace {

// WriteFrames that owns its sink.
struct SinkHolder {
  std::unique_ptr<io::FrameSink> sink;
};
class WriteFramesTo : private SinkHolder, public engine::WriteFrames {
 public:
  explicit WriteFramesTo(std::unique_ptr<io::FrameSink> owned)
      : SinkHolder{std::move(owned)}, engine::WriteFrames(*sink) {}
};
// Forwards to a sink owned elsewhere (a RawWriter held by Python).
class ForwardSink : public io::FrameSink {
 public:
  explicit ForwardSink(io::FrameSink& to) : to_(to) {}
  void write_frames(std::int64_t first, std::int64_t count, const std::byte* data) override {
    to_.write_frames(first, count, data);
  }
  bool concurrent() const override { return to_.concurrent(); }

 private:
  io::FrameSink& to_;
};

engine::RunStats run_analyses(Dataset& dataset, const std::vector<engine::Analysis*>& analyses, int threads,
                              const std::string& memory, std::int64_t block_frames, nb::object progress,
                              const std::vector<engine::FrameStage*>& stages) {
  engine::RunStats stats;
  run_interruptible(PassOptions{threads, memory, block_frames, std::move(progress), stages},
                    [&](const engine::RunOptions& options) { stats = engine::run(*dataset.source, analyses, options); },
                    analyses);
  return stats;
}

}  // namespace

void run_interruptible(const PassOptions& pass, const std::function<void(const engine::RunOptions&)>& body,
                       std::span<engine::Analysis* const> analyses) {
  engine::RunOptions options;
  options.threads = pass.threads;
  if (!pass.memory.empty()) options.memory_budget = engine::parse_memory_size(pass.memory, "memory");
  options.block_frames = pass.block_frames;
  options.stages = pass.stages;
  CancelToken token;
  options.cancel = &token;

  std::optional<nb::python_error> progress_error;
  if (!pass.progress.is_none()) {
    options.progress = [&](std::int64_t done, std::int64_t total, std::string_view) {
      nb::gil_scoped_acquire gil;
      try {
        nb::object r = pass.progress(done, total);
        return !(r.is_valid() && r.is(nb::handle(Py_False)));
      } catch (nb::python_error& e) {
        if (!progress_error) progress_error.emplace(e);
        return false;
      }
    };
  }

  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      body(options);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex);
    done = true;
    finished.notify_all();
  });

  std::optional<nb::python_error> interrupt;
  for (;;) {
    bool over = false;
    {
      nb::gil_scoped_release release;
      std::unique_lock lock(mutex);
      over = finished.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; });
    }
    if (over) break;
    if (!interrupt && PyErr_CheckSignals() != 0) {
      interrupt.emplace();  // takes the pending KeyboardInterrupt (or the handler's exception)
      token.cancel();
    }
  }
  {
    nb::gil_scoped_release release;
    worker.join();
  }
  // A signal that arrived after the last poll still interrupts the call (before any commit).
  if (!interrupt && PyErr_CheckSignals() != 0) interrupt.emplace();
  if (interrupt) throw *interrupt;
  if (progress_error) throw *progress_error;
  for (engine::Analysis* a : analyses)
    if (auto* p = dynamic_cast<PythonAnalysis*>(a)) p->rethrow_python_error();
  if (error) std::rethrow_exception(error);
}

void bind_engine(nb::module_& m) {
  nb::class_<engine::Analysis>(m, "Analysis", "one analysis of a pass (engine::Analysis)")
      .def_prop_ro("name", &engine::Analysis::name)
      .def("results", &engine::Analysis::results, "the outputs after a run, with axes, units and provenance");
  nb::class_<engine::FrameStage>(m, "FrameStage", "a frame preparation stage applied before the analyses")
      .def_prop_ro("name", &engine::FrameStage::name);

  nb::class_<engine::RunStats>(m, "RunStats")
      .def_ro("frames", &engine::RunStats::frames)
      .def_ro("blocks", &engine::RunStats::blocks)
      .def_ro("block_frames", &engine::RunStats::block_frames)
      .def_ro("threads", &engine::RunStats::threads)
      .def_ro("memory_budget", &engine::RunStats::memory_budget, "bytes")
      .def_ro("bytes_read", &engine::RunStats::bytes_read)
      .def_ro("seconds", &engine::RunStats::seconds);

  m.def("run", &run_analyses, nb::arg("dataset"), nb::arg("analyses"), nb::arg("threads") = 0,
        nb::arg("memory") = "", nb::arg("block_frames") = 0, nb::arg("progress") = nb::none(),
        nb::arg("stages") = std::vector<engine::FrameStage*>{},
        "one pass over the dataset feeding every analysis; progress(done, total) is called after each block "
        "(return False to cancel); Ctrl-C cancels and raises KeyboardInterrupt");
  m.def("parse_memory_size", [](const std::string& s) { return engine::parse_memory_size(s, "memory"); });
  m.def("default_memory_budget", &engine::default_memory_budget, "a quarter of the available memory, bytes");

  nb::class_<WriteFramesTo, engine::Analysis>(m, "WriteFrames", "streams every frame of the pass into a writer")
      .def_static("emd", [](EmdFile& file, const std::string& root, const std::string& name) {
        return std::make_unique<WriteFramesTo>(std::make_unique<io::EmdDataCubeSink>(file.get(), root, name));
      }, nb::arg("writer"), nb::arg("root") = "datacube_root", nb::arg("name") = "datacube", nb::keep_alive<0, 1>(),
         "into the DataCube root/name of an EmdWriter (created with add_datacube)")
      .def_static("hspy", [](HspyFile& file) {
        return std::make_unique<WriteFramesTo>(std::make_unique<ForwardSink>(file.get()));
      }, nb::arg("writer"), nb::keep_alive<0, 1>(), "into a HyperSpy writer")
      .def_static("raw", [](RawFile& file) {
        return std::make_unique<WriteFramesTo>(std::make_unique<ForwardSink>(file.get()));
      }, nb::arg("writer"), nb::keep_alive<0, 1>(), "into a RawWriter");

  nb::class_<engine::RepairPixels, engine::FrameStage>(m, "RepairPixels",
                                                       "replaces listed (qy, qx) pixels by the median of good neighbours")
      .def("__init__", [](engine::RepairPixels* r, const std::vector<std::pair<std::int64_t, std::int64_t>>& pixels) {
        std::vector<engine::DetectorPixel> px;
        for (auto [qy, qx] : pixels) px.push_back({qy, qx});
        new (r) engine::RepairPixels(std::move(px));
      }, nb::arg("pixels"));
  nb::class_<engine::CropQ, engine::FrameStage>(m, "CropQ", "detector rows qy_begin..qy_end-1, columns qx_begin..qx_end-1")
      .def(nb::init<std::int64_t, std::int64_t, std::int64_t, std::int64_t>(), nb::arg("qy_begin"), nb::arg("qy_end"),
           nb::arg("qx_begin"), nb::arg("qx_end"));
  nb::class_<engine::BinQ, engine::FrameStage>(m, "BinQ", "sums of factor x factor detector pixels (dtype promoted)")
      .def(nb::init<std::int64_t>(), nb::arg("factor"));
  nb::class_<engine::ResampleQ, engine::FrameStage>(m, "ResampleQ", "bilinear resampling to N*factor detector pixels")
      .def(nb::init<double, bool>(), nb::arg("factor"), nb::arg("conserve_sums") = false);
  nb::class_<engine::PadQ, engine::FrameStage>(m, "PadQ", "pixels of `value` added around each frame")
      .def(nb::init<std::int64_t, std::int64_t, std::int64_t, std::int64_t, double>(), nb::arg("top"),
           nb::arg("bottom"), nb::arg("left"), nb::arg("right"), nb::arg("value") = 0.0);
  m.def("prepared_info", [](const Dataset& d, const std::vector<engine::FrameStage*>& stages) {
    io::DatasetInfo info = d.info();
    for (engine::FrameStage* s : stages) info = s->prepare(info);
    return info;
  }, nb::arg("dataset"), nb::arg("stages"), "the dataset as the analyses see it after the stages, in order");
  m.def("repair_pixels", [](nb::handle image, const std::vector<std::pair<std::int64_t, std::int64_t>>& pixels) {
    std::vector<engine::DetectorPixel> px;
    for (auto [qy, qx] : pixels) px.push_back({qy, qx});
    return to_numpy(engine::repair_pixels(copy_array(image), px));
  }, nb::arg("image"), nb::arg("pixels"), "a repaired copy of a 2D (qy, qx) image");

  nb::class_<FrameMap, engine::Analysis>(m, "FrameMap")
      .def("__init__", [](FrameMap* f, nb::callable fn, const std::string& name, const std::vector<std::int64_t>& shape,
                          const std::string& dtype, bool per_block, const std::string& units) {
        new (f) FrameMap(std::move(fn), name, shape, parse_dtype(dtype, "dtype"), per_block, units);
      }, nb::arg("function"), nb::arg("name"), nb::arg("value_shape"), nb::arg("dtype"), nb::arg("per_block"),
           nb::arg("units"));
  nb::class_<BlockReduce, engine::Analysis>(m, "BlockReduce")
      .def(nb::init<nb::callable, nb::callable, nb::object, std::string>(), nb::arg("function"), nb::arg("merge"),
           nb::arg("finish").none(), nb::arg("name"))
      .def_prop_ro("value", &BlockReduce::value, "the reduced value after the run");
}

}  // namespace scandiff::python
