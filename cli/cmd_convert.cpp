// scandiff convert IN OUT: any dataset io::open reads (EMD/HyperSpy/Dectris HDF5, Merlin .mib,
// raw) into an EMD 1.0 DataCube (py4DSTEM) or a HyperSpy .hspy signal (ePSIC's layout), in ONE
// pass over the frames that also computes the mean and max diffraction patterns and the
// total-intensity image (sum of each frame). Those results go into the EMD file (for the
// HyperSpy layout into OUT_summary.h5 beside it) and, as PNGs, beside it.
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "result_files.hpp"
#include "input_options.hpp"
#include "progress_bar.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/hdf5_storage.hpp"
#include "scandiff/io/hspy.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct ConvertOptions {
  std::string out;
  std::string layout = "auto";  // emd | hyperspy | auto (hyperspy for .hspy)
  std::string chunk = "auto";   // none | frame | row | N | auto
  std::string compression = "none";
  int level = 0;

  bool hyperspy() const {
    return layout == "hyperspy" || (layout == "auto" && fs::path(out).extension() == ".hspy");
  }
  io::Hdf5Storage storage() const {
    io::Hdf5Storage s;
    s.compression = io::parse_hdf5_compression(compression, "--compression");
    s.level = level;
    if (chunk == "none") {
      if (s.compression != io::Hdf5Compression::none)
        throw InvalidArgument("--chunk none: compressed data must be chunked; use --chunk frame, row or N");
    } else if (chunk == "frame") {
      s.chunk_frames = 1;
    } else if (chunk == "row") {
      s.chunk_frames = std::numeric_limits<std::int64_t>::max();
    } else if (chunk != "auto") {
      std::size_t used = 0;
      long long n = 0;
      try {
        n = std::stoll(chunk, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != chunk.size() || n <= 0)
        throw InvalidArgument(fmt::format("--chunk '{}': expected none, frame, row or a positive number of frames",
                                          chunk));
      s.chunk_frames = n;
    }
    return s;
  }
};

void check_output(const InputOptions& input, const ConvertOptions& options) {
  const fs::path out(options.out);
  const std::string ext = out.extension().string();
  if (options.hyperspy()) {
    if (ext != ".hspy" && ext != ".h5" && ext != ".hdf5")
      throw InvalidArgument(fmt::format("output '{}': expected a HyperSpy file name ending in .hspy, .h5 or .hdf5",
                                        out.string()));
  } else if (ext != ".h5" && ext != ".hdf5" && ext != ".emd") {
    throw InvalidArgument(fmt::format("output '{}': expected an EMD 1.0 file name ending in .h5, .hdf5 or .emd (or "
                                      ".hspy, or --layout hyperspy, for HyperSpy)",
                                      out.string()));
  }
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(out, input.path, ec))
    throw InvalidArgument(fmt::format("output '{}' is the input file", out.string()));
}

fs::path beside(const fs::path& out, const std::string& suffix) {
  return out.parent_path() / (out.stem().string() + "_" + suffix + ".png");
}

}  // namespace

