// scandiff demo: the main job on a built-in example. Simulates a small strained-crystal
// scan and, in ONE pass over its frames, writes it as an EMD 1.0 DataCube and computes the
// mean diffraction pattern, bright-field, annular dark-field and (2,0) dark-field images; saves those
// results into the same EMD file (py4DSTEM opens it) and as PNGs.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/sim/crystal_scan.hpp"
#include "scandiff/sim/scan_preset.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"
#include "simulation_output.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

void register_demo(CLI::App& app, const GlobalOptions& global) {
  auto out = std::make_shared<std::string>("demo-output");
  auto scan = std::make_shared<std::int64_t>(32);
  auto frame = std::make_shared<std::int64_t>(128);
  auto* cmd = app.add_subcommand("demo", "simulate a small scan and compute mean diffraction, bright field, "
                                         "annular dark field and a Bragg dark field in one pass (EMD file + PNGs)");
  cmd->add_option("--out", *out, "folder for the outputs (created if missing)")->capture_default_str();
  cmd->add_option("--scan", *scan, "scan size (square)")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--frame", *frame, "detector size (square)")->capture_default_str()->check(CLI::Range(32, 4096));
  cmd->callback([out, scan, frame, &global] {
    const auto t0 = std::chrono::steady_clock::now();
    create_output_folder(*out);

    const sim::CrystalScanParams params = sim::demo_scan(*scan, *frame);
    sim::SimulatedSource source(params);
    const auto& gen = static_cast<const sim::CrystalScan&>(source.generator());
    const double qy0 = gen.origin_qy_px(), qx0 = gen.origin_qx_px();
    const double r_disk = params.disk_radius_px;
    const auto f = static_cast<double>(*frame);

    // Bright field: the central disk and its descan margin. ADF: beyond the central disk.
    stem::VirtualDiffraction diffraction;
    stem::VirtualImage bf("bright_field", stem::Detector::circle(*frame, *frame, qy0, qx0, r_disk + 2));
    stem::VirtualImage adf("annular_dark_field",
                           stem::Detector::annulus(*frame, *frame, qy0, qx0, r_disk + 4, 0.48 * f));
    // Dark field through the (2, 0) disk: where the inclusion strains the lattice the disk
    // moves out of this aperture, so the image shows the strain field.
    stem::VirtualImage df("dark_field_200", stem::Detector::circle(*frame, *frame, qy0 + 2 * params.g1_px.y,
                                                                   qx0 + 2 * params.g1_px.x, r_disk));
    engine::Analysis* analyses[] = {&diffraction, &bf, &adf, &df};
    const fs::path data = fs::path(*out) / "demo.h5";
    write_simulation(source, data, analyses, global, "demo");

    io::PngOptions log_inferno;
    log_inferno.colormap = "inferno";
    log_inferno.range.stretch = io::DisplayRange::Stretch::log;
    io::write_png(fs::path(*out) / "mean_diffraction.png", diffraction.mean(), log_inferno);
    io::write_png(fs::path(*out) / "bright_field.png", bf.image());
    io::write_png(fs::path(*out) / "annular_dark_field.png", adf.image());
    io::write_png(fs::path(*out) / "dark_field_200.png", df.image());

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (global.quiet) return;
    std::cout << fmt::format(
        "demo: simulated a {0}x{0} scan of {1}x{1} uint16 frames and analysed it in one pass ({2:.2f} s)\n"
        "  {3}/demo.h5               EMD 1.0: datacube_root/datacube + mean_diffraction, max_diffraction,\n"
        "                              bright_field, annular_dark_field, dark_field_200 (open with py4DSTEM.read)\n"
        "  {3}/demo_truth.h5, .json  ground truth of the simulation (origin and strain maps, parameters)\n"
        "  {3}/mean_diffraction.png  {3}/bright_field.png  {3}/annular_dark_field.png  {3}/dark_field_200.png\n",
        *scan, *frame, seconds, *out);
  });
}

}  // namespace scandiff::cli
