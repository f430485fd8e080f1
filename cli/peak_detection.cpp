#include "peak_detection.hpp"

#include <fmt/format.h>

#include "array_file.hpp"
#include "polar_options.hpp"
#include "progress_bar.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/disk_detection.hpp"
#include "scandiff/stem/probe.hpp"
#include "scandiff/stem/probe_kernel.hpp"
#include "scandiff/stem/probe_size.hpp"

namespace scandiff::cli {

namespace {

// The probe image, and a description for the provenance.
std::pair<Array, std::string> make_probe(const PeakDetectionOptions& o, io::Source& source) {
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

}  // namespace

DetectedPeaks detect_peaks(io::Source& source, const PeakDetectionOptions& o, const GlobalOptions& global) {
  const io::DatasetInfo& info = source.info();
  stem::DiskDetectionOptions detect = o.detect;
  detect.subpixel = stem::parse_subpixel(o.subpixel);
  stem::validate(detect, info.frame_y, info.frame_x);
  DetectedPeaks out;
  out.probe_from = "none";
  if (!o.no_template) {
    std::tie(out.probe, out.probe_from) = make_probe(o, source);
    const stem::ProbeSize ps = stem::measure_probe_size(out.probe);
    out.probe_radius_px = ps.radius_px;
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
    out.kernel = stem::probe_kernel(out.probe, ko);
  } else if (!o.probe_region.empty() || !o.probe_file.empty() || !o.synthetic_probe.empty()) {
    throw InvalidArgument("--no-template: do not also give a probe");
  }
  stem::DiskDetection detection(out.kernel, detect);
  {
    ProgressBar bar("peaks", !global.quiet);
    engine::RunOptions run = global.run_options("peaks");
    run.progress = bar.callback();
    engine::Analysis* list[] = {&detection};
    engine::run(source, list, run);
  }
  out.results = detection.results();
  out.vectors = detection.vectors();
  return out;
}

void PeakDetectionOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--probe-region", probe_region,
                  "template: mean of the vacuum frames ry in [RY0,RY1), rx in [RX0,RX1), aligned, soft-masked")
      ->delimiter(',')
      ->expected(4);
  cmd->add_option("--probe-file", probe_file, "template: a vacuum probe image (PNG, or FILE.h5:ROOT/NODE)");
  cmd->add_option("--synthetic-probe", synthetic_probe,
                  "template: 1/(1+exp(4(r-RADIUS)/WIDTH)) at the frame centre (pixels)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_flag("--no-template", no_template, "find maxima of the (smoothed) patterns themselves");
  cmd->add_flag("--no-align", no_align, "--probe-region: average without aligning the frames");
  cmd->add_option("--probe-threshold", probe_threshold, "soft probe mask threshold (fraction of the max)")
      ->capture_default_str();
  cmd->add_option("--kernel", kernel, "flat, gaussian, sigmoid (sine squared) or logistic")->capture_default_str();
  cmd->add_option("--kernel-sigma", kernel_sigma, "gaussian kernel width relative to the probe's")->capture_default_str();
  cmd->add_option("--kernel-radii", kernel_radii, "sigmoid/logistic trench INNER,OUTER px (default R,2R)")
      ->delimiter(',')
      ->expected(2);
  auto& d = detect;
  cmd->add_option("--corr-power", d.corr_power, "1 cross-, 0 phase-correlation, between: hybrid")->capture_default_str();
  cmd->add_option("--sigma-dp", d.sigma_dp, "Gaussian on the patterns, px (0: none)")->capture_default_str();
  cmd->add_option("--sigma-cc", d.sigma_cc, "Gaussian on the correlation, px (0: none)")->capture_default_str();
  cmd->add_option("--subpixel", subpixel, "pixel, poly or multicorr")->capture_default_str();
  cmd->add_option("--upsample", d.upsample_factor, "multicorr upsampling factor")->capture_default_str();
  cmd->add_option("--min-absolute-intensity", d.min_absolute_intensity)->capture_default_str();
  cmd->add_option("--min-relative-intensity", d.min_relative_intensity)->capture_default_str();
  cmd->add_option("--relative-to-peak", d.relative_to_peak)->capture_default_str();
  cmd->add_option("--min-spacing", d.min_peak_spacing, "minimum peak spacing, px")->capture_default_str();
  cmd->add_option("--edge", d.edge_boundary, "ignore maxima within this many px of the edge")->capture_default_str();
  cmd->add_option("--max-peaks", d.max_num_peaks)->capture_default_str();
  cmd->add_flag("--radial-background", d.radial_background,
                "subtract py4DSTEM's radial background first (radial_bksb: the median over angle of the polar "
                "transform about the pattern's origin, smoothed; needs the origin; ellipse from the calibration)");
  add_polar_options(cmd, d.radial_polar, "Polar bins of --radial-background (py4DSTEM's PolarDatacube)");
}

}  // namespace scandiff::cli
