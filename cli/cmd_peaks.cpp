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
#include "calibrated_source.hpp"
#include "commands.hpp"
#include "input_options.hpp"
#include "progress_bar.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/stem/disk_detection.hpp"
#include "scandiff/stem/probe.hpp"
#include "scandiff/stem/probe_kernel.hpp"
#include "scandiff/stem/probe_size.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct PeaksOptions {
  InputOptions input;
  std::string out;
  std::string origin;
  // probe
  std::vector<std::int64_t> probe_region;  // ry0,ry1,rx0,rx1 (end exclusive)
  std::string probe_file;
  std::vector<double> synthetic_probe;     // radius,width
  bool no_template = false;
  bool no_align = false;
  double probe_threshold = 0.2;
  // kernel
  std::string kernel = "sigmoid";
  double kernel_sigma = 2;
  std::vector<double> kernel_radii;        // ri,ro
  // detection
  stem::DiskDetectionOptions detect;
  std::string subpixel = "multicorr";
  int bvm_sampling = 1;
};

// The probe image, and a description for the provenance.
std::pair<Array, std::string> make_probe(const PeaksOptions& o, io::Source& source) {
  const io::DatasetInfo& info = source.info();
  const int given = int(!o.probe_region.empty()) + int(!o.probe_file.empty()) + int(!o.synthetic_probe.empty());
  if (given != 1)
    throw InvalidArgument("peaks: give exactly one of --probe-region, --probe-file, --synthetic-probe (or --no-template)");
  stem::ProbeMaskOptions mask;
  mask.threshold = o.probe_threshold;
  if (!o.probe_region.empty()) {
    const auto& r = o.probe_region;
    if (r.size() != 4 || r[0] < 0 || r[1] > info.scan_y || r[0] >= r[1] || r[2] < 0 || r[3] > info.scan_x || r[2] >= r[3])
      throw InvalidArgument(fmt::format("--probe-region: expected RY0,RY1,RX0,RX1 with 0 <= RY0 < RY1 <= {} and "
                                        "0 <= RX0 < RX1 <= {}",
                                        info.scan_y, info.scan_x));
    std::vector<std::int64_t> frames;
    for (std::int64_t y = r[0]; y < r[1]; ++y)
      for (std::int64_t x = r[2]; x < r[3]; ++x) frames.push_back(y * info.scan_x + x);
    return {stem::vacuum_probe(source, frames, !o.no_align, true, mask),
            fmt::format("vacuum region ry {}..{}, rx {}..{}{}", r[0], r[1], r[2], r[3], o.no_align ? "" : ", aligned")};
  }
  if (!o.probe_file.empty()) {
    Array p = read_array_file(o.probe_file, "--probe-file");
    if (p.shape(0) != info.frame_y || p.shape(1) != info.frame_x)
      throw InvalidArgument(fmt::format("--probe-file: the probe is {}x{}, the frames are {}x{}", p.shape(0), p.shape(1),
                                        info.frame_y, info.frame_x));
    return {stem::soft_probe_mask(p, mask), "file " + o.probe_file};
  }
  if (o.synthetic_probe.size() != 2) throw InvalidArgument("--synthetic-probe: expected RADIUS,WIDTH in pixels");
  return {stem::synthetic_probe(o.synthetic_probe[0], o.synthetic_probe[1], info.frame_y, info.frame_x),
          fmt::format("synthetic radius {} px, width {} px", o.synthetic_probe[0], o.synthetic_probe[1])};
}

