// scandiff calibrate bad-pixels FILE: hot and dead detector pixels found from the mean and max
// patterns (stem/bad_pixels.hpp for the rule), printed or written as JSON.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "diffraction_pass.hpp"
#include "input_options.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/bad_pixels.hpp"

namespace scandiff::cli {

namespace {

struct BadPixelArgs {
  InputOptions input;
  stem::BadPixelOptions options;
  bool not_counting = false;
  bool json = false;
};

void calibrate_bad_pixels(BadPixelArgs a, const GlobalOptions& global) {
  auto source = a.input.open();
  const io::DatasetInfo& info = source->info();
  stem::VirtualDiffraction vd = diffraction_pass(*source, global, "bad pixels");
  a.options.frames = info.frame_count();
  a.options.counting = !a.not_counting;
  const auto bad = stem::find_bad_pixels(vd.mean(), vd.max(), a.options);
  Metadata list = Metadata::array();
  for (const auto& b : bad)
    list.push_back({{"qy", b.qy}, {"qx", b.qx}, {"kind", b.kind == stem::BadPixelKind::hot ? "hot" : "dead"},
                    {"score", b.score}});
  if (a.json) {
    std::cout << Metadata{{"input", info.path}, {"frames", info.frame_count()}, {"bad_pixels", list}}.dump(2) << '\n';
    return;
  }
  std::cout << fmt::format("{}: {} bad pixel(s) (qy, qx) in the mean of {} frames\n", info.path, bad.size(),
                           info.frame_count());
  for (const auto& b : bad)
    std::cout << fmt::format("  ({}, {})  {}  score {:.1f} sigma\n", b.qy, b.qx,
                             b.kind == stem::BadPixelKind::hot ? "hot " : "dead", b.score);
}

}  // namespace

void register_calibrate_bad_pixels(CLI::App& calibrate, const GlobalOptions& global) {
  auto a = std::make_shared<BadPixelArgs>();
  auto* cmd = calibrate.add_subcommand("bad-pixels", "find hot and dead detector pixels from the mean and max patterns");
  a->input.add_to(cmd);
  cmd->add_option("--window", a->options.window_radius_px, "neighbourhood half-width: 1 = 3x3, 2 = 5x5")
      ->capture_default_str();
  cmd->add_option("--hot-threshold", a->options.hot_threshold, "hot: excess over the local median, robust sigmas")
      ->capture_default_str();
  cmd->add_option("--dead-threshold", a->options.dead_threshold, "dead: zero where the neighbourhood median is this many sigmas")
      ->capture_default_str();
  cmd->add_flag("--not-counting", a->not_counting, "the data are not counts (no Poisson noise floor)");
  cmd->add_flag("--json", a->json, "print one JSON document");
  cmd->callback([a, &global] { calibrate_bad_pixels(*a, global); });
}

}  // namespace scandiff::cli
