// scandiff sxdm: scanning X-ray diffraction microscopy framesets (docs/sxdm-datasets.md).
#include "commands.hpp"

namespace scandiff::cli {

void register_sxdm(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("sxdm", "scanning X-ray diffraction microscopy: rocking curves and alignment of "
                                         "framesets (JSON manifests of scans over the sample angle)");
  cmd->require_subcommand(1);
  register_sxdm_rocking(*cmd, global);
  register_sxdm_align(*cmd, global);
}

}  // namespace scandiff::cli
