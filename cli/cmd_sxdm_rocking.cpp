// scandiff sxdm rocking MANIFEST --out DIR [--box x0,y0,x1,y1] [--fov x0,y0,x1,y1]: the rocking
// curve of an SXDM frameset (sxdm/rocking_curve.hpp): per scan, the detector-box sum of its
// background-subtracted, aligned frames over a field of view, against θ, with a Gaussian fit.
// Writes DIR/rocking_curve.dat (tab-separated), DIR/rocking_curve.csv (with scan names),
// DIR/rocking_curve.h5 (EMD: intensity, theta, roi_map), DIR/roi_map.png and DIR/rocking_fit.json.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "polar_calibration.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/sxdm/rocking_curve.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct RockingArgs {
  std::string manifest, out, box, fov;
};

Metadata fit_json(const sxdm::GaussianFit& f) {
  Metadata m = {{"ok", f.ok}, {"message", f.message}};
  if (f.ok)
    m.update({{"centre_deg", f.centre},
              {"fwhm_deg", f.fwhm},
              {"amplitude", f.amplitude},
              {"offset", f.offset},
              {"rms_residual", f.rms_residual},
              {"model", "A*exp(-(theta-c)^2/(2 sigma^2)) + B, FWHM = 2 sqrt(2 ln 2) sigma"}});
  return m;
}

void write_csv(const fs::path& path, const sxdm::RockingCurve& c) {
  io::AtomicOutput out(path);
  {
    std::ofstream o(out.temp_path());
    o << "scan,theta_deg,intensity,positions\n";
    for (const auto& p : c.points)
      o << fmt::format("{},{:.10g},{},{}\n", p.scan, p.theta,
                       std::isnan(p.intensity) ? std::string("nan") : fmt::format("{:.10g}", p.intensity), p.positions);
    if (!o) throw IoError(fmt::format("{}: cannot write", path.string()));
  }
  out.commit();
}

void sxdm_rocking(const RockingArgs& a, const GlobalOptions& global) {
  const sxdm::Frameset frameset = sxdm::read_frameset(a.manifest);
  std::optional<sxdm::DetectorBox> box, fov;
  if (!a.box.empty()) box = sxdm::parse_detector_box(a.box, "--box");
  if (!a.fov.empty()) fov = sxdm::parse_detector_box(a.fov, "--fov");
  create_output_folder(a.out);
  const sxdm::RockingCurve curve = sxdm::rocking_curve(frameset, box, fov, global.run_options("rocking curve"));

  const fs::path dir(a.out);
  std::vector<double> theta, intensity, positions;
  for (const auto& p : curve.points) {
    theta.push_back(p.theta);
    intensity.push_back(p.intensity);
    positions.push_back(static_cast<double>(p.positions));
  }
  write_columns(dir / "rocking_curve.dat", {"theta_deg", "intensity", "positions"}, {theta, intensity, positions},
                fmt::format("rocking curve of {} (sorted by theta; NaN: scan covers no FOV position)", a.manifest));
  write_csv(dir / "rocking_curve.csv", curve);
  const Metadata fit = fit_json(curve.fit);
  const Metadata params = {{"manifest", a.manifest},
                           {"box", a.box.empty() ? "whole frame" : a.box},
                           {"fov", a.fov.empty() ? "all positions" : a.fov},
                           {"fit", fit},
                           {"scandiff_version", scandiff::version}};
  write_json_file(dir / "rocking_fit.json", params);

  const auto n = static_cast<std::int64_t>(curve.points.size());
  Array in(DType::f64, {n}), th(DType::f64, {n});
  std::copy(intensity.begin(), intensity.end(), in.data<double>());
  std::copy(theta.begin(), theta.end(), th.data<double>());
  const Metadata prov = {{"analysis", "sxdm_rocking"}, {"parameters", params}};
  const Axis scan_axis{"scan", 0, 1, "index (sorted by theta)"};
  std::vector<Result> results = {{"rocking_intensity", in, {scan_axis}, "counts", prov},
                                 {"rocking_theta", th, {scan_axis}, "deg", prov},
                                 {"roi_map", curve.roi_map, {{"ry", 0, 1, "pixels"}, {"rx", 0, 1, "pixels"}}, "counts", prov}};
  write_results_emd(dir / "rocking_curve.h5", "sxdm_rocking", Calibration{}, results, {{"sxdm_rocking", params}});
  write_result_pngs(dir, {results.back()});
  if (global.quiet) return;
  for (const auto& p : curve.points)
    std::cout << fmt::format("  {:<16} theta {:>10.5f}  intensity {:>14.6g}  ({} positions)\n", p.scan, p.theta,
                             p.intensity, p.positions);
  if (curve.fit.ok)
    std::cout << fmt::format("Gaussian fit: centre {:.6g} deg, FWHM {:.6g} deg, amplitude {:.6g}, offset {:.6g}\n",
                             curve.fit.centre, curve.fit.fwhm, curve.fit.amplitude, curve.fit.offset);
  else
    std::cout << "Gaussian fit: not made: " << curve.fit.message << '\n';
  std::cout << "  wrote " << (dir / "rocking_curve.csv").string() << ", .dat, .h5, rocking_fit.json, roi_map.png\n";
}

}  // namespace

void register_sxdm_rocking(CLI::App& sxdm, const GlobalOptions& global) {
  auto a = std::make_shared<RockingArgs>();
  auto* cmd = sxdm.add_subcommand("rocking", "rocking curve of a frameset: detector-box sum over a field of view "
                                             "per scan vs theta, with a Gaussian fit");
  cmd->add_option("manifest", a->manifest, "SXDM frameset manifest (JSON, docs/sxdm-datasets.md)")->required();
  cmd->add_option("--out", a->out, "folder for rocking_curve.{dat,csv,h5}, rocking_fit.json, roi_map.png")->required();
  cmd->add_option("--box", a->box, "detector box x0,y0,x1,y1 (columns [x0,x1), rows [y0,y1); default whole frame)");
  cmd->add_option("--fov", a->fov, "field of view x0,y0,x1,y1 in scan positions (rx, ry; default all)");
  cmd->callback([a, &global] { sxdm_rocking(*a, global); });
}

}  // namespace scandiff::cli
