// scandiff: entry point. Parses global options, dispatches to a subcommand and turns
// scandiff::Error into one line on stderr and a meaningful exit code.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "progress_bar.hpp"
#include "scandiff/analysis/fft_planning.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/version.hpp"

namespace {

void on_interrupt(int) { scandiff::cli::interrupt_token().cancel(); }

}  // namespace

int main(int argc, char** argv) {
  using namespace scandiff;
  using namespace scandiff::cli;

  CLI::App app{"scandiff: fast, streaming analysis of scanning diffraction data (4D-STEM, SXDM)."};
  app.set_version_flag("--version", std::string("scandiff ") + scandiff::version);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  app.add_option("--threads,-j", global.threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--memory", global.memory,
                 "memory budget for streaming work, e.g. 512M or 4G (default: a quarter of available RAM)")
      ->check([](const std::string& text) {
        try {
          engine::parse_memory_size(text, "--memory");
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      });
  app.add_flag("--quiet,-q", global.quiet, "no progress bars; only warnings and errors");
  app.add_flag("--verbose,-v", global.verbose, "also print debug messages");
  app.add_option("--fftw-wisdom", global.fftw_wisdom,
                 "keep measured FFTW plans in FILE: a new transform size is timed once (FFTW_PATIENT, a few "
                 "seconds), later runs read the plans back; the Fourier transforms of Bragg disk detection, probe "
                 "alignment and Friedel origin fits run "
                 "1.3-1.5x faster, results can differ from the default plans in the last bits")
      ->type_name("FILE");
  // Before the subcommand runs: read the wisdom; after it succeeded: save it (with any new plans).
  app.parse_complete_callback([&global] {
    if (global.fftw_wisdom.empty()) return;
    analysis::set_fft_planning(analysis::FftPlanning::patient);
    if (analysis::import_fftw_wisdom(global.fftw_wisdom))
      log_debug("read FFTW wisdom from {}", global.fftw_wisdom);
  });
  app.final_callback([&global] {
    if (!global.fftw_wisdom.empty()) analysis::export_fftw_wisdom(global.fftw_wisdom);
  });

  register_info(app, global);
  register_simulate(app, global);
  register_demo(app, global);
  register_calibrate(app, global);
  register_virtual(app, global);
  register_com(app, global);
  register_convert(app, global);
  register_nmf(app, global);
  register_integrate(app, global);
  register_peaks(app, global);
  register_strain(app, global);
  register_polar(app, global);
  register_sxdm(app, global);

  // The library never prints: its messages come here. Warnings always, debug with --verbose.
  set_log_sink(
      [&global](LogLevel level, std::string_view message) {
        if (level == LogLevel::debug && !global.verbose) return;
        if (level == LogLevel::info && global.quiet) return;
        std::cerr << "scandiff: " << name_of(level) << ": " << message << '\n';
      },
      LogLevel::debug);
  std::signal(SIGINT, on_interrupt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const Cancelled&) {
    std::cerr << "scandiff: cancelled\n";
    return exit_cancelled;
  } catch (const InvalidArgument& e) {
    std::cerr << "scandiff: error: " << e.what() << '\n';
    return exit_usage;
  } catch (const BudgetError& e) {
    std::cerr << "scandiff: error: " << e.what() << '\n';
    return exit_budget;
  } catch (const IoError& e) {
    std::cerr << "scandiff: error: " << e.what() << '\n';
    return exit_input;
  } catch (const FormatError& e) {
    std::cerr << "scandiff: error: " << e.what() << '\n';
    return exit_input;
  } catch (const std::exception& e) {
    std::cerr << "scandiff: error: " << e.what() << '\n';
    return exit_failure;
  }
  return exit_ok;
}
