// scandiff info FILE: what a dataset is — shape, dtype, size, calibration, metadata —
// read from its header alone (no frame is decoded).
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "info_records.hpp"
#include "input_options.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::cli {

namespace {

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

}  // namespace

void register_info(CLI::App& app, const GlobalOptions&) {
  auto* cmd = app.add_subcommand("info",
                                 "describe a dataset: shape, dtype, size, calibration, metadata (also APS .mda scan "
                                 "records: positioners and detector channels; Ripple .rpl EDX spectrum images)");
  auto input = std::make_shared<InputOptions>();
  input->add_to(cmd);
  auto as_json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "print one JSON document instead of text");
  cmd->callback([input, as_json] {
    if (describe_record_file(input->path, *as_json)) return;  // .mda scan records, .rpl spectrum images
    auto source = input->open();
    const io::DatasetInfo& info = source->info();
    Metadata doc;
    doc["path"] = info.path;
    doc["format"] = info.format;
    doc["shape"] = {{"ry", info.scan_y}, {"rx", info.scan_x}, {"qy", info.frame_y}, {"qx", info.frame_x}};
    doc["dtype"] = std::string(name_of(info.dtype));
    doc["frames"] = info.frame_count();
    doc["bytes"] = info.total_bytes();
    doc["calibration"] = info.calibration.to_metadata();
    doc["metadata"] = info.metadata;
    if (*as_json) {
      std::cout << doc.dump(2) << '\n';
      return;
    }
    std::cout << fmt::format("{}\n  format      {}\n  scan        {} x {} (ry, rx)\n  frame       {} x {} (qy, qx)\n"
                             "  dtype       {}\n  frames      {}\n  size        {} ({} bytes)\n",
                             info.path, info.format, info.scan_y, info.scan_x, info.frame_y, info.frame_x,
                             name_of(info.dtype), info.frame_count(), human_bytes(static_cast<double>(info.total_bytes())),
                             info.total_bytes());
    const auto shape = info.metadata.find("scan_shape");  // sources that infer the scan say how
    if (shape != info.metadata.end() && shape->is_object() && shape->contains("source"))
      std::cout << fmt::format("  scan shape  from {}: {}\n", shape->at("source").get<std::string>(),
                               shape->value("reason", std::string()));
    const auto frameset = info.metadata.find("sxdm_frameset");  // SXDM manifests: one line per scan
    if (frameset != info.metadata.end() && frameset->is_object()) {
      std::cout << fmt::format("  frameset    {} scans, reference {}, background {}\n", frameset->at("scans").size(),
                               frameset->value("reference", std::string()), frameset->at("background").dump());
      for (const auto& s : frameset->at("scans"))
        std::cout << fmt::format("    {:<14} theta {:>10.5f}  scan {}  {} frames  shift (dy, dx) ({}, {})  {}\n",
                                 s.value("name", std::string()), s.value("theta", 0.0),
                                 s.value("scan_shape", Metadata::array()).dump(), s.value("frames", 0),
                                 s["shift"].value("dy", 0.0), s["shift"].value("dx", 0.0),
                                 s.value("record", std::string()));
    }
    std::cout << "  calibration " << doc["calibration"].dump(2) << '\n';
    if (!info.metadata.empty()) std::cout << "  metadata    " << info.metadata.dump(2) << '\n';
  });
}

}  // namespace scandiff::cli
