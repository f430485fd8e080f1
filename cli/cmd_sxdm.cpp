// scandiff sxdm: scanning X-ray diffraction microscopy maps (cmd_sxdm_*.cpp).
#include "commands.hpp"

namespace scandiff::cli {

void register_sxdm(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("sxdm", "scanning X-ray diffraction microscopy: 2theta/chi centroid maps, ROI maps");
  cmd->require_subcommand(1);
  register_sxdm_centroid(*cmd, global);
  register_sxdm_roi(*cmd, global);
}

}  // namespace scandiff::cli