void register_convert(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand(
      "convert",
      "convert a dataset (e.g. Merlin .mib) to an EMD 1.0 DataCube or a HyperSpy .hspy signal in one pass, with its "
      "mean/max diffraction patterns and total-intensity image");
  auto input = std::make_shared<InputOptions>();
  input->add_to(cmd);
  auto opt = std::make_shared<ConvertOptions>();
  cmd->add_option("out", opt->out, "output file: EMD 1.0 (.h5, .hdf5, .emd) or HyperSpy (.hspy)")->required();
  cmd->add_option("--layout", opt->layout,
                  "emd (py4DSTEM DataCube at datacube_root/datacube) or hyperspy (/Experiments/__unnamed__/data, "
                  "as ePSIC writes); default: hyperspy for .hspy, else emd")
      ->check(CLI::IsMember({"auto", "emd", "hyperspy"}));
  cmd->add_option("--chunk", opt->chunk,
                  "HDF5 chunks of the frames: none (contiguous; the default without compression), frame (one frame "
                  "per chunk; the default with compression), row (one scan row), or N frames of a row");
  cmd->add_option("--compression", opt->compression,
                  "none, gzip (deflate), lz4 (filter 32004), bitshuffle-lz4 (32008) or blosc (32001, LZ4 + bit "
                  "shuffle); all but gzip need the HDF5 filter plugin to write and to read")
      ->check(CLI::IsMember({"none", "gzip", "lz4", "bitshuffle-lz4", "bslz4", "blosc"}))
      ->capture_default_str();
  cmd->add_option("--compression-level", opt->level, "gzip and blosc level 1..9 (default gzip 4, blosc 5)")
      ->check(CLI::Range(1, 9));
  cmd->callback([input, opt, &global] {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path target(opt->out);
    check_output(*input, *opt);
    const io::Hdf5Storage storage = opt->storage();
    auto source = input->open();
    const io::DatasetInfo& info = source->info();
    const std::string root = "datacube_root";
    const bool hyperspy = opt->hyperspy();
    const fs::path summary_path =
        hyperspy ? target.parent_path() / (target.stem().string() + "_summary.h5") : target;

    // Frames go to the HyperSpy file, or to the DataCube of the EMD file that also takes the results.
    io::EmdWriter emd(summary_path);
    emd.add_root(root, info.calibration);
    std::unique_ptr<io::HspyWriter> hspy;
    std::unique_ptr<io::FrameSink> cube_sink;
    if (hyperspy) {
      hspy = std::make_unique<io::HspyWriter>(target, info, storage);
    } else {
      emd.add_datacube(root, "datacube", info.shape(), info.dtype, info.calibration, storage);
      cube_sink = std::make_unique<io::EmdDataCubeSink>(emd, root, "datacube");
    }
    engine::WriteFrames writer(hyperspy ? static_cast<io::FrameSink&>(*hspy) : *cube_sink);
    stem::VirtualDiffraction diffraction;  // mean and max, float64 (qy, qx)
    stem::VirtualImage total("total_intensity",
                             stem::Detector::rectangle(info.frame_y, info.frame_x, 0, static_cast<double>(info.frame_y),
                                                       0, static_cast<double>(info.frame_x)));
    engine::Analysis* analyses[] = {&writer, &diffraction, &total};

    engine::RunOptions options = global.run_options("convert");
    engine::RunStats stats;
    {
      ProgressBar bar("convert", !global.quiet);
      options.progress = bar.callback();
      stats = engine::run(*source, analyses, options);
    }

    for (engine::Analysis* a : {static_cast<engine::Analysis*>(&diffraction), static_cast<engine::Analysis*>(&total)})
      for (const Result& r : a->results()) emd.add_array(root, r, python_class_for(r));
    const Metadata conversion = {{"input", info.path},
                                 {"input_format", info.format},
                                 {"shape", {info.scan_y, info.scan_x, info.frame_y, info.frame_x}},
                                 {"axes", {"ry", "rx", "qy", "qx"}},
                                 {"dtype", std::string(name_of(info.dtype))},
                                 {"layout", hyperspy ? "hyperspy" : "emd"},
                                 {"frames_file", target.string()},
                                 {"storage", storage.describe(info.scan_x)},
                                 {"scandiff_version", scandiff::version}};
    emd.add_metadata(root, "conversion", conversion);
    if (!info.metadata.empty()) emd.add_metadata(root, "input_metadata", emd_safe_metadata(info.metadata));
    if (hspy) {
      hspy->add_original_metadata("scandiff_conversion", conversion);
      if (!info.metadata.empty()) hspy->add_original_metadata("input_metadata", info.metadata);
      hspy->commit();
    }
    emd.commit();

    io::PngOptions log_inferno;
    log_inferno.colormap = "inferno";
    log_inferno.range.stretch = io::DisplayRange::Stretch::log;
    io::write_png(beside(target, "mean_diffraction"), diffraction.mean(), log_inferno);
    io::write_png(beside(target, "max_diffraction"), diffraction.max(), log_inferno);
    io::write_png(beside(target, "total_intensity"), total.image());

    if (global.quiet) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string frames_node = hyperspy ? "/Experiments/__unnamed__/data" : "datacube_root/datacube";
    std::cout << fmt::format(
        "convert: {} -> {}\n  {} {} {} ({} frames, {:.1f} MiB, {}) in {:.2f} s ({:.2f} GB/s)\n"
        "  + mean_diffraction, max_diffraction, total_intensity (in {} and as {}_*.png)\n",
        info.path, target.string(), frames_node, shape_string(info.shape()), name_of(info.dtype), stats.frames,
        static_cast<double>(info.total_bytes()) / (1 << 20), storage.describe(info.scan_x), seconds,
        static_cast<double>(info.total_bytes()) / seconds / 1e9, summary_path.string(),
        (target.parent_path() / target.stem()).string());
  });
}

}  // namespace scandiff::cli
