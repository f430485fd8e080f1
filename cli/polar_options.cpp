#include "polar_options.hpp"

namespace scandiff::cli {

void add_polar_options(CLI::App* cmd, stem::PolarOptions& p, const std::string& group) {
  cmd->add_option("--qmin", p.qmin_px, "first radial bin, pixels")->capture_default_str()->group(group);
  cmd->add_option("--qmax", p.qmax_px, "radial bins stop before this radius, pixels (default min(frame)/sqrt(2))")
      ->group(group);
  cmd->add_option("--qstep", p.qstep_px, "radial bin width, pixels")->capture_default_str()->group(group);
  cmd->add_option("--n-annular", p.n_annular, "azimuthal bins over 360 degrees (180 with --two-fold)")
      ->capture_default_str()
      ->group(group);
  cmd->add_flag("--two-fold", p.two_fold, "assume Friedel symmetry: angles modulo 180 degrees")->group(group);
  cmd->add_flag_callback("--no-smoothing", [&p] { p.angular_smoothing = false; },
                         "no Gaussian smoothing along the angle at small radii (py4DSTEM's KDE)")
      ->group(group);
  cmd->add_option("--mask-threshold", p.mask_threshold, "polar bins with less sampling than this are left out")
      ->capture_default_str()
      ->group(group);
}

}  // namespace scandiff::cli
