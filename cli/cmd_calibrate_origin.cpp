// scandiff calibrate origin FILE --out DIR: the diffraction origin at every scan position
// (blurred argmax + centre of mass, py4DSTEM's get_origin, or the Friedel autoconvolution
// peak, get_origin_friedel), a robust surface fit of it (the
// descan), written to DIR/origin.h5 (EMD 1.0; the root calibration carries the fitted maps as
// py4DSTEM's qx0/qy0) and PNGs of the measured and fitted maps.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "diffraction_pass.hpp"
#include "input_options.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/engine/pixel_repair.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/stem/bad_pixels.hpp"
#include "scandiff/stem/origin.hpp"
#include "scandiff/stem/origin_fit.hpp"
#include "scandiff/stem/origin_friedel.hpp"
#include "scandiff/stem/probe_size.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct OriginArgs {
  InputOptions input;
  std::string out;
  std::string method = "com";
  std::string fit = "plane";
  std::optional<double> radius_px;
  double rscale = 1.2;
  bool no_robust = false;
  double outlier_threshold = 4;
  bool repair_bad_pixels = false;
};

Metadata vector_json(const std::vector<double>& v) {
  Metadata a = Metadata::array();
  for (double x : v) a.push_back(x);
  return a;
}

void calibrate_origin(const OriginArgs& a, const GlobalOptions& global) {
  const stem::SurfaceModel model = stem::parse_surface_model(a.fit, "--fit");
  if (a.method != "com" && a.method != "friedel")
    throw InvalidArgument(fmt::format("--method '{}': expected com or friedel", a.method));
  const bool friedel = a.method == "friedel";
  if (a.radius_px && !(*a.radius_px > 0)) throw InvalidArgument(fmt::format("--radius {}: must be > 0 (pixels)", *a.radius_px));
  create_output_folder(a.out);

  auto source = a.input.open();
  const io::DatasetInfo& info = source->info();

  // Pass 1 (only when needed): the max pattern gives the disk radius, mean and max the bad pixels.
  double radius = a.radius_px.value_or(0);
  std::vector<engine::DetectorPixel> bad;
  if ((!a.radius_px && !friedel) || a.repair_bad_pixels) {
    stem::VirtualDiffraction vd = diffraction_pass(*source, global, "diffraction");
    if (a.repair_bad_pixels) {
      stem::BadPixelOptions bo;
      bo.frames = info.frame_count();
      bad = stem::pixels_of(stem::find_bad_pixels(vd.mean(), vd.max(), bo));
    }
    if (!a.radius_px && !friedel) {
      // Measured on the max pattern, with the bad pixels repaired.
      const Array max = bad.empty() ? vd.max() : engine::repair_pixels(vd.max(), bad);
      radius = stem::measure_probe_size(max).radius_px;
    }
  }

  // Pass 2: the origin at every position.
  std::unique_ptr<engine::Analysis> analysis;
  if (friedel)
    analysis = std::make_unique<stem::OriginFriedel>();
  else
    analysis = std::make_unique<stem::OriginMeasurement>(
        stem::OriginMeasurement::Options{.radius_px = radius, .rscale = a.rscale});
  engine::RepairPixels repair(bad);
  std::vector<engine::FrameStage*> stages;
  if (!bad.empty()) stages.push_back(&repair);
  engine::Analysis* list[] = {analysis.get()};
  run_pass(*source, list, stages, global, "origin");
  const std::vector<Result> measured = analysis->results();  // origin_qy, origin_qx

  stem::OriginFitOptions fo;
  fo.model = model;
  fo.robust = !a.no_robust;
  fo.outlier_threshold = a.outlier_threshold;
  const stem::OriginFit fit = stem::fit_origin(measured[0].data, measured[1].data, fo);

  Calibration cal = info.calibration;
  stem::set_origin(cal, fit);
  const Metadata summary{{"input", info.path},
                         {"method", a.method},
                         {"radius_px", friedel ? Metadata() : Metadata(radius)},
                         {"radius_measured", !friedel && !a.radius_px.has_value()},
                         {"rscale", a.rscale},
                         {"bad_pixels_repaired", bad.size()},
                         {"model", std::string(stem::name_of(model))},
                         {"robust", fo.robust},
                         {"outlier_threshold", fo.outlier_threshold},
                         {"coefficients_qy", vector_json(fit.coefficients_qy)},
                         {"coefficients_qx", vector_json(fit.coefficients_qx)},
                         {"positions_used", fit.used},
                         {"positions", info.frame_count()},
                         {"iterations", fit.iterations},
                         {"rms_residual_qy_px", fit.rms_qy_px},
                         {"rms_residual_qx_px", fit.rms_qx_px},
                         {"origin_mean_qy_px", *cal.origin_qy_px},
                         {"origin_mean_qx_px", *cal.origin_qx_px},
                         {"scandiff_version", scandiff::version}};

  const fs::path h5 = fs::path(a.out) / "origin.h5";
  io::EmdWriter emd(h5);
  const std::string root = "origin_root";
  emd.add_root(root, cal);
  const auto axes = info.scan_axes();
  Metadata prov = measured[0].provenance;
  auto add = [&](const std::string& name, const Array& data, const std::string& units) {
    emd.add_array(root, Result{name, data, axes, units, prov}, "RealSlice");
  };
  add("origin_qy_measured", measured[0].data, "pixels");
  add("origin_qx_measured", measured[1].data, "pixels");
  prov = summary;
  add("origin_qy_fit", fit.qy, "pixels");
  add("origin_qx_fit", fit.qx, "pixels");
  add("origin_qy_residual", fit.residual_qy, "pixels");
  add("origin_qx_residual", fit.residual_qx, "pixels");
  add("origin_fit_inliers", fit.inliers, "");
  emd.add_metadata(root, "origin_fit", summary);
  emd.commit();

  io::PngOptions png;
  png.colormap = "viridis";
  for (auto [name, map] : {std::pair{"origin_qy_measured", measured[0].data}, {"origin_qx_measured", measured[1].data},
                           {"origin_qy_fit", fit.qy}, {"origin_qx_fit", fit.qx}})
    io::write_png(fs::path(a.out) / (std::string(name) + ".png"), map, png);

  if (global.quiet) return;
  std::cout << fmt::format(
      "origin: {} positions, {}, {} fit on {} positions ({} rejected, {} iterations)\n"
      "  mean origin (qy, qx) = ({:.4f}, {:.4f}) px; RMS residual (qy, qx) = ({:.4f}, {:.4f}) px\n"
      "  {}/origin.h5  measured, fitted, residual maps; calibration qx0/qy0 = fitted maps (py4DSTEM)\n"
      "  {}/origin_q{{y,x}}_{{measured,fit}}.png\n",
      info.frame_count(),
      friedel ? std::string("Friedel method")
              : fmt::format("disk radius {:.3f} px ({})", radius, a.radius_px ? "given" : "measured on the max pattern"),
      stem::name_of(model), fit.used,
      info.frame_count() - fit.used, fit.iterations, *cal.origin_qy_px, *cal.origin_qx_px, fit.rms_qy_px, fit.rms_qx_px,
      a.out, a.out);
}

}  // namespace

