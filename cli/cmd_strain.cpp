// scandiff strain FILE --out DIR: strain maps from Bragg vectors (a BraggVectors EMD file as
// `scandiff peaks` or py4DSTEM writes, or a scan: then the disks are detected first with the
// `peaks` options): calibrate the vectors (origin, ellipse, QR rotation; pixel
// units kept), find or take g1/g2, fit the lattice at every position, strain against a reference
// (median over a region, or given). Writes DIR/strain.h5 (EMD 1.0 root 'strain') and PNGs with a
// diverging colour map and colour bar.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numbers>

#include <fmt/format.h>

#include "array_file.hpp"
#include "commands.hpp"
#include "output_folder.hpp"
#include "input_options.hpp"
#include "peak_detection.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/image_scaling.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/stem/bragg_vectors.hpp"
#include "scandiff/stem/calibrated_origin.hpp"
#include "scandiff/stem/lattice.hpp"
#include "scandiff/stem/origin_fit.hpp"
#include "scandiff/stem/strain.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

constexpr double deg = std::numbers::pi / 180;

struct StrainOptions {
  InputOptions input;
  PeakDetectionOptions detection;  // when the input is a scan
  std::string node, out, origin, origin_fit = "plane";
  std::vector<double> g1, g2;                  // qx,qy px (calibrated, origin-relative)
  std::vector<std::int64_t> reference_region;  // ry0,ry1,rx0,rx1
  double frame_deg = 0;
  bool no_ellipse = false;
  int min_peaks = 5;
  double max_peak_spacing = 0;
  double lattice_parameter = 0;
  std::vector<int> g1_hkl, g2_hkl;
};

Result scan_result(const std::string& name, const Array& a, const std::string& units, const Metadata& prov) {
  return Result{name, a, {Axis{"ry", 0, 1, "pixels"}, Axis{"rx", 0, 1, "pixels"}}, units, prov};
}

void write_signed_png(const fs::path& path, const Array& map) {
  const double lo = io::finite_percentile(map, 1), hi = io::finite_percentile(map, 99);
  double lim = std::max(std::abs(lo), std::abs(hi));
  if (!(lim > 0) || !std::isfinite(lim)) lim = 1e-6;
  io::PngOptions o;
  o.colormap = "coolwarm";
  o.range.vmin = -lim;
  o.range.vmax = lim;
  o.colorbar = true;
  o.scale = static_cast<int>(std::clamp<std::int64_t>(256 / std::max<std::int64_t>(map.shape(0), map.shape(1)), 1, 32));
  io::write_png(path, map, o);
}

