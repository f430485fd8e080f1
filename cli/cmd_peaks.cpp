// scandiff peaks FILE --out DIR: Bragg disk detection on every diffraction pattern (py4DSTEM's
// find_Bragg_disks), with a probe template from a vacuum region of the scan, a probe image file
// or a synthetic probe. Writes DIR/peaks.h5 (EMD 1.0 root 'peaks': the BraggVectors that
// py4DSTEM.read loads, the Bragg vector map, the peak count map, the probe and the kernel) and
// DIR/bragg_vector_map.png, DIR/peak_count.png.
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "array_file.hpp"
#include "commands.hpp"
#include "output_folder.hpp"
#include "input_options.hpp"
#include "peak_detection.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct PeaksOptions {
  InputOptions input;
  std::string out;
  std::string origin;
  PeakDetectionOptions detection;
  int bvm_sampling = 1;
};

void run_peaks(const PeaksOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  auto source = with_origin_option(o.input.open(), o.origin);
  const io::DatasetInfo& info = source->info();
  if (o.bvm_sampling < 1 || o.bvm_sampling > 16)
    throw InvalidArgument(fmt::format("--bvm-sampling must be 1..16 (got {})", o.bvm_sampling));
  const DetectedPeaks det = detect_peaks(*source, o.detection, global);
  create_output_folder(o.out);
  const stem::BraggVectors& vectors = det.vectors;
  std::vector<Result> results = det.results;
  if (o.bvm_sampling != 1) results[0].data = stem::bragg_vector_map(vectors, o.bvm_sampling);
  if (o.bvm_sampling != 1)
    for (Axis& a : results[0].axes) a.step /= o.bvm_sampling;
  const PeakDetectionOptions& d = o.detection;
  Metadata md{{"probe", det.probe_from},
              {"probe_radius_px", det.probe_radius_px},
              {"kernel", d.no_template ? "none" : d.kernel},
              {"total_peaks", vectors.total_peaks()},
              {"scandiff_version", scandiff::version}};
  const fs::path emd_path = fs::path(o.out) / "peaks.h5";
  {
    io::EmdWriter emd(emd_path);
    emd.add_root("peaks", info.calibration);
    emd.add_bragg_vectors("peaks", "braggvectors", vectors.to_emd());
    for (const Result& r : results) emd.add_array("peaks", r, python_class_for(r));
    if (!d.no_template) {
      emd.add_array("peaks", Result{"probe", det.probe, info.detector_axes(), "counts", {}}, "DiffractionSlice");
      emd.add_array("peaks", Result{"kernel", det.kernel, info.detector_axes(), "", {}}, "DiffractionSlice");
    }
    emd.add_metadata("peaks", "detection", md);
    emd.commit();
  }
  write_result_pngs(o.out, results, "viridis");

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("peaks: {} frames of {}x{} {} in {:.2f} s, {} peaks ({:.1f} per pattern), subpixel {}\n",
                           info.frame_count(), info.frame_y, info.frame_x, name_of(info.dtype), seconds,
                           vectors.total_peaks(),
                           static_cast<double>(vectors.total_peaks()) / static_cast<double>(info.frame_count()),
                           d.subpixel);
  std::cout << fmt::format("  probe: {}{}\n", det.probe_from,
                           d.no_template ? "" : fmt::format(" (radius {:.2f} px), kernel {}", det.probe_radius_px, d.kernel));
  std::cout << fmt::format("  {}  EMD 1.0, root 'peaks': braggvectors bragg_vector_map peak_count{}\n", emd_path.string(),
                           d.no_template ? "" : " probe kernel");
  std::cout << fmt::format("  {}/bragg_vector_map.png, {}/peak_count.png\n", o.out, o.out);
}

}  // namespace

void register_peaks(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<PeaksOptions>();
  auto* cmd = app.add_subcommand("peaks", "Bragg disk detection on every pattern (py4DSTEM find_Bragg_disks) -> "
                                          "BraggVectors EMD + Bragg vector map");
  o->input.add_to(cmd);
  cmd->add_option("--out", o->out, "folder for peaks.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--origin", o->origin, "origin for --radial-background: QY,QX pixels or FILE.h5[:ROOT]");
  o->detection.add_to(cmd);
  cmd->add_option("--bvm-sampling", o->bvm_sampling, "Bragg vector map bins per detector pixel")->capture_default_str();
  cmd->callback([o, &global] { run_peaks(*o, global); });
}

}  // namespace scandiff::cli
