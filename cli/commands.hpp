// The scandiff command-line tool: one file per subcommand, each registering itself
// on the app with register_<name>(). Shared options live in GlobalOptions.
#pragma once

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

#include "scandiff/engine/run.hpp"

namespace scandiff::cli {

struct GlobalOptions {
  int threads = 0;           // --threads, 0 = all cores
  std::string memory;        // --memory, e.g. "2G"; empty = default budget
  bool quiet = false;        // --quiet: no progress bars, warnings only
  bool verbose = false;      // --verbose: debug messages
  std::string fftw_wisdom;   // --fftw-wisdom FILE: measured FFTW plans read from and saved to FILE

  // Engine options from the flags: threads, parsed budget, progress bar callback.
  engine::RunOptions run_options(const std::string& what) const;
};

// Exit codes (documented in docs/cli.md).
enum ExitCode : int {
  exit_ok = 0,
  exit_failure = 1,        // an analysis or writer failed
  exit_usage = 2,          // bad command line or parameter
  exit_input = 3,          // an input file is missing, unreadable or malformed
  exit_budget = 4,         // the memory budget is too small
  exit_cancelled = 130,    // interrupted (Ctrl-C)
};

void register_info(CLI::App& app, const GlobalOptions& global);
void register_simulate(CLI::App& app, const GlobalOptions& global);
void register_demo(CLI::App& app, const GlobalOptions& global);
// `calibrate` and its subcommands (cmd_calibrate_*.cpp).
void register_calibrate(CLI::App& app, const GlobalOptions& global);
void register_calibrate_origin(CLI::App& calibrate, const GlobalOptions& global);
void register_calibrate_probe(CLI::App& calibrate, const GlobalOptions& global);
void register_calibrate_bad_pixels(CLI::App& calibrate, const GlobalOptions& global);
void register_calibrate_xray(CLI::App& calibrate, const GlobalOptions& global);
void register_virtual(CLI::App& app, const GlobalOptions& global);
void register_com(CLI::App& app, const GlobalOptions& global);
void register_convert(CLI::App& app, const GlobalOptions& global);
void register_nmf(CLI::App& app, const GlobalOptions& global);
// `integrate`: azimuthal integration of X-ray images (cmd_integrate.cpp).
void register_integrate(CLI::App& app, const GlobalOptions& global);
void register_peaks(CLI::App& app, const GlobalOptions& global);
void register_strain(CLI::App& app, const GlobalOptions& global);
void register_calibrate_ellipse(CLI::App& calibrate, const GlobalOptions& global);
void register_calibrate_pixel_size(CLI::App& calibrate, const GlobalOptions& global);
void register_polar(CLI::App& app, const GlobalOptions& global);
// `sxdm` and its subcommands (cmd_sxdm_*.cpp): scanning X-ray diffraction microscopy.
void register_sxdm(CLI::App& app, const GlobalOptions& global);
void register_sxdm_centroid(CLI::App& sxdm, const GlobalOptions& global);
void register_sxdm_roi(CLI::App& sxdm, const GlobalOptions& global);
void register_sxdm_rocking(CLI::App& sxdm, const GlobalOptions& global);
void register_sxdm_align(CLI::App& sxdm, const GlobalOptions& global);

}  // namespace scandiff::cli
