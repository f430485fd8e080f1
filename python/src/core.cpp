// Bindings of scandiff/core: errors, calibration, results, logging, version.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/core/calibration.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/version.hpp"

namespace scandiff::python {

namespace {

nb::object ellipse_get(const Calibration& c) {
  if (!c.ellipse) return nb::none();
  return nb::make_tuple(c.ellipse->a_px, c.ellipse->b_px, c.ellipse->theta_rad);
}
void ellipse_set(Calibration& c, nb::handle v) {
  if (v.is_none()) {
    c.ellipse.reset();
    return;
  }
  auto t = nb::cast<std::tuple<double, double, double>>(v);
  c.ellipse = Ellipse{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
}

// Python's logging receives the library's messages (logger "scandiff"). The sink may be called
// from engine threads: it takes the GIL, which a run releases while it waits.
void install_log_sink(nb::object logger) {
  if (logger.is_none()) {
    set_log_sink({});
    return;
  }
  auto* held = new nb::object(std::move(logger));  // lives as long as the process (sink owner)
  set_log_sink(
      [held](LogLevel level, std::string_view message) {
        if (!Py_IsInitialized()) return;
        nb::gil_scoped_acquire gil;
        const int py_level = level == LogLevel::debug ? 10 : level == LogLevel::info ? 20 : level == LogLevel::warning ? 30 : 40;
        try {
          held->attr("log")(py_level, nb::str(message.data(), message.size()));
        } catch (nb::python_error& e) {
          e.discard_as_unraisable("scandiff log sink");
        }
      },
      LogLevel::debug);
}

}  // namespace

void bind_core(nb::module_& m) {
  m.attr("__version__") = scandiff::version;

  // Errors: the library's hierarchy, with the Python built-in each one also is.
  static nb::exception<Error> error(m, "ScandiffError", PyExc_RuntimeError);
  static nb::exception<InvalidArgument> invalid(m, "InvalidArgument", PyExc_ValueError);
  static nb::exception<IoError> io_error(m, "IoError", PyExc_OSError);
  static nb::exception<FormatError> format_error(m, "FormatError", PyExc_ValueError);
  static nb::exception<BudgetError> budget_error(m, "BudgetError", PyExc_MemoryError);
  static nb::exception<Cancelled> cancelled(m, "Cancelled", error.ptr());

  nb::class_<Calibration>(m, "Calibration",
                          "Calibration of a scan. Scan (real-space) step `scan_pixel_size` in `scan_units` per scan "
                          "pixel; detector (reciprocal) step `detector_pixel_size` in `detector_units` per detector "
                          "pixel. Origin in detector pixels (qy = row, qx = column), globally or as per-position "
                          "(ry, rx) float64 maps. Ellipse (a_px, b_px, theta_rad), theta from +qx towards +qy. "
                          "Angles in radians.")
      .def(nb::init<>())
      .def_rw("scan_pixel_size", &Calibration::scan_pixel_size, "real-space step per scan pixel, in scan_units")
      .def_rw("scan_units", &Calibration::scan_units, "'pixels', 'nm', 'A' or 'um'")
      .def_rw("detector_pixel_size", &Calibration::detector_pixel_size, "step per detector pixel, in detector_units")
      .def_rw("detector_units", &Calibration::detector_units, "'pixels', 'A^-1' or 'mrad'")
      .def_prop_rw(
          "radiation", [](const Calibration& c) { return c.radiation == Radiation::xray ? "xray" : "electron"; },
          [](Calibration& c, const std::string& r) {
            if (r != "xray" && r != "electron") throw InvalidArgument("radiation '" + r + "': expected 'electron' or 'xray'");
            c.radiation = r == "xray" ? Radiation::xray : Radiation::electron;
          },
          "'electron' or 'xray'")
      .def_rw("beam_energy_eV", &Calibration::beam_energy_eV, "beam energy in eV (None when unknown)")
      .def_rw("camera_length_m", &Calibration::camera_length_m, "camera length in metres (None when unknown)")
      .def_rw("origin_qy_px", &Calibration::origin_qy_px, "global diffraction origin, row (qy), detector pixels")
      .def_rw("origin_qx_px", &Calibration::origin_qx_px, "global diffraction origin, column (qx), detector pixels")
      .def_prop_rw(
          "origin_qy_map", [](const Calibration& c) { return to_numpy(c.origin_qy_map); },
          [](Calibration& c, nb::handle v) { c.origin_qy_map = v.is_none() ? Array() : copy_array(v).astype(DType::f64); },
          nb::for_setter(nb::arg("value").none()), "per-position origin row (qy), float64 (ry, rx) in detector pixels, or None")
      .def_prop_rw(
          "origin_qx_map", [](const Calibration& c) { return to_numpy(c.origin_qx_map); },
          [](Calibration& c, nb::handle v) { c.origin_qx_map = v.is_none() ? Array() : copy_array(v).astype(DType::f64); },
          nb::for_setter(nb::arg("value").none()), "per-position origin column (qx), float64 (ry, rx) in detector pixels, or None")
      .def_prop_rw("ellipse", &ellipse_get, &ellipse_set, nb::for_setter(nb::arg("value").none()),
                   "(a_px, b_px, theta_rad) or None")
      .def_rw("qr_rotation_rad", &Calibration::qr_rotation_rad, "rotation from detector to scan axes, radians")
      .def_rw("qr_flip", &Calibration::qr_flip, "qx/qy transposed relative to the scan")
      .def("wavelength_A", &Calibration::wavelength_A, "beam wavelength in Angstrom (needs beam_energy_eV)")
      .def("to_dict", [](const Calibration& c) { return to_python(c.to_metadata()); },
           "every value with its units, as `scandiff info` lists them")
      .def("__repr__", [](const Calibration& c) { return "Calibration(" + c.to_metadata().dump() + ")"; });

  nb::class_<Axis>(m, "Axis", "one axis of a result: coordinate of index k = origin + k * step, in units")
      .def_ro("name", &Axis::name)
      .def_ro("origin", &Axis::origin)
      .def_ro("step", &Axis::step)
      .def_ro("units", &Axis::units)
      .def("__repr__", [](const Axis& a) {
        return "Axis(" + a.name + ", origin=" + std::to_string(a.origin) + ", step=" + std::to_string(a.step) +
               ", units='" + a.units + "')";
      });

  nb::class_<Result>(m, "Result", "a named result array with its axes, value units and provenance")
      .def_ro("name", &Result::name)
      .def_prop_ro("data", [](const Result& r) { return to_numpy(r.data); },
                   "the values as a numpy array sharing the library's buffer (no copy), C order")
      .def_ro("axes", &Result::axes)
      .def_ro("units", &Result::units, "units of the values")
      .def_prop_ro("provenance", [](const Result& r) { return to_python(r.provenance); },
                   "what produced it: analysis, parameters, input, scandiff version");

  m.def("_set_log_sink", &install_log_sink, nb::arg("logger").none(),
        "forward library messages to a logging.Logger (None silences them)");
}

}  // namespace scandiff::python
