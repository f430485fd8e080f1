// scandiff calibrate xray IMAGE --calibrant FILE.D --poni START.poni -o OUT.poni: refines an X-ray
// (or electron) geometry on a calibrant image: control points on the rings predicted by the
// current geometry, Levenberg–Marquardt on distance, PONI, Rot1, Rot2 (and the wavelength).
#include <iostream>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/calibrant.hpp"
#include "scandiff/io/image_file.hpp"
#include "scandiff/xray/calibration.hpp"

namespace scandiff::cli {

namespace {

struct CalibrateXrayArgs {
  std::string image, calibrant, poni, output;
  bool flip_ud = false;
  bool refine_wavelength = false;
  int passes = 3;
};

void calibrate_xray(const CalibrateXrayArgs& a) {
  Array image = io::read_image(a.image);
  if (image.rank() != 2)
    throw FormatError(fmt::format("{}: expected one 2D image, found shape {}", a.image, shape_string(image.shape())));
  xray::PoniGeometry start = xray::read_poni(a.poni);
  if (a.flip_ud) start.orientation = start.orientation == 3 ? 2 : start.orientation == 2 ? 3 : start.orientation == 1 ? 4 : 1;
  if (!(start.wavelength_m > 0)) throw InvalidArgument(fmt::format("{}: the starting geometry has no wavelength", a.poni));
  const io::Calibrant calibrant = io::read_calibrant(a.calibrant);
  std::vector<double> d_spacing_A;
  for (const io::CalibrantRing& ring : calibrant.rings) d_spacing_A.push_back(ring.d_A);
  const xray::RefineResult r = xray::calibrate(image, start, d_spacing_A, a.refine_wavelength, a.passes);
  xray::write_poni(a.output, r.geometry);
  const auto& g = r.geometry;
  std::cout << fmt::format(
      "{} on {} ({}):\n  distance    {:.6f} mm\n  poni1       {:.6f} mm ({:.3f} px)\n  poni2       {:.6f} mm ({:.3f} px)\n"
      "  rot1, rot2  {:.6f}, {:.6f} rad (rot3 {:.6g} kept)\n  wavelength  {:.6g} Å\n  rms 2θ residual {:.3g} deg\n"
      "written to {}\n",
      calibrant.name, a.image, a.poni, 1e3 * g.distance_m, 1e3 * g.poni1_m, g.poni1_m / g.pixel1_m, 1e3 * g.poni2_m,
      g.poni2_m / g.pixel2_m, g.rot1_rad, g.rot2_rad, g.rot3_rad, 1e10 * g.wavelength_m,
      r.rms_residual_rad * 180 / 3.141592653589793, a.output);
  if (!r.covariance.empty())
    std::cout << fmt::format(
        "  1-sigma (independent residuals): distance {:.4f} mm, poni1 {:.3f} px, poni2 {:.3f} px, rot1 {:.2e}, "
        "rot2 {:.2e} rad\n  correlations: poni2-rot1 {:.4f}, poni1-rot2 {:.4f}\n",
        1e3 * r.std_error(0), r.std_error(1) / g.pixel1_m, r.std_error(2) / g.pixel2_m, r.std_error(3),
        r.std_error(4), r.correlation(2, 3), r.correlation(1, 4));
}

}  // namespace

void register_calibrate_xray(CLI::App& calibrate, const GlobalOptions&) {
  auto a = std::make_shared<CalibrateXrayArgs>();
  auto* cmd = calibrate.add_subcommand("xray", "refine a .poni geometry on a calibrant image (rings of a .D file)");
  cmd->add_option("image", a->image, "calibrant image (TIFF/EDF/CBF)")->required();
  cmd->add_option("--calibrant", a->calibrant, "calibrant d-spacings (.D file, e.g. CeO2.D)")->required();
  cmd->add_option("--poni", a->poni, "starting geometry (.poni, with the wavelength)")->required();
  cmd->add_option("-o,--output", a->output, "refined geometry (.poni v2.1)")->required();
  cmd->add_flag("--flip-ud", a->flip_ud, "the image is flipped up-down relative to the .poni (Dioptas files)");
  cmd->add_flag("--refine-wavelength", a->refine_wavelength, "also refine the wavelength");
  cmd->add_option("--passes", a->passes, "point extraction + refinement passes")->capture_default_str();
  cmd->callback([a] { calibrate_xray(*a); });
}

}  // namespace scandiff::cli