void run_peaks(const PeaksOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  auto source = o.input.open();
  if (!o.origin.empty()) {
    Calibration cal = source->info().calibration;
    apply_origin_option(o.origin, cal);
    source = std::make_unique<CalibratedSource>(std::move(source), cal);
  }
  const io::DatasetInfo& info = source->info();
  stem::DiskDetectionOptions detect = o.detect;
  detect.subpixel = stem::parse_subpixel(o.subpixel);
  stem::validate(detect, info.frame_y, info.frame_x);
  if (o.bvm_sampling < 1 || o.bvm_sampling > 16)
    throw InvalidArgument(fmt::format("--bvm-sampling must be 1..16 (got {})", o.bvm_sampling));

  Array probe, kernel;
  std::string probe_from = "none";
  double probe_radius = 0;
  if (!o.no_template) {
    std::tie(probe, probe_from) = make_probe(o, *source);
    const stem::ProbeSize ps = stem::measure_probe_size(probe);
    probe_radius = ps.radius_px;
    stem::KernelOptions ko;
    ko.mode = stem::parse_kernel_mode(o.kernel);
    ko.sigma = o.kernel_sigma;
    ko.center_qy_px = ps.center_qy_px;
    ko.center_qx_px = ps.center_qx_px;
    if (!o.kernel_radii.empty()) {
      if (o.kernel_radii.size() != 2) throw InvalidArgument("--kernel-radii: expected INNER,OUTER in pixels");
      ko.inner_px = o.kernel_radii[0];
      ko.outer_px = o.kernel_radii[1];
    } else {  // a trench from the probe edge to twice its radius
      ko.inner_px = ps.radius_px;
      ko.outer_px = 2 * ps.radius_px;
    }
    kernel = stem::probe_kernel(probe, ko);
  } else if (!o.probe_region.empty() || !o.probe_file.empty() || !o.synthetic_probe.empty()) {
    throw InvalidArgument("--no-template: do not also give a probe");
  }

  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) throw IoError(fmt::format("--out {}: cannot create the folder: {}", o.out, ec.message()));

  stem::DiskDetection detection(kernel, detect);
  {
    ProgressBar bar("peaks", !global.quiet);
    engine::RunOptions run = global.run_options("peaks");
    run.progress = bar.callback();
    engine::Analysis* list[] = {&detection};
    engine::run(*source, list, run);
  }
  std::vector<Result> results = detection.results();
  if (o.bvm_sampling != 1) results[0].data = stem::bragg_vector_map(detection.vectors(), o.bvm_sampling);
  if (o.bvm_sampling != 1)
    for (Axis& a : results[0].axes) a.step /= o.bvm_sampling;
  Metadata md{{"probe", probe_from},
              {"probe_radius_px", probe_radius},
              {"kernel", o.no_template ? "none" : o.kernel},
              {"total_peaks", detection.vectors().total_peaks()},
              {"scandiff_version", scandiff::version}};
  const fs::path emd_path = fs::path(o.out) / "peaks.h5";
  {
    io::EmdWriter emd(emd_path);
    emd.add_root("peaks", info.calibration);
    emd.add_bragg_vectors("peaks", "braggvectors", detection.vectors().to_emd());
    for (const Result& r : results) emd.add_array("peaks", r, python_class_for(r));
    if (!o.no_template) {
      emd.add_array("peaks", Result{"probe", probe, info.detector_axes(), "counts", {}}, "DiffractionSlice");
      emd.add_array("peaks", Result{"kernel", kernel, info.detector_axes(), "", {}}, "DiffractionSlice");
    }
    emd.add_metadata("peaks", "detection", md);
    emd.commit();
  }
  write_result_pngs(o.out, results, "viridis");

  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("peaks: {} frames of {}x{} {} in {:.2f} s, {} peaks ({:.1f} per pattern), subpixel {}\n",
                           info.frame_count(), info.frame_y, info.frame_x, name_of(info.dtype), seconds,
                           detection.vectors().total_peaks(),
                           static_cast<double>(detection.vectors().total_peaks()) / static_cast<double>(info.frame_count()),
                           o.subpixel);
  std::cout << fmt::format("  probe: {}{}\n", probe_from,
                           o.no_template ? "" : fmt::format(" (radius {:.2f} px), kernel {}", probe_radius, o.kernel));
  std::cout << fmt::format("  {}  EMD 1.0, root 'peaks': braggvectors bragg_vector_map peak_count{}\n", emd_path.string(),
                           o.no_template ? "" : " probe kernel");
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
  cmd->add_option("--probe-region", o->probe_region,
                  "template: mean of the vacuum frames ry in [RY0,RY1), rx in [RX0,RX1), aligned, soft-masked")
      ->delimiter(',')
      ->expected(4);
  cmd->add_option("--probe-file", o->probe_file, "template: a vacuum probe image (PNG, or FILE.h5:ROOT/NODE)");
  cmd->add_option("--synthetic-probe", o->synthetic_probe,
                  "template: 1/(1+exp(4(r-RADIUS)/WIDTH)) at the frame centre (pixels)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_flag("--no-template", o->no_template, "find maxima of the (smoothed) patterns themselves");
  cmd->add_flag("--no-align", o->no_align, "--probe-region: average without aligning the frames");
  cmd->add_option("--probe-threshold", o->probe_threshold, "soft probe mask threshold (fraction of the max)")
      ->capture_default_str();
  cmd->add_option("--kernel", o->kernel, "flat, gaussian, sigmoid (sine squared) or logistic")->capture_default_str();
  cmd->add_option("--kernel-sigma", o->kernel_sigma, "gaussian kernel width relative to the probe's")->capture_default_str();
  cmd->add_option("--kernel-radii", o->kernel_radii, "sigmoid/logistic trench INNER,OUTER px (default R,2R)")
      ->delimiter(',')
      ->expected(2);
  auto& d = o->detect;
  cmd->add_option("--corr-power", d.corr_power, "1 cross-, 0 phase-correlation, between: hybrid")->capture_default_str();
  cmd->add_option("--sigma-dp", d.sigma_dp, "Gaussian on the patterns, px (0: none)")->capture_default_str();
  cmd->add_option("--sigma-cc", d.sigma_cc, "Gaussian on the correlation, px (0: none)")->capture_default_str();
  cmd->add_option("--subpixel", o->subpixel, "pixel, poly or multicorr")->capture_default_str();
  cmd->add_option("--upsample", d.upsample_factor, "multicorr upsampling factor")->capture_default_str();
  cmd->add_option("--min-absolute-intensity", d.min_absolute_intensity)->capture_default_str();
  cmd->add_option("--min-relative-intensity", d.min_relative_intensity)->capture_default_str();
  cmd->add_option("--relative-to-peak", d.relative_to_peak)->capture_default_str();
  cmd->add_option("--min-spacing", d.min_peak_spacing, "minimum peak spacing, px")->capture_default_str();
  cmd->add_option("--edge", d.edge_boundary, "ignore maxima within this many px of the edge")->capture_default_str();
  cmd->add_option("--max-peaks", d.max_num_peaks)->capture_default_str();
  cmd->add_flag("--radial-background", d.radial_background,
                "subtract each pattern's radial median around the origin first (needs the origin)");
  cmd->add_option("--bvm-sampling", o->bvm_sampling, "Bragg vector map bins per detector pixel")->capture_default_str();
  cmd->callback([o, &global] { run_peaks(*o, global); });
}

}  // namespace scandiff::cli