void run_strain(const StrainOptions& o, const GlobalOptions& global) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string& path = o.input.path;
  if (!fs::exists(path)) throw IoError(fmt::format("{} does not exist", path));
  std::string node = o.node;
  if (node.empty() && io::is_hdf5_file(path))
    for (const auto& n : io::list_emd_nodes(path))
      if (n.python_class == "BraggVectors") {
        node = n.path;
        break;
      }
  stem::BraggVectors raw;
  Calibration cal;
  std::string source_kind;
  if (!node.empty()) {
    raw = stem::BraggVectors::from_emd(io::read_emd_bragg_vectors(path, node));
    cal = io::read_emd_calibration(path, node.substr(1, node.find('/', 1) - 1));
    source_kind = "Bragg vectors " + node;
  } else {  // a scan: detect the disks first
    auto source = o.input.open();
    cal = source->info().calibration;
    raw = detect_peaks(*source, o.detection, global).vectors;
    source_kind = "scan (disks detected)";
  }
  if (raw.total_peaks() == 0) throw InvalidArgument(fmt::format("{}: the Bragg vectors hold no peaks", path));
  std::string origin_from = "file calibration";
  if (!o.origin.empty()) {
    apply_origin_option(o.origin, cal);
    origin_from = o.origin;
  } else if (!stem::Origin::calibrated(cal)) {
    // The unscattered beam: the brightest peak at each position, then a smooth fit (descan).
    const stem::OriginMaps m = stem::origin_from_vectors(raw);
    stem::OriginFitOptions fo;
    fo.model = stem::parse_surface_model(o.origin_fit, "--origin-fit");
    stem::set_origin(cal, stem::fit_origin(m.qy, m.qx, fo));
    origin_from = "brightest peak per position, " + o.origin_fit + " fit";
  }
  if (o.no_ellipse) cal.ellipse.reset();
  const stem::BraggVectors v = raw.calibrated(cal, {.origin = true, .ellipse = true, .pixel = false, .rotation = true});

  stem::Lattice guess;
  std::string lattice_from;
  if (!o.g1.empty() || !o.g2.empty()) {
    if (o.g1.size() != 2 || o.g2.size() != 2) throw InvalidArgument("--g1 and --g2: give both, each as QX,QY pixels");
    guess = {0, 0, o.g1[0], o.g1[1], o.g2[0], o.g2[1]};
    lattice_from = "given";
  } else {
    guess = stem::find_lattice(v);
    lattice_from = "Bragg vector map";
  }
  stem::LatticeFitOptions fit;
  fit.min_peaks = o.min_peaks;
  fit.max_peak_spacing = o.max_peak_spacing;
  const stem::LatticeMaps maps = stem::fit_lattice(v, guess, fit);
  if (maps.fitted == 0)
    throw InvalidArgument(fmt::format("strain: no position has {} or more indexed peaks (lower --min-peaks, or check "
                                      "g1/g2)",
                                      o.min_peaks));
  Array region;
  if (!o.reference_region.empty()) {
    const auto& r = o.reference_region;
    if (r.size() != 4 || r[0] < 0 || r[1] > raw.scan_y() || r[0] >= r[1] || r[2] < 0 || r[3] > raw.scan_x() || r[2] >= r[3])
      throw InvalidArgument(fmt::format("--reference-region: expected RY0,RY1,RX0,RX1 inside the {}x{} scan",
                                        raw.scan_y(), raw.scan_x()));
    region = Array(DType::u8, {raw.scan_y(), raw.scan_x()});
    for (std::int64_t y = 0; y < raw.scan_y(); ++y)
      for (std::int64_t x = 0; x < raw.scan_x(); ++x)
        region.data<std::uint8_t>()[y * raw.scan_x() + x] = y >= r[0] && y < r[1] && x >= r[2] && x < r[3];
  }
  const stem::Lattice ref = stem::reference_lattice(maps, region);
  const stem::StrainMaps s = stem::strain_maps(maps, ref, o.frame_deg * deg);

  Metadata prov{{"analysis", "strain"},
                {"input", path},
                {"bragg_vectors", source_kind},
                {"origin", origin_from},
                {"ellipse", cal.ellipse.has_value()},
                {"lattice_guess", lattice_from},
                {"g1_guess_px", {guess.g1x, guess.g1y}},
                {"g2_guess_px", {guess.g2x, guess.g2y}},
                {"reference_g1_px", {ref.g1x, ref.g1y}},
                {"reference_g2_px", {ref.g2x, ref.g2y}},
                {"reference", o.reference_region.empty() ? "median of all fitted positions" : "median of the region"},
                {"frame_deg", o.frame_deg},
                {"min_peaks", o.min_peaks},
                {"fitted_positions", maps.fitted},
                {"scandiff_version", scandiff::version}};
  if (o.lattice_parameter > 0) {
    if (o.g1_hkl.size() != 3 || o.g2_hkl.size() != 3)
      throw InvalidArgument("--lattice-parameter needs --g1-hkl H,K,L and --g2-hkl H,K,L (the indices of g1 and g2)");
    const double px = stem::reciprocal_pixel_size(
        ref, stem::cubic_g_inv_A(o.lattice_parameter, o.g1_hkl[0], o.g1_hkl[1], o.g1_hkl[2]),
        stem::cubic_g_inv_A(o.lattice_parameter, o.g2_hkl[0], o.g2_hkl[1], o.g2_hkl[2]));
    prov["reciprocal_pixel_size_inv_A"] = px;
  }
  std::vector<Result> results = {
      scan_result("exx", s.exx, "", prov),          scan_result("eyy", s.eyy, "", prov),
      scan_result("exy", s.exy, "", prov),          scan_result("rotation", s.rotation_rad, "rad", prov),
      scan_result("g1x", maps.g1x, "pixels", prov), scan_result("g1y", maps.g1y, "pixels", prov),
      scan_result("g2x", maps.g2x, "pixels", prov), scan_result("g2y", maps.g2y, "pixels", prov),
      scan_result("fit_error", maps.error, "pixels", prov), scan_result("indexed_peaks", maps.indexed, "peaks", prov),
  };
  create_output_folder(o.out);
  const fs::path emd = fs::path(o.out) / "strain.h5";
  write_results_emd(emd, "strain", cal, results, {{"strain", prov}});
  for (const char* name : {"exx", "eyy", "exy", "rotation"}) {
    const auto it = std::find_if(results.begin(), results.end(), [&](const Result& r) { return r.name == name; });
    write_signed_png(fs::path(o.out) / (std::string(name) + ".png"), it->data);
  }
  if (global.quiet) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("strain: {}x{} positions, {} fitted, in {:.2f} s\n", raw.scan_y(), raw.scan_x(), maps.fitted, seconds);
  std::cout << fmt::format("  origin: {}\n  g1 = ({:.4f}, {:.4f}) px, g2 = ({:.4f}, {:.4f}) px (reference, qx,qy)\n",
                           origin_from, ref.g1x, ref.g1y, ref.g2x, ref.g2y);
  if (prov.contains("reciprocal_pixel_size_inv_A"))
    std::cout << fmt::format("  reciprocal pixel size {:.6g} A^-1/px\n", prov["reciprocal_pixel_size_inv_A"].get<double>());
  std::cout << fmt::format("  {}  EMD 1.0, root 'strain'\n  {}/{{exx,eyy,exy,rotation}}.png\n", emd.string(), o.out);
}

}  // namespace

