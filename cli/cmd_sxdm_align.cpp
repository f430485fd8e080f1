// scandiff sxdm align MANIFEST --map sum|roi:x0,y0,x1,y1|mda:CHANNEL [--upsample U] [--write]:
// each scan's shift relative to the reference scan by phase correlation of per-scan maps
// (sxdm/alignment.hpp). Prints the shifts; --write stores them in the manifest (manual shifts,
// "manual": true, are kept).
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "scandiff/sxdm/alignment.hpp"

namespace scandiff::cli {

namespace {

struct AlignArgs {
  std::string manifest, map = "sum";
  std::int64_t upsample = 20;
  bool cross_correlation = false, write = false;
};

void sxdm_align(const AlignArgs& a, const GlobalOptions& global) {
  const sxdm::Frameset frameset = sxdm::read_frameset(a.manifest);
  const sxdm::AlignmentMap map = sxdm::parse_alignment_map(a.map);
  const auto maps = sxdm::frameset_maps(frameset, map, global.run_options("alignment maps"));
  std::vector<sxdm::PhaseCorrelation> details;
  const auto shifts = sxdm::estimate_shifts(frameset, maps, a.upsample, !a.cross_correlation, &details);
  if (!global.quiet) {
    std::cout << fmt::format("{:<16} {:>10} {:>9} {:>9} {:>8}  {}\n", "scan", "theta", "dy", "dx", "peak", "");
    for (std::size_t i = 0; i < shifts.size(); ++i) {
      const auto& s = frameset.scans[i];
      std::string note = i == frameset.reference ? "reference" : "";
      if (s.shift.manual) note = fmt::format("manual (estimate {:.3f}, {:.3f})", details[i].dy, details[i].dx);
      std::cout << fmt::format("{:<16} {:>10.5f} {:>9.3f} {:>9.3f} {:>8.3f}  {}\n", s.name, s.theta, shifts[i].dy,
                               shifts[i].dx, details[i].peak, note);
    }
  }
  if (a.write) {
    sxdm::write_frameset_shifts(a.manifest, shifts);
    if (!global.quiet) std::cout << "  wrote the shifts into " << a.manifest << '\n';
  }
}

}  // namespace

void register_sxdm_align(CLI::App& sxdm, const GlobalOptions& global) {
  auto a = std::make_shared<AlignArgs>();
  auto* cmd = sxdm.add_subcommand("align", "shift of each scan of a frameset relative to the reference scan, by "
                                           "phase correlation of per-scan maps");
  cmd->add_option("manifest", a->manifest, "SXDM frameset manifest (JSON, docs/sxdm-datasets.md)")->required();
  cmd->add_option("--map", a->map,
                  "per-scan map: sum (total intensity), roi:x0,y0,x1,y1 (detector box sum) or mda:CHANNEL "
                  "(e.g. mda:D05, a fluorescence channel of MDA scans)")
      ->capture_default_str();
  cmd->add_option("--upsample", a->upsample, "subpixel refinement: 1/U scan steps (1 = integer shifts)")
      ->capture_default_str();
  cmd->add_flag("--cross-correlation", a->cross_correlation,
                "plain cross-correlation instead of phase correlation (no spectrum normalisation)");
  cmd->add_flag("--write", a->write, "store the shifts in the manifest (scans with \"manual\": true keep theirs)");
  cmd->callback([a, &global] { sxdm_align(*a, global); });
}

}  // namespace scandiff::cli
