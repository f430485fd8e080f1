// Bindings of scandiff/sim: simulated scans as lazily rendered datasets, with ground truth.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/sim/scan_preset.hpp"
#include "scandiff/sim/simulated_source.hpp"

namespace scandiff::python {

namespace {

const sim::SimulatedSource& simulated_source(const Dataset& d) {
  const auto* s = dynamic_cast<const sim::SimulatedSource*>(d.source.get());
  if (!s) throw InvalidArgument("dataset '" + d.info().path + "' is not a simulated scan");
  return *s;
}

}  // namespace

void bind_sim(nb::module_& m) {
  using P = sim::ScanPreset;
  nb::class_<P>(m, "ScanPreset", "the parameters of `scandiff simulate` (same names, same defaults)")
      .def(nb::init<>())
      .def_rw("kind", &P::kind, "'crystal' (strained Bragg-disk lattice) or 'rings' (gold powder rings)")
      .def_rw("scan", &P::scan, "scan shape (Y, X)")
      .def_rw("frame", &P::frame, "detector shape (Y, X)")
      .def_rw("dtype", &P::dtype)
      .def_rw("noise", &P::noise, "'poisson' or 'none'")
      .def_rw("dose", &P::dose, "scale factor on all expected counts")
      .def_rw("seed", &P::seed)
      .def_rw("g1", &P::g1, "crystal: reciprocal lattice vector 1 as (qx, qy), pixels")
      .def_rw("g2", &P::g2, "crystal: reciprocal lattice vector 2 as (qx, qy), pixels")
      .def_rw("disk_radius", &P::disk_radius, "crystal: disk radius, pixels")
      .def_rw("exx", &P::exx)
      .def_rw("eyy", &P::eyy)
      .def_rw("exy", &P::exy)
      .def_rw("rotation_deg", &P::rotation_deg)
      .def_rw("descan_rx", &P::descan_rx, "crystal: origin drift per scan step along rx, (qx, qy) pixels")
      .def_rw("descan_ry", &P::descan_ry, "crystal: origin drift per scan step along ry, (qx, qy) pixels")
      .def_rw("amorphous", &P::amorphous, "crystal: peak counts of the amorphous ring")
      .def_rw("ellipse", &P::ellipse, "(ratio a/b, angle of the a-axis from +qx in degrees)")
      .def_rw("pixel_size", &P::pixel_size, "rings: 1/Angstrom per detector pixel");

  m.def("simulated", [](const P& preset) {
    return Dataset{std::make_shared<sim::SimulatedSource>(sim::make_generator(preset)), {}};
  }, nb::arg("preset"), "a simulated scan rendered frame by frame on demand (nothing is held in memory)");
  m.def("demo_scan", [](std::int64_t scan, std::int64_t frame) {
    return Dataset{std::make_shared<sim::SimulatedSource>(sim::demo_scan(scan, frame)), {}};
  }, nb::arg("scan"), nb::arg("frame"), "the scan of `scandiff demo` (lazy)");
  m.def("simulation_truth", [](const Dataset& d) { return simulated_source(d).generator().ground_truth(); },
        nb::arg("dataset"), "the exact maps the scan was made from (origin, strain, ...)");
  m.def("simulation_parameters", [](const Dataset& d) { return to_python(simulated_source(d).generator().parameters()); },
        nb::arg("dataset"));
}

}  // namespace scandiff::python
