// Bindings of scandiff/stem: virtual detectors and images, virtual diffraction, centre of mass and
// DPC, origin measurement and fit, probe size, bad pixels.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/stem/bad_pixels.hpp"
#include "scandiff/stem/center_of_mass.hpp"
#include "scandiff/stem/detector_geometry.hpp"
#include "scandiff/stem/dpc.hpp"
#include "scandiff/stem/median_diffraction.hpp"
#include "scandiff/stem/origin.hpp"
#include "scandiff/stem/origin_fit.hpp"
#include "scandiff/stem/origin_friedel.hpp"
#include "scandiff/stem/probe_size.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"

namespace scandiff::python {

namespace {

stem::CenterShift parse_shift(const std::string& s) {
  for (auto c : {stem::CenterShift::none, stem::CenterShift::integer, stem::CenterShift::subpixel})
    if (stem::name_of(c) == s) return c;
  throw InvalidArgument("shift_center '" + s + "': expected 'none', 'integer' or 'subpixel'");
}

stem::Detector resolve(const io::DatasetInfo& info, const std::string& spec, const std::string& units, bool relative) {
  stem::DetectorGeometry g = stem::parse_detector_geometry(spec, "detector '" + spec + "'");
  g.units = stem::parse_detector_units(units, "units");
  g.relative_to_origin = relative;
  return stem::resolve_detector(g, info, "detector '" + spec + "'");
}

}  // namespace

void bind_stem(nb::module_& m) {
  using stem::Detector;
  nb::class_<Detector>(m, "Detector",
                       "weights over the detector plane (qy = row, qx = column), py4DSTEM's definitions, pixels")
      .def_static("point", &Detector::point, nb::arg("frame_y"), nb::arg("frame_x"), nb::arg("qy"), nb::arg("qx"))
      .def_static("circle", &Detector::circle, nb::arg("frame_y"), nb::arg("frame_x"), nb::arg("qy0"), nb::arg("qx0"),
                  nb::arg("radius"))
      .def_static("annulus", &Detector::annulus, nb::arg("frame_y"), nb::arg("frame_x"), nb::arg("qy0"),
                  nb::arg("qx0"), nb::arg("r_in"), nb::arg("r_out"))
      .def_static("rectangle", &Detector::rectangle, nb::arg("frame_y"), nb::arg("frame_x"), nb::arg("qy_min"),
                  nb::arg("qy_max"), nb::arg("qx_min"), nb::arg("qx_max"))
      .def_static("from_mask", [](nb::handle mask) { return Detector::from_mask(copy_array(mask)); }, nb::arg("mask"),
                  "any 2D (qy, qx) array, used as weights")
      .def_static("resolve", &resolve, nb::arg("info"), nb::arg("spec"), nb::arg("units") = "pixels",
                  nb::arg("relative_to_origin") = false,
                  "the CLI's detector SPEC ('annulus:qy,qx,r_in,r_out', ...) in `units` ('px', 'A^-1', 'mrad') "
                  "for the frames and calibration of `info` (a DatasetInfo: the dataset as the analyses see it)")
      .def_prop_ro("frame_shape", [](const Detector& d) { return nb::make_tuple(d.frame_y(), d.frame_x()); })
      .def_prop_ro("weights", [](const Detector& d) { return to_numpy(d.weights()); }, "float64 (qy, qx)")
      .def_prop_ro("parameters", [](const Detector& d) { return to_python(d.parameters()); });

  nb::class_<stem::VirtualImages, engine::Analysis>(
      m, "VirtualImages", "VI_d[ry, rx] = sum_q frame[ry, rx, q] * w_d[q] (float64), all detectors in one sweep")
      .def("__init__", [](stem::VirtualImages* v, const std::vector<std::pair<std::string, Detector>>& detectors,
                          const std::string& shift) {
        std::vector<stem::NamedDetector> named;
        for (const auto& [n, d] : detectors) named.push_back({n, d});
        new (v) stem::VirtualImages(std::move(named), parse_shift(shift));
      }, nb::arg("detectors"), nb::arg("shift_center") = "none")
      .def("image", [](const stem::VirtualImages& v, std::size_t i) { return to_numpy(v.image(i)); }, nb::arg("index"),
           "the (ry, rx) float64 image of detector `index` (shares the library's buffer)");

  nb::class_<stem::CenterOfMass, engine::Analysis>(
      m, "CenterOfMass", "com_x (along qx, column) and com_y (along qy, row) of every pattern, detector pixels")
      .def("__init__", [](stem::CenterOfMass* c, std::optional<Detector> mask, bool relative) {
        new (c) stem::CenterOfMass(stem::CenterOfMass::Options{std::move(mask), relative});
      }, nb::arg("mask") = nb::none(), nb::arg("relative_to_origin") = false)
      .def_prop_ro("com_x", [](const stem::CenterOfMass& c) { return to_numpy(c.com_x()); })
      .def_prop_ro("com_y", [](const stem::CenterOfMass& c) { return to_numpy(c.com_y()); });

  nb::class_<stem::VirtualDiffraction, engine::Analysis>(
      m, "VirtualDiffraction", "mean and max diffraction patterns over (selected or weighted) scan positions, float64")
      .def("__init__", [](stem::VirtualDiffraction* v, bool mean, bool max, nb::handle select, nb::handle weights,
                          const std::string& shift) {
        stem::VirtualDiffraction::Options o{.mean = mean, .max = max, .positions = {}, .shift = parse_shift(shift)};
        if (!select.is_none() && !weights.is_none()) throw InvalidArgument("give select or weights, not both");
        if (!select.is_none()) o.positions = stem::ScanWeights::selection(copy_array(select));
        if (!weights.is_none()) o.positions = stem::ScanWeights::weights(copy_array(weights));
        new (v) stem::VirtualDiffraction(o);
      }, nb::arg("mean") = true, nb::arg("max") = true, nb::arg("select") = nb::none(), nb::arg("weights") = nb::none(),
           nb::arg("shift_center") = "none")
      .def_prop_ro("mean", [](const stem::VirtualDiffraction& v) { return to_numpy(v.mean()); })
      .def_prop_ro("max", [](const stem::VirtualDiffraction& v) { return to_numpy(v.max()); });

  m.def("median_diffraction", [](Dataset& d, nb::handle select, nb::handle weights, const std::string& shift, int threads,
                                 const std::string& memory, nb::object progress) {
    stem::MedianOptions o{.positions = {}, .shift = parse_shift(shift), .threads = threads};
    if (!select.is_none() && !weights.is_none()) throw InvalidArgument("give select or weights, not both");
    if (!select.is_none()) o.positions = stem::ScanWeights::selection(copy_array(select));
    if (!weights.is_none()) o.positions = stem::ScanWeights::weights(copy_array(weights));
    Result out;
    run_interruptible(PassOptions{threads, memory, 0, std::move(progress), {}},
                      [&](const engine::RunOptions& run) { out = stem::median_diffraction(*d.source, o, run); });
    return out;
  }, nb::arg("dataset"), nb::arg("select") = nb::none(), nb::arg("weights") = nb::none(),
        nb::arg("shift_center") = "none", nb::arg("threads") = 0, nb::arg("memory") = "",
        nb::arg("progress") = nb::none(),
        "the exact per-pixel median pattern (qy, qx) float64 of the selected positions (weights multiply the "
        "patterns), in as many passes as tiles of half the memory budget");

  nb::class_<stem::OriginMeasurement, engine::Analysis>(
      m, "OriginMeasurement", "the origin at every position, py4DSTEM's get_origin (blurred argmax + centre of mass)")
      .def("__init__", [](stem::OriginMeasurement* o, double radius, double rscale, bool refine) {
        new (o) stem::OriginMeasurement({.radius_px = radius, .rscale = rscale, .refine_com = refine});
      }, nb::arg("radius_px"), nb::arg("rscale") = 1.2, nb::arg("refine_com") = true);
  nb::class_<stem::OriginFriedel, engine::Analysis>(m, "OriginFriedel",
                                                    "the origin at every position from Friedel symmetry")
      .def(nb::init<>());

  nb::class_<stem::OriginFit>(m, "OriginFit", "a surface fitted to measured origin maps (float64 (ry, rx), pixels)")
      .def_prop_ro("model", [](const stem::OriginFit& f) { return std::string(stem::name_of(f.model)); })
      .def_prop_ro("qy", [](const stem::OriginFit& f) { return to_numpy(f.qy); })
      .def_prop_ro("qx", [](const stem::OriginFit& f) { return to_numpy(f.qx); })
      .def_prop_ro("residual_qy", [](const stem::OriginFit& f) { return to_numpy(f.residual_qy); })
      .def_prop_ro("residual_qx", [](const stem::OriginFit& f) { return to_numpy(f.residual_qx); })
      .def_prop_ro("inliers", [](const stem::OriginFit& f) { return to_numpy(f.inliers); })
      .def_ro("coefficients_qy", &stem::OriginFit::coefficients_qy)
      .def_ro("coefficients_qx", &stem::OriginFit::coefficients_qx)
      .def_ro("used", &stem::OriginFit::used)
      .def_ro("iterations", &stem::OriginFit::iterations)
      .def_ro("rms_qy_px", &stem::OriginFit::rms_qy_px)
      .def_ro("rms_qx_px", &stem::OriginFit::rms_qx_px);
  m.def("fit_origin", [](nb::handle qy, nb::handle qx, const std::string& model, bool robust, double threshold) {
    stem::OriginFitOptions o;
    o.model = stem::parse_surface_model(model, "fit");
    o.robust = robust;
    o.outlier_threshold = threshold;
    return stem::fit_origin(copy_array(qy), copy_array(qx), o);
  }, nb::arg("measured_qy"), nb::arg("measured_qx"), nb::arg("model") = "plane", nb::arg("robust") = true,
        nb::arg("outlier_threshold") = 4.0);
  m.def("with_origin_fit", [](Calibration cal, const stem::OriginFit& fit) {
    stem::set_origin(cal, fit);
    return cal;
  }, nb::arg("calibration"), nb::arg("fit"), "a copy of the calibration whose origin maps are the fitted ones");

  m.def("measure_probe_size", [](nb::handle image) {
    const stem::ProbeSize p = stem::measure_probe_size(copy_array(image));
    nb::dict d;
    d["radius_px"] = p.radius_px;
    d["center_qy_px"] = p.center_qy_px;
    d["center_qx_px"] = p.center_qx_px;
    d["threshold"] = p.threshold;
    return d;
  }, nb::arg("image"), "py4DSTEM's get_probe_size on a 2D (qy, qx) image; pixels");

  m.def("find_bad_pixels", [](nb::handle mean, nb::handle max, int window, double hot, double dead,
                              std::int64_t frames, bool counting) {
    stem::BadPixelOptions o;
    o.window_radius_px = window;
    o.hot_threshold = hot;
    o.dead_threshold = dead;
    o.frames = frames;
    o.counting = counting;
    nb::list out;
    for (const auto& b : stem::find_bad_pixels(copy_array(mean), max.is_none() ? Array() : copy_array(max), o)) {
      nb::dict d;
      d["qy"] = b.qy;
      d["qx"] = b.qx;
      d["kind"] = b.kind == stem::BadPixelKind::hot ? "hot" : "dead";
      d["score"] = b.score;
      out.append(d);
    }
    return out;
  }, nb::arg("mean"), nb::arg("max").none(), nb::arg("window") = 2, nb::arg("hot_threshold") = 8.0,
        nb::arg("dead_threshold") = 5.0, nb::arg("frames") = 1, nb::arg("counting") = true);

  nb::class_<stem::DpcResult>(m, "DpcResult")
      .def_prop_ro("rotation_rad", [](const stem::DpcResult& r) { return r.rotation.rotation_rad; })
      .def_prop_ro("flip", [](const stem::DpcResult& r) { return r.rotation.flip; })
      .def_ro("rotation_searched", &stem::DpcResult::rotation_searched)
      .def_ro("curl", &stem::DpcResult::curl)
      .def_prop_ro("com_x", [](const stem::DpcResult& r) { return to_numpy(r.com_x); })
      .def_prop_ro("com_y", [](const stem::DpcResult& r) { return to_numpy(r.com_y); })
      .def_ro("com_units", &stem::DpcResult::com_units)
      .def_prop_ro("phase", [](const stem::DpcResult& r) { return to_numpy(r.phase); })
      .def_ro("phase_units", &stem::DpcResult::phase_units)
      .def("results", [](const stem::DpcResult& r, const io::DatasetInfo& i) { return r.results(i); });
  m.def("dpc", [](nb::handle com_x, nb::handle com_y, const Calibration& cal, const std::string& background,
                  std::optional<double> rotation_rad, std::optional<bool> flip) {
    stem::DpcOptions o;
    o.background = stem::parse_com_background(background, "background");
    o.rotation_rad = rotation_rad;
    o.flip = flip;
    return stem::dpc(copy_array(com_x), copy_array(com_y), cal, o);
  }, nb::arg("com_x"), nb::arg("com_y"), nb::arg("calibration"), nb::arg("background") = "plane",
        nb::arg("rotation_rad") = nb::none(), nb::arg("flip") = nb::none(),
        "scan rotation (curl minimisation unless given), background removal and the integrated iDPC phase");
}

}  // namespace scandiff::python
