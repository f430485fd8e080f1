// scandiff sxdm: scanning X-ray diffraction microscopy (docs/sxdm.md, docs/sxdm-datasets.md):
// per-position maps over any scan or frameset, rocking curves and alignment of framesets.
#include "commands.hpp"

namespace scandiff::cli {

void register_sxdm(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("sxdm",
                                 "scanning X-ray diffraction microscopy: 2theta/chi centroid maps, ROI maps, rocking "
                                 "curves and alignment of framesets (JSON manifests of scans over the sample angle)");
  cmd->require_subcommand(1);
  register_sxdm_centroid(*cmd, global);
  register_sxdm_roi(*cmd, global);
  register_sxdm_rocking(*cmd, global);
  register_sxdm_align(*cmd, global);
}

}  // namespace scandiff::cli