void register_calibrate_origin(CLI::App& calibrate, const GlobalOptions& global) {
  auto a = std::make_shared<OriginArgs>();
  auto* cmd = calibrate.add_subcommand(
      "origin", "measure the diffraction origin at every scan position and fit a surface to it (descan)");
  a->input.add_to(cmd);
  cmd->add_option("--out", a->out, "folder for origin.h5 and the PNGs (created if missing)")->required();
  cmd->add_option("--method", a->method,
                  "com: blurred argmax + centre of mass (py4DSTEM get_origin); friedel: autoconvolution peak "
                  "(get_origin_friedel)")
      ->capture_default_str();
  cmd->add_option("--fit", a->fit, "surface: constant, plane, parabola or bezier")->capture_default_str();
  cmd->add_option("--radius", a->radius_px,
                  "central disk radius in pixels (default: measured on the max pattern, py4DSTEM get_probe_size)");
  cmd->add_option("--rscale", a->rscale, "centre-of-mass circle radius as a multiple of the disk radius")
      ->capture_default_str();
  cmd->add_flag("--no-robust", a->no_robust, "fit all positions (no outlier rejection)");
  cmd->add_option("--outlier-threshold", a->outlier_threshold, "outliers: residual beyond this many robust sigmas")
      ->capture_default_str();
  cmd->add_flag("--repair-bad-pixels", a->repair_bad_pixels,
                "find hot/dead pixels in the mean/max patterns and repair them before measuring");
  cmd->callback([a, &global] { calibrate_origin(*a, global); });
}

}  // namespace scandiff::cli
