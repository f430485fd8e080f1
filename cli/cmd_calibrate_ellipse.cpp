// scandiff calibrate ellipse FILE --annulus RI,RO --out DIR: the elliptical distortion (a, b, θ)
// and centre from one ring of the mean pattern (stem/ellipse_fit.hpp), written to
// DIR/ellipse.json (read by `polar --calibration`; epsic's p_ellipse key included) and
// DIR/ellipse.h5 (EMD 1.0: the calibration with the ellipse and the mean pattern).
#include <filesystem>
#include <iostream>
#include <numbers>

#include <fmt/format.h>

#include "commands.hpp"
#include "output_folder.hpp"
#include "diffraction_pass.hpp"
#include "input_options.hpp"
#include "polar_calibration.hpp"
#include "result_files.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/stem/ellipse_fit.hpp"
#include "scandiff/version.hpp"

namespace scandiff::cli {

namespace fs = std::filesystem;

namespace {

struct EllipseArgs {
  InputOptions input;
  std::string out;
  std::vector<double> annulus;  // RI,RO
  std::vector<double> center;   // QY,QX
  std::string origin;
  std::string mask;
  std::vector<double> mask_below, mask_above;
};

void calibrate_ellipse(const EllipseArgs& a, const GlobalOptions& global) {
  create_output_folder(a.out);
  auto source = a.input.open();
  const io::DatasetInfo& info = source->info();
  Calibration cal = calibration_with_options(info, "", a.origin);
  const Array mask = detector_mask(*source, a.mask, a.mask_below, a.mask_above);
  stem::VirtualDiffraction vd = diffraction_pass(*source, global, "ellipse");

  stem::EllipseFitOptions o;
  o.r_inner_px = a.annulus.at(0);
  o.r_outer_px = a.annulus.at(1);
  if (a.center.size() == 2) {
    o.center_qy_px = a.center[0];
    o.center_qx_px = a.center[1];
  } else if (cal.origin_qy_px && cal.origin_qx_px) {
    o.center_qy_px = *cal.origin_qy_px;
    o.center_qx_px = *cal.origin_qx_px;
  } else {
    o.center_qy_px = (static_cast<double>(info.frame_y) - 1) / 2;
    o.center_qx_px = (static_cast<double>(info.frame_x) - 1) / 2;
  }
  const stem::EllipseFitResult fit = stem::fit_ellipse_ring(vd.mean(), o, mask.empty() ? nullptr : &mask);
  adopt_ellipse_fit(fit, cal);

  const Metadata summary{{"input", info.path},
                         {"annulus_px", {o.r_inner_px, o.r_outer_px}},
                         {"initial_center_px", {o.center_qy_px, o.center_qx_px}},
                         {"pixels", fit.pixels},
                         {"iterations", fit.iterations},
                         {"rms_radial_px", fit.rms_radial_px},
                         {"implicit_ABC", {fit.A, fit.B, fit.C}},
                         {"method", "ring least squares, residual sqrt(I)(1 - 1/rho) (docs/polar.md)"},
                         {"scandiff_version", scandiff::version}};
  const fs::path dir(a.out);
  write_json_file(dir / "ellipse.json", polar_calibration_json(cal, {{"fit", summary}}));
  Result mean{"mean_diffraction", vd.mean(), info.detector_axes(), "counts", summary};
  write_results_emd(dir / "ellipse.h5", "ellipse_root", cal, {mean}, {{"ellipse_fit", summary}});
  write_result_pngs(dir, {mean});
  if (global.quiet) return;
  std::cout << fmt::format(
      "ellipse: a = {:.4f} px, b = {:.4f} px (a/b = {:.5f}), theta = {:.3f} deg from +qx toward +qy\n"
      "  centre (qy, qx) = ({:.3f}, {:.3f}) px; {} pixels, rms {:.3f} px\n  wrote {}\n",
      fit.ellipse.a_px, fit.ellipse.b_px, fit.ellipse.a_px / fit.ellipse.b_px,
      fit.ellipse.theta_rad * 180 / std::numbers::pi, fit.center_qy_px, fit.center_qx_px, fit.pixels,
      fit.rms_radial_px, (dir / "ellipse.json").string());
}

}  // namespace

void register_calibrate_ellipse(CLI::App& calibrate, const GlobalOptions& global) {
  auto a = std::make_shared<EllipseArgs>();
  auto* cmd = calibrate.add_subcommand(
      "ellipse", "elliptical distortion (a, b, angle) and centre fitted to one ring of the mean pattern");
  a->input.add_to(cmd);
  cmd->add_option("--out", a->out, "folder for ellipse.json, ellipse.h5 and a PNG (created if missing)")->required();
  cmd->add_option("--annulus", a->annulus, "RI,RO: radii (pixels, about the centre) enclosing one ring, and only it")
      ->delimiter(',')
      ->expected(2)
      ->required();
  cmd->add_option("--center", a->center, "initial centre QY,QX in pixels (default: the origin, else the frame centre)")
      ->delimiter(',')
      ->expected(2);
  cmd->add_option("--origin", a->origin, "origin QY,QX or FILE.h5[:ROOT] (its mean is the initial centre)");
  cmd->add_option("--mask", a->mask, "detector mask image (TIFF/EDF/CBF; non-zero = excluded pixel)");
  cmd->add_option("--mask-below", a->mask_below, "also exclude pixels below this value in the first frame")->expected(1);
  cmd->add_option("--mask-above", a->mask_above, "also exclude pixels above this value in the first frame")->expected(1);
  cmd->callback([a, &global] { calibrate_ellipse(*a, global); });
}

}  // namespace scandiff::cli
