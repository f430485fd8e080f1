// scandiff simulate OUT: a synthetic 4D-STEM scan with exact ground truth — a strained
// crystal (Bragg disks with descan, ellipse, amorphous ring) or polycrystalline rings —
// written as EMD 1.0 (.h5) or raw binary (.raw), plus OUT_truth.h5 and OUT_truth.json.
#include <cmath>
#include <iostream>
#include <numbers>

#include <fmt/format.h>

#include "commands.hpp"
#include "scandiff/core/error.hpp"
#include "simulation_output.hpp"

namespace scandiff::cli {

namespace {

struct SimulateOptions {
  std::string out;
  std::string kind = "crystal";
  std::vector<std::int64_t> scan{32, 32}, frame{128, 128};
  std::string dtype = "uint16";
  std::string noise = "poisson";
  double dose = 1;
  std::uint64_t seed = 0;
  // crystal
  std::vector<double> g1{22, 4}, g2{-6, 20};
  double disk_radius = 4;
  double exx = 0.02, eyy = 0, exy = 0, rotation_deg = 0;  // peak of a Gaussian bump in the scan centre
  std::vector<double> descan_rx{0, 0}, descan_ry{0, 0};
  double amorphous = 2;
  // both
  std::vector<double> ellipse{1, 0};
  // rings
  double pixel_size = 0.01;
};

void check_pair(const std::vector<std::int64_t>& v, const char* what) {
  if (v.size() != 2 || v[0] <= 0 || v[1] <= 0)
    throw InvalidArgument(fmt::format("{}: expected two positive sizes Y,X", what));
}

std::shared_ptr<const sim::FrameGenerator> make_generator(const SimulateOptions& o) {
  check_pair(o.scan, "--scan");
  check_pair(o.frame, "--frame");
  const double deg = std::numbers::pi / 180;
  const sim::EllipseDistortion ellipse{o.ellipse.at(0), o.ellipse.at(1) * deg};
  if (o.kind == "crystal") {
    sim::CrystalScanParams p;
    p.scan_y = o.scan[0];
    p.scan_x = o.scan[1];
    p.frame_y = o.frame[0];
    p.frame_x = o.frame[1];
    p.dtype = parse_dtype(o.dtype, "--dtype");
    p.g1_px = {o.g1.at(0), o.g1.at(1)};
    p.g2_px = {o.g2.at(0), o.g2.at(1)};
    p.max_g_px = 0.5 * static_cast<double>(std::min(p.frame_y, p.frame_x));
    p.disk_radius_px = o.disk_radius;
    p.ring_radius_px = 0.35 * static_cast<double>(std::min(p.frame_y, p.frame_x));
    p.ring_intensity = o.amorphous;
    p.background = 0.2;
    p.strain.exx.bump = o.exx;
    p.strain.eyy.bump = o.eyy;
    p.strain.exy.bump = o.exy;
    p.strain.rotation_rad.bump = o.rotation_deg * deg;
    p.descan_per_rx_px = {o.descan_rx.at(0), o.descan_rx.at(1)};
    p.descan_per_ry_px = {o.descan_ry.at(0), o.descan_ry.at(1)};
    p.ellipse = ellipse;
    p.noise = sim::parse_noise(o.noise, "--noise");
    p.dose_scale = o.dose;
    p.seed = o.seed;
    return std::make_shared<sim::CrystalScan>(p);
  }
  if (o.kind == "rings") {
    sim::RingPatternParams p;
    p.scan_y = o.scan[0];
    p.scan_x = o.scan[1];
    p.frame_y = o.frame[0];
    p.frame_x = o.frame[1];
    p.dtype = parse_dtype(o.dtype, "--dtype");
    p.pixel_size_inv_A = o.pixel_size;
    p.ellipse = ellipse;
    p.background = 1;
    p.noise = sim::parse_noise(o.noise, "--noise");
    p.dose_scale = o.dose;
    p.seed = o.seed;
    return std::make_shared<sim::RingPattern>(p);
  }
  throw InvalidArgument(fmt::format("--kind '{}': expected 'crystal' or 'rings'", o.kind));
}

}  // namespace

void register_simulate(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand("simulate", "write a synthetic 4D-STEM scan with its ground truth");
  cmd->add_option("out", o->out, "output file: .h5/.emd (EMD 1.0) or .raw (headerless binary)")->required();
  cmd->add_option("--kind", o->kind, "crystal (strained Bragg-disk lattice) or rings (gold powder rings)")
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
    sim::SimulatedSource source(make_generator(*o));
    write_simulation(source, o->out, {}, global, "simulate");
    if (!global.quiet)
      std::cout << fmt::format("wrote {} ({}), ground truth {} and {}\n", o->out,
                               shape_string(source.info().shape()), truth_path(o->out, ".h5").string(),
                               truth_path(o->out, ".json").string());
  });
}

}  // namespace scandiff::cli
