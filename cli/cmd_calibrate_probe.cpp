// scandiff calibrate probe FILE: radius and centre of the central disk (py4DSTEM's
// get_probe_size) in a vacuum probe image, or in the mean / max pattern of a scan.
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "diffraction_pass.hpp"
#include "input_options.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/pixel_repair.hpp"
#include "scandiff/stem/bad_pixels.hpp"
#include "scandiff/stem/probe_size.hpp"

namespace scandiff::cli {

namespace {

struct ProbeArgs {
  InputOptions input;
  std::string pattern = "mean";
  std::optional<std::int64_t> frame;
  bool repair_bad_pixels = false;
  bool json = false;
};

void calibrate_probe(const ProbeArgs& a, const GlobalOptions& global) {
  if (a.pattern != "mean" && a.pattern != "max")
    throw InvalidArgument(fmt::format("--pattern '{}': expected mean or max", a.pattern));
  auto source = a.input.open();
  const io::DatasetInfo& info = source->info();
  Array image;
  std::string used;
  if (a.frame) {
    if (*a.frame < 0 || *a.frame >= info.frame_count())
      throw InvalidArgument(fmt::format("--frame {}: {} has frames 0..{}", *a.frame, info.path, info.frame_count() - 1));
    image = Array(info.dtype, {info.frame_y, info.frame_x});
    source->read(*a.frame, 1, image.bytes());
    used = fmt::format("frame {}", *a.frame);
  } else {
    stem::VirtualDiffraction vd = diffraction_pass(*source, global, "probe");
    image = a.pattern == "max" ? vd.max() : vd.mean();
    used = info.frame_count() == 1 ? "the image" : a.pattern + " pattern";
  }
  std::vector<stem::BadPixel> bad;
  if (a.repair_bad_pixels) {
    // Found in the image itself (counting statistics of one frame, or of the mean of all).
    bad = stem::find_bad_pixels(image, Array(), {.frames = a.frame ? 1 : info.frame_count()});
    image = engine::repair_pixels(image, stem::pixels_of(bad));
  }
  const stem::ProbeSize p = stem::measure_probe_size(image);
  if (a.json) {
    const Metadata doc{{"input", info.path},         {"image", used},
                       {"radius_px", p.radius_px},   {"center_qy_px", p.center_qy_px},
                       {"center_qx_px", p.center_qx_px}, {"threshold", p.threshold},
                       {"bad_pixels_repaired", bad.size()}};
    std::cout << doc.dump(2) << '\n';
    return;
  }
  std::cout << fmt::format(
      "{} ({}):\n  radius       {:.4f} px\n  centre (qy)  {:.4f} px\n  centre (qx)  {:.4f} px\n"
      "  threshold    {:.4f} of the max\n",
      info.path, used, p.radius_px, p.center_qy_px, p.center_qx_px, p.threshold);
  for (const auto& b : bad) std::cout << fmt::format("  repaired     ({}, {}) (qy, qx), {}\n", b.qy, b.qx,
                                                     b.kind == stem::BadPixelKind::hot ? "hot" : "dead");
}

}  // namespace

void register_calibrate_probe(CLI::App& calibrate, const GlobalOptions& global) {
  auto a = std::make_shared<ProbeArgs>();
  auto* cmd = calibrate.add_subcommand("probe", "radius and centre of the central disk (py4DSTEM get_probe_size)");
  a->input.add_to(cmd);
  cmd->add_option("--pattern", a->pattern, "for a scan: measure on its mean or max pattern")->capture_default_str();
  cmd->add_option("--frame", a->frame, "measure on this one frame (linear index ry*scan_x + rx) instead");
  cmd->add_flag("--repair-bad-pixels", a->repair_bad_pixels,
                "find hot/dead pixels in the image (calibrate bad-pixels rule) and repair them first");
  cmd->add_flag("--json", a->json, "print one JSON document");
  cmd->callback([a, &global] { calibrate_probe(*a, global); });
}

}  // namespace scandiff::cli
