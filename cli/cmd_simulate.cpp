// scandiff simulate OUT: a synthetic scan with exact ground truth — a strained 4D-STEM crystal
// (Bragg disks with descan, ellipse, amorphous ring), polycrystalline rings, or an SXDM Bragg peak
// moving over the scan (with hot pixels) — written as EMD 1.0 (.h5) or raw binary (.raw), plus
// OUT_truth.h5 and OUT_truth.json.
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/sim/scan_preset.hpp"
#include "simulation_output.hpp"

namespace scandiff::cli {

namespace {

struct SimulateOptions : sim::ScanPreset {
  std::string out;
};

}  // namespace

void register_simulate(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand("simulate", "write a synthetic 4D-STEM or SXDM scan with its ground truth");
  cmd->add_option("out", o->out, "output file: .h5/.emd (EMD 1.0) or .raw (headerless binary)")->required();
  cmd->add_option("--kind", o->kind, "crystal (strained Bragg-disk lattice), rings (gold powder rings) or sxdm (one X-ray Bragg peak moving over "
                  "the scan, hot pixels)")
      ->capture_default_str();
  cmd->add_option("--scan", o->scan, "scan shape Y,X")->delimiter(',')->expected(2)->capture_default_str();
  cmd->add_option("--frame", o->frame, "detector shape Y,X")->delimiter(',')->expected(2)->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "uint8, uint16, uint32, int32, float32 or float64")->capture_default_str();
  cmd->add_option("--noise", o->noise, "poisson or none")->capture_default_str();
  cmd->add_option("--dose", o->dose, "scale factor on all expected counts")->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed (same seed, same data)")->capture_default_str();
  cmd->add_option("--g1", o->g1, "crystal: reciprocal lattice vector 1 as qx,qy in pixels")->delimiter(',')->expected(2);
  cmd->add_option("--g2", o->g2, "crystal: reciprocal lattice vector 2 as qx,qy in pixels")->delimiter(',')->expected(2);
  cmd->add_option("--disk-radius", o->disk_radius, "crystal: Bragg disk (probe) radius, pixels")->capture_default_str();
  cmd->add_option("--exx", o->exx, "crystal: peak exx of a strain bump at the scan centre")->capture_default_str();
  cmd->add_option("--eyy", o->eyy, "crystal: peak eyy of the bump")->capture_default_str();
  cmd->add_option("--exy", o->exy, "crystal: peak exy of the bump")->capture_default_str();
  cmd->add_option("--rotation-deg", o->rotation_deg, "crystal: peak lattice rotation of the bump, degrees");
  cmd->add_option("--descan-rx", o->descan_rx, "crystal: origin drift per scan step along rx, qx,qy pixels")
      ->delimiter(',')->expected(2);
  cmd->add_option("--descan-ry", o->descan_ry, "crystal: origin drift per scan step along ry, qx,qy pixels")
      ->delimiter(',')->expected(2);
  cmd->add_option("--amorphous", o->amorphous, "crystal: peak counts of the amorphous ring")->capture_default_str();
  cmd->add_option("--ellipse", o->ellipse, "elliptical distortion RATIO,ANGLE_DEG (a/b >= 1, a-axis from +qx)")
      ->delimiter(',')->expected(2);
  cmd->add_option("--pixel-size", o->pixel_size, "rings: reciprocal pixel size, 1/Angstrom per pixel")
      ->capture_default_str();
  cmd->callback([o, &global] {
    sim::SimulatedSource source(sim::make_generator(*o, "--"));
    write_simulation(source, o->out, {}, global, "simulate");
    if (!global.quiet)
      std::cout << fmt::format("wrote {} ({}), ground truth {} and {}\n", o->out,
                               shape_string(source.info().shape()), truth_path(o->out, ".h5").string(),
                               truth_path(o->out, ".json").string());
  });
}

}  // namespace scandiff::cli
