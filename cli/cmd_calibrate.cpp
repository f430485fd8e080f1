// scandiff calibrate: measurements that calibrate a dataset (origin, probe, bad pixels, ellipse, pixel size).
#include "commands.hpp"

namespace scandiff::cli {

void register_calibrate(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("calibrate", "calibration measurements: origin per position, probe size, bad pixels, ellipse, reciprocal pixel size, X-ray geometry");
  cmd->require_subcommand(1);
  register_calibrate_origin(*cmd, global);
  register_calibrate_probe(*cmd, global);
  register_calibrate_bad_pixels(*cmd, global);
  register_calibrate_xray(*cmd, global);
  register_calibrate_ellipse(*cmd, global);
  register_calibrate_pixel_size(*cmd, global);
}

}  // namespace scandiff::cli
