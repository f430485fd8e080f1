// Bindings of the polar side of scandiff/stem: the polar (elliptical) transform and the FEM
// statistics analysis, the ellipse fit to a ring, ring peaks and the reciprocal pixel size from
// a calibrant; and the calibrant reader of scandiff/io.
#include <filesystem>
#include <numbers>
#include <optional>
#include <tuple>

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/io/calibrant.hpp"
#include "scandiff/stem/ellipse_fit.hpp"
#include "scandiff/stem/pixel_size.hpp"
#include "scandiff/stem/polar_statistics.hpp"
#include "scandiff/stem/polar_transform.hpp"
#include "scandiff/stem/radial_background.hpp"

namespace scandiff::python {

namespace {

using EllipseTuple = std::optional<std::tuple<double, double, double>>;  // (a_px, b_px, theta_rad)

std::optional<Ellipse> ellipse_of(const EllipseTuple& e) {
  if (!e) return std::nullopt;
  return Ellipse{std::get<0>(*e), std::get<1>(*e), std::get<2>(*e)};
}

stem::PolarOptions polar_options(double qmin, std::optional<double> qmax, double qstep, std::int64_t n_annular,
                                 bool two_fold, bool smoothing, double mask_threshold) {
  stem::PolarOptions o;
  o.qmin_px = qmin;
  o.qmax_px = qmax;
  o.qstep_px = qstep;
  o.n_annular = n_annular;
  o.two_fold = two_fold;
  o.angular_smoothing = smoothing;
  o.mask_threshold = mask_threshold;
  o.validate();
  return o;
}

// A uint8 mask (non-zero = excluded) from any array, or an empty Array for None.
Array mask_of(nb::handle mask) {
  if (mask.is_none()) return Array();
  nb::object np = nb::module_::import_("numpy");
  return copy_array(np.attr("not_equal")(mask, 0).attr("astype")("uint8"));
}

}  // namespace

void bind_polar(nb::module_& m) {
  nb::class_<stem::PolarStatistics, engine::Analysis>(
      m, "PolarStatistics",
      "polar transform of every pattern about its origin: azimuthal_mean / azimuthal_var (ry, rx, q) and the FEM "
      "statistics radial_mean, radial_var, radial_var_norm, local_var_norm (q); radii in detector pixels")
      .def("__init__", [](stem::PolarStatistics* p, double qmin, std::optional<double> qmax, double qstep,
                          std::int64_t n_annular, bool two_fold, bool smoothing, double mask_threshold,
                          bool use_ellipse, EllipseTuple ellipse, nb::handle mask) {
        stem::PolarStatistics::Options o;
        o.polar = polar_options(qmin, qmax, qstep, n_annular, two_fold, smoothing, mask_threshold);
        o.use_ellipse = use_ellipse;
        o.ellipse = ellipse_of(ellipse);
        o.mask = mask_of(mask);
        new (p) stem::PolarStatistics(std::move(o));
      }, nb::arg("qmin_px") = 0.0, nb::arg("qmax_px") = nb::none(), nb::arg("qstep_px") = 1.0,
           nb::arg("n_annular") = 180, nb::arg("two_fold") = false, nb::arg("angular_smoothing") = true,
           nb::arg("mask_threshold") = 0.1, nb::arg("use_ellipse") = true, nb::arg("ellipse") = nb::none(),
           nb::arg("mask") = nb::none());

  m.def("polar_transform", [](nb::handle image, double origin_qy, double origin_qx, EllipseTuple ellipse,
                              double qmin, std::optional<double> qmax, double qstep, std::int64_t n_annular,
                              bool two_fold, bool smoothing, double mask_threshold, nb::handle mask) {
    const Array frame = copy_array(image).astype(DType::f64);
    if (frame.rank() != 2) throw InvalidArgument("polar_transform: expected one 2D (qy, qx) image");
    const Array m8 = mask_of(mask);
    const stem::PolarTransform t(frame.shape(0), frame.shape(1), origin_qy, origin_qx, ellipse_of(ellipse),
                                 polar_options(qmin, qmax, qstep, n_annular, two_fold, smoothing, mask_threshold),
                                 m8.empty() ? nullptr : &m8);
    Array out(DType::f64, {t.n_annular(), t.n_radial()});
    std::vector<double> scratch;
    t.apply(frame.data<double>(), std::span<double>(out.data<double>(), static_cast<std::size_t>(out.size())), scratch);
    return to_numpy(out);
  }, nb::arg("image"), nb::arg("origin_qy_px"), nb::arg("origin_qx_px"), nb::arg("ellipse") = nb::none(),
        nb::arg("qmin_px") = 0.0, nb::arg("qmax_px") = nb::none(), nb::arg("qstep_px") = 1.0,
        nb::arg("n_annular") = 180, nb::arg("two_fold") = false, nb::arg("angular_smoothing") = true,
        nb::arg("mask_threshold") = 0.1, nb::arg("mask") = nb::none(),
        "the polar image (n_annular, n_radial) float64 of one (qy, qx) pattern: phi from +qx toward +qy, radius "
        "qmin + j*qstep pixels; NaN where unsampled");

  m.def("radial_background", [](nb::handle image, double origin_qy, double origin_qx, EllipseTuple ellipse,
                                double qmin, std::optional<double> qmax, double qstep, std::int64_t n_annular,
                                bool two_fold, bool smoothing, double mask_threshold, double sigma, bool subtract) {
    Array frame = copy_array(image).astype(DType::f64);
    if (frame.rank() != 2) throw InvalidArgument("radial_background: expected one 2D (qy, qx) image");
    const stem::RadialBackground rb(frame.shape(0), frame.shape(1), ellipse_of(ellipse),
                                    polar_options(qmin, qmax, qstep, n_annular, two_fold, smoothing, mask_threshold),
                                    sigma);
    stem::RadialBackground::Workspace ws;
    {
      nb::gil_scoped_release release;
      if (subtract) {
        rb.subtract(frame.data<double>(), origin_qy, origin_qx, ws);
      } else {
        Array bg(DType::f64, frame.shape());
        rb.background(frame.data<double>(), origin_qy, origin_qx,
                      std::span<double>(bg.data<double>(), static_cast<std::size_t>(bg.size())), ws);
        frame = std::move(bg);
      }
    }
    return to_numpy(frame);
  }, nb::arg("image"), nb::arg("origin_qy_px"), nb::arg("origin_qx_px"), nb::arg("ellipse") = nb::none(),
        nb::arg("qmin_px") = 0.0, nb::arg("qmax_px") = nb::none(), nb::arg("qstep_px") = 1.0,
        nb::arg("n_annular") = 180, nb::arg("two_fold") = false, nb::arg("angular_smoothing") = true,
        nb::arg("mask_threshold") = 0.1, nb::arg("sigma") = 2.0, nb::arg("subtract") = false,
        "py4DSTEM's radial background (get_radial_bkgrnd) of one (qy, qx) pattern, float64; with subtract=True the "
        "pattern minus it, negatives set to 0 (get_radial_bksb_dp)");

  m.def("fit_ellipse_ring", [](nb::handle pattern, double center_qy, double center_qx, double r_inner,
                               double r_outer, int max_iterations, nb::handle mask) {
    stem::EllipseFitOptions o;
    o.center_qy_px = center_qy;
    o.center_qx_px = center_qx;
    o.r_inner_px = r_inner;
    o.r_outer_px = r_outer;
    o.max_iterations = max_iterations;
    const Array m8 = mask_of(mask);
    const stem::EllipseFitResult f = stem::fit_ellipse_ring(copy_array(pattern), o, m8.empty() ? nullptr : &m8);
    nb::dict d;
    d["center_qy_px"] = f.center_qy_px;
    d["center_qx_px"] = f.center_qx_px;
    d["ellipse"] = nb::make_tuple(f.ellipse.a_px, f.ellipse.b_px, f.ellipse.theta_rad);
    d["implicit_ABC"] = nb::make_tuple(f.A, f.B, f.C);
    d["pixels"] = f.pixels;
    d["iterations"] = f.iterations;
    d["rms_radial_px"] = f.rms_radial_px;
    return d;
  }, nb::arg("pattern"), nb::arg("center_qy_px"), nb::arg("center_qx_px"), nb::arg("r_inner_px"),
        nb::arg("r_outer_px"), nb::arg("max_iterations") = 50, nb::arg("mask") = nb::none(),
        "ellipse (a_px, b_px, theta_rad; theta of the a-axis from +qx toward +qy) and centre fitted to the ring "
        "between the radii of a 2D (qy, qx) pattern");

  m.def("find_ring_peaks", [](const std::vector<double>& profile, double qmin, double qstep, double r_min,
                              double min_relative_height, std::int64_t window) {
    nb::list out;
    for (const auto& p : stem::find_ring_peaks(profile, qmin, qstep, {r_min, min_relative_height, window}))
      out.append(nb::make_tuple(p.radius_px, p.height));
    return out;
  }, nb::arg("profile"), nb::arg("qmin_px"), nb::arg("qstep_px"), nb::arg("r_min_px") = 5.0,
        nb::arg("min_relative_height") = 0.05, nb::arg("background_window") = 10,
        "[(radius_px, height)] of the ring peaks of an azimuthal mean profile, by radius");

  m.def("fit_pixel_size", [](const std::vector<std::tuple<double, double>>& peaks, const std::vector<double>& d_A,
                             double tolerance, std::optional<double> guess) {
    std::vector<stem::RingPeak> rp;
    for (auto [r, h] : peaks) rp.push_back({r, h});
    stem::PixelSizeOptions o;
    o.tolerance = tolerance;
    o.guess_inv_A_per_px = guess;
    const stem::PixelSizeResult f = stem::fit_pixel_size(rp, d_A, o);
    nb::list matches;
    for (const auto& mt : f.matches) {
      nb::dict d;
      d["ring"] = mt.ring;
      d["d_A"] = mt.d_A;
      d["radius_px"] = mt.radius_px;
      d["predicted_px"] = mt.predicted_px;
      matches.append(d);
    }
    nb::dict d;
    d["inv_A_per_px"] = f.inv_A_per_px;
    d["matches"] = matches;
    d["rms_relative"] = f.rms_relative;
    return d;
  }, nb::arg("peaks"), nb::arg("d_spacing_A"), nb::arg("tolerance") = 0.015, nb::arg("guess") = nb::none(),
        "reciprocal pixel size (A^-1 of q = 1/d per pixel) indexing ring peaks (radius_px, height) to d-spacings");

  m.def("read_calibrant", [](const std::filesystem::path& p) {
    const io::Calibrant c = io::read_calibrant(p);
    std::vector<double> d;
    for (const auto& r : c.rings) d.push_back(r.d_A);
    return nb::make_tuple(c.name, d);
  }, nb::arg("path"), "(name, d-spacings in A, decreasing) of a pyFAI/Dioptas .D file");
}

}  // namespace scandiff::python