void register_strain(CLI::App& app, const GlobalOptions& global) {
  auto o = std::make_shared<StrainOptions>();
  auto* cmd = app.add_subcommand("strain", "strain maps (exx, eyy, exy, rotation) from a BraggVectors file, or from a scan (disks detected with "
                                            "the peaks options)");
  o->input.add_to(cmd);
  o->detection.add_to(cmd);
  cmd->add_option("--node", o->node, "the BraggVectors node (default: the first in the file)");
  cmd->add_option("--out", o->out, "folder for strain.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--origin", o->origin,
                  "origin: QY,QX pixels or FILE.h5[:ROOT] with origin_qy/origin_qx maps (default: the file's "
                  "calibration, else the brightest peak per position, fitted)");
  cmd->add_option("--origin-fit", o->origin_fit, "surface fitted to the brightest-peak origin: constant, plane, "
                                                  "parabola, bezier")
      ->capture_default_str();
  cmd->add_flag("--no-ellipse", o->no_ellipse, "ignore the file's elliptical distortion calibration");
  cmd->add_option("--g1", o->g1, "lattice vector g1 as QX,QY pixels (default: found in the Bragg vector map)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--g2", o->g2, "lattice vector g2 as QX,QY pixels")->delimiter(',')->expected(2);
  cmd->add_option("--reference-region", o->reference_region,
                  "reference lattice = median over ry in [RY0,RY1), rx in [RX0,RX1) (default: all positions)")
      ->delimiter(',')
      ->expected(4);
  cmd->add_option("--frame-deg", o->frame_deg, "report strain in axes rotated by this angle from +qx toward +qy")
      ->capture_default_str();
  cmd->add_option("--min-peaks", o->min_peaks, "positions with fewer indexed peaks are not fitted")->capture_default_str();
  cmd->add_option("--max-peak-spacing", o->max_peak_spacing, "indexing distance, px (0: a quarter of min |g|)")
      ->capture_default_str();
  cmd->add_option("--lattice-parameter", o->lattice_parameter,
                  "cubic lattice parameter (A): report the reciprocal pixel size from g1/g2 with --g1-hkl/--g2-hkl");
  cmd->add_option("--g1-hkl", o->g1_hkl, "indices H,K,L of g1")->delimiter(',')->expected(3);
  cmd->add_option("--g2-hkl", o->g2_hkl, "indices H,K,L of g2")->delimiter(',')->expected(3);
  cmd->callback([o, &global] { run_strain(*o, global); });
}

}  // namespace scandiff::cli
