// scandiff convert IN OUT.h5: any dataset io::open reads (EMD/HDF5, Merlin .mib, raw) into
// an EMD 1.0 DataCube, in ONE pass over the frames that also computes the mean and max
// diffraction patterns and the total-intensity image (sum of each frame). Those results go
// into the same file (py4DSTEM opens it) and, as PNGs, beside it.
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "result_files.hpp"
#include "input_options.hpp"
#include "progress_bar.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

void check_output(const InputOptions& input, const fs::path& out) {
  const std::string ext = out.extension().string();
  if (ext != ".h5" && ext != ".hdf5" && ext != ".emd")
    throw InvalidArgument(fmt::format("output '{}': expected an EMD 1.0 file name ending in .h5, .hdf5 or .emd",
                                      out.string()));
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(out, input.path, ec))
    throw InvalidArgument(fmt::format("output '{}' is the input file", out.string()));
}

fs::path beside(const fs::path& out, const std::string& suffix) {
  return out.parent_path() / (out.stem().string() + "_" + suffix + ".png");
}

}  // namespace

void register_convert(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("convert",
                                 "convert a dataset (e.g. Merlin .mib) to an EMD 1.0 DataCube in one pass, with its "
                                 "mean/max diffraction patterns and total-intensity image (in the file and as PNGs)");
  auto input = std::make_shared<InputOptions>();
  input->add_to(cmd);
  auto out = std::make_shared<std::string>();
  cmd->add_option("out", *out, "output EMD 1.0 file (.h5, .hdf5, .emd)")->required();
  cmd->callback([input, out, &global] {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path target(*out);
    check_output(*input, target);
    auto source = input->open();
    const io::DatasetInfo& info = source->info();
    const std::string root = "datacube_root";

    io::EmdWriter emd(target);
    emd.add_root(root, info.calibration);
    emd.add_datacube(root, "datacube", info.shape(), info.dtype, info.calibration);
    io::EmdDataCubeSink sink(emd, root, "datacube");
    engine::WriteFrames writer(sink);
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
    emd.add_metadata(root, "conversion",
                     {{"input", info.path},
                      {"input_format", info.format},
                      {"shape", {info.scan_y, info.scan_x, info.frame_y, info.frame_x}},
                      {"axes", {"ry", "rx", "qy", "qx"}},
                      {"dtype", std::string(name_of(info.dtype))},
                      {"scandiff_version", scandiff::version}});
    if (!info.metadata.empty()) emd.add_metadata(root, "input_metadata", emd_safe_metadata(info.metadata));
    emd.commit();

    io::PngOptions log_inferno;
    log_inferno.colormap = "inferno";
    log_inferno.range.stretch = io::DisplayRange::Stretch::log;
    io::write_png(beside(target, "mean_diffraction"), diffraction.mean(), log_inferno);
    io::write_png(beside(target, "max_diffraction"), diffraction.max(), log_inferno);
    io::write_png(beside(target, "total_intensity"), total.image());

    if (global.quiet) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << fmt::format(
        "convert: {} -> {}\n  datacube_root/datacube {} {} ({} frames, {:.1f} MiB) in {:.2f} s ({:.2f} GB/s)\n"
        "  + mean_diffraction, max_diffraction, total_intensity (in the file and as {}_*.png)\n",
        info.path, target.string(), shape_string(info.shape()), name_of(info.dtype), stats.frames,
        static_cast<double>(info.total_bytes()) / (1 << 20), seconds,
        static_cast<double>(info.total_bytes()) / seconds / 1e9, (target.parent_path() / target.stem()).string());
  });
}

}  // namespace scandiff::cli
