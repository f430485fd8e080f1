// Bragg disk detection shared by `scandiff peaks` and `scandiff strain` (when it is given a
// scan): the probe/kernel/detection options, their registration on a subcommand, and the pass.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/io/source.hpp"
#include "scandiff/stem/bragg_disks.hpp"
#include "scandiff/stem/bragg_vectors.hpp"

namespace scandiff::cli {

struct PeakDetectionOptions {
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

  void add_to(CLI::App* cmd);
};

struct DetectedPeaks {
  stem::BraggVectors vectors;
  std::vector<Result> results;  // bragg_vector_map, peak_count (DiskDetection::results)
  Array probe, kernel;          // empty without a template
  std::string probe_from;       // description for the provenance
  double probe_radius_px = 0;
};

// Validates the options against the source, builds the template and runs the detection pass
// (progress bar unless quiet). Throws InvalidArgument naming the option.
DetectedPeaks detect_peaks(io::Source& source, const PeakDetectionOptions& options, const GlobalOptions& global);

}  // namespace scandiff::cli
