#include "scandiff/stem/dpc.hpp"

#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "scandiff/analysis/plane_fit.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

Array remove_background(const Array& map, ComBackground b) {
  switch (b) {
    case ComBackground::none: return map.astype(DType::f64);
    case ComBackground::plane: return analysis::subtract_plane(map, analysis::fit_plane(map));
    case ComBackground::mean: {
      Array out = map.astype(DType::f64);
      double* p = out.data<double>();
      double s = 0;
      std::int64_t n = 0;
      for (std::int64_t k = 0; k < out.size(); ++k)
        if (std::isfinite(p[k])) {
          s += p[k];
          ++n;
        }
      const double mean = n ? s / static_cast<double>(n) : 0.0;
      for (std::int64_t k = 0; k < out.size(); ++k) p[k] -= mean;
      return out;
    }
  }
  return map;
}

void scale_in_place(Array& a, double s) {
  double* p = a.data<double>();
  for (std::int64_t k = 0; k < a.size(); ++k) p[k] *= s;
}

}  // namespace

std::string_view name_of(ComBackground b) {
  switch (b) {
    case ComBackground::none: return "none";
    case ComBackground::mean: return "mean";
    case ComBackground::plane: return "plane";
  }
  return "?";
}

ComBackground parse_com_background(std::string_view text, std::string_view what) {
  if (text == "none") return ComBackground::none;
  if (text == "mean") return ComBackground::mean;
  if (text == "plane") return ComBackground::plane;
  throw InvalidArgument(fmt::format("{}: '{}' is not a background, expected plane, mean or none", what, text));
}

DpcResult dpc(const Array& com_x_px, const Array& com_y_px, const Calibration& cal, const DpcOptions& options) {
  if (com_x_px.rank() != 2 || com_x_px.shape() != com_y_px.shape())
    throw InvalidArgument("dpc: the CoM maps must be two 2D (ry, rx) maps of one shape");
  DpcResult r;
  r.options = options;
  Array x = remove_background(com_x_px, options.background);
  Array y = remove_background(com_y_px, options.background);

  // Detector pixels -> Å⁻¹ where the calibration allows it.
  double to_k = cal.detector_pixel_size;
  r.com_units = cal.detector_units;
  bool physical = false;
  if (cal.detector_units == "A^-1") {
    physical = true;
  } else if (cal.detector_units == "mrad" && cal.beam_energy_eV) {
    to_k = cal.detector_pixel_size * 1e-3 / cal.wavelength_A();  // k = θ / λ
    r.com_units = "A^-1";
    physical = true;
  }
  scale_in_place(x, to_k);
  scale_in_place(y, to_k);

  // Rotation into scan axes.
  if (options.rotation_rad && options.flip) {
    r.rotation = {*options.rotation_rad, *options.flip};
  } else {
    RotationSearch s = options.search;
    s.flip = options.flip;
    r.search = find_scan_rotation(x, y, s);
    r.rotation = r.search.best;
    if (options.rotation_rad) {  // angle given, flip searched: the flip with the lower curl at that angle
      Array fx, fy;
      double best = 0;
      for (const bool flip : {false, true}) {
        apply_scan_rotation(x, y, {*options.rotation_rad, flip}, fx, fy);
        const double c = mean_abs_curl(fx, fy);
        if (!flip || c < best) {
          best = c;
          r.rotation = {*options.rotation_rad, flip};
        }
      }
    } else {
      r.rotation_searched = true;
    }
  }
  apply_scan_rotation(x, y, r.rotation, r.com_x, r.com_y);
  r.curl = mean_abs_curl(r.com_x, r.com_y);

  // Phase gradient per scan pixel: 2π·k·Δr.
  double step = cal.scan_pixel_size;
  bool step_in_A = cal.scan_units == "A";
  if (cal.scan_units == "nm") {
    step *= 10;
    step_in_A = true;
  }
  r.gradient_scale = 2 * std::numbers::pi * step;
  r.phase_units = physical && step_in_A ? "rad" : "a.u.";
  Array gx = r.com_x.copy(), gy = r.com_y.copy();
  scale_in_place(gx, r.gradient_scale);
  scale_in_place(gy, r.gradient_scale);
  r.phase = integrate_gradient(gx, gy, options.integration);
  return r;
}

std::vector<Result> DpcResult::results(const io::DatasetInfo& info) const {
  Metadata prov{{"analysis", "dpc"},
                {"rotation_rad", rotation.rotation_rad},
                {"rotation_deg", rotation.rotation_rad * 180 / std::numbers::pi},
                {"flip", rotation.flip},
                {"rotation_searched", rotation_searched},
                {"mean_abs_curl", curl},
                {"convention",
                 "flip swaps (x, y) first, then x' = cos(t) x - sin(t) y, y' = sin(t) x + cos(t) y, x = qx; "
                 "py4DSTEM: rotation = -t, transpose = flip"},
                {"background", std::string(name_of(options.background))},
                {"phase_integration", {{"method", "Fourier"}, {"mirror", options.integration.mirror},
                                       {"regularization", options.integration.regularization}}},
                {"gradient_scale", gradient_scale},
                {"input", info.path},
                {"scandiff_version", scandiff::version}};
  return {Result{"dpc_com_x", com_x, info.scan_axes(), com_units, prov},
          Result{"dpc_com_y", com_y, info.scan_axes(), com_units, prov},
          Result{"idpc_phase", phase, info.scan_axes(), phase_units, prov}};
}

}  // namespace scandiff::stem
