// Bindings of scandiff/xray: pyFAI geometries (.poni), the azimuthal integrator (1D pattern and
// 2D cake of single images), the per-position profiles of a scan (an engine analysis), pattern
// text files (.xy/.dat) and geometry refinement on a calibrant image.
#include <filesystem>
#include <memory>
#include <optional>

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/xray/azimuthal_cakes.hpp"
#include "scandiff/xray/azimuthal_profiles.hpp"
#include "scandiff/xray/bin_filter.hpp"
#include "scandiff/xray/calibration.hpp"
#include "scandiff/xray/integrator.hpp"
#include "scandiff/xray/pattern_text.hpp"
#include "scandiff/xray/poni.hpp"

namespace scandiff::python {

namespace {

using Range = std::optional<std::pair<double, double>>;

// The integrator shared between Python and the scan analyses made from it.
struct Integrator {
  std::shared_ptr<const xray::AzimuthalIntegrator> impl;
};

nb::object vector_array(const std::vector<double>& v, Shape shape) {
  if (v.empty()) return nb::none();
  Array a(DType::f64, std::move(shape));
  std::copy(v.begin(), v.end(), a.data<double>());
  return to_numpy(a);
}

// The values of an IntegrationResult as (npt,) or (npt_azim, npt) float64 arrays.
nb::object values_of(const xray::IntegrationResult& r, const std::vector<double>& v) {
  const auto n_rad = static_cast<std::int64_t>(r.radial.size());
  if (r.azimuthal.empty()) return vector_array(v, {n_rad});
  return vector_array(v, {static_cast<std::int64_t>(r.azimuthal.size()), n_rad});
}

xray::FrameCorrections corrections_of(nb::handle dark, std::optional<float> dummy, float delta_dummy,
                                      std::optional<float> valid_min, std::optional<float> valid_max,
                                      const std::string& error_model, float empty) {
  xray::FrameCorrections c;
  if (!dark.is_none()) c.dark = copy_array(dark);
  c.dummy = dummy;
  c.delta_dummy = delta_dummy;
  c.valid_min = valid_min;
  c.valid_max = valid_max;
  c.error_model = xray::parse_error_model(error_model);
  c.empty = empty;
  return c;
}

using Percentile = std::optional<std::pair<double, double>>;  // (low, high) in percent
using SigmaClip = std::optional<std::pair<double, int>>;     // (threshold, max_iter)

// The per-bin filter: percentile=(lo, hi) the quantile filter, sigma_clip=(threshold, max_iter)
// sigma clipping, neither the mean.
xray::BinFilter filter_of(const Percentile& percentile, const SigmaClip& sigma_clip) {
  if (percentile && sigma_clip) throw InvalidArgument("percentile and sigma_clip: choose one filter");
  if (percentile) return xray::BinFilter::quantile(percentile->first, percentile->second);
  if (sigma_clip) return xray::BinFilter::sigma_clipping(sigma_clip->first, sigma_clip->second);
  return {};
}

}  // namespace

void bind_xray(nb::module_& m) {
  using xray::PoniGeometry;
  nb::class_<PoniGeometry>(m, "PoniGeometry",
                           "pyFAI's detector geometry (.poni): distance and PONI in metres (poni1 along rows = axis "
                           "1, poni2 along columns = axis 2), rotations in radians, wavelength and pixel sizes in "
                           "metres, orientation 1..4 (3 = native)")
      .def(nb::init<>())
      .def_rw("distance_m", &PoniGeometry::distance_m)
      .def_rw("poni1_m", &PoniGeometry::poni1_m)
      .def_rw("poni2_m", &PoniGeometry::poni2_m)
      .def_rw("rot1_rad", &PoniGeometry::rot1_rad)
      .def_rw("rot2_rad", &PoniGeometry::rot2_rad)
      .def_rw("rot3_rad", &PoniGeometry::rot3_rad)
      .def_rw("wavelength_m", &PoniGeometry::wavelength_m, "0 = unknown (q and d need it)")
      .def_rw("pixel1_m", &PoniGeometry::pixel1_m, "pixel size along rows")
      .def_rw("pixel2_m", &PoniGeometry::pixel2_m, "pixel size along columns")
      .def_rw("orientation", &PoniGeometry::orientation)
      .def_rw("detector", &PoniGeometry::detector)
      .def_ro("poni_version", &PoniGeometry::poni_version)
      .def("__repr__", [](const PoniGeometry& g) { return "PoniGeometry(\n" + xray::format_poni(g) + ")"; });
  m.def("read_poni", [](const std::filesystem::path& p) { return xray::read_poni(p); }, nb::arg("path"));
  m.def("parse_poni", [](const std::string& text) { return xray::parse_poni(text); }, nb::arg("text"));
  m.def("format_poni", &xray::format_poni, nb::arg("geometry"), ".poni v2.1 text (17 significant digits)");
  m.def("write_poni", &xray::write_poni, nb::arg("path"), nb::arg("geometry"));
  m.def("electron_geometry", &xray::electron_geometry, nb::arg("pixel_size_m"), nb::arg("camera_length_m"),
        nb::arg("wavelength_m"), nb::arg("center_row_px"), nb::arg("center_col_px"),
        "a flat detector perpendicular to the beam; the centre in pyFAI's pixel convention (index + 0.5)");
  m.def("electron_geometry_reciprocal", &xray::electron_geometry_reciprocal, nb::arg("inv_A_per_pixel"),
        nb::arg("wavelength_m"), nb::arg("center_row_px"), nb::arg("center_col_px"));

  nb::class_<xray::IntegrationResult>(m, "IntegrationResult",
                                      "radial bin centres (output unit), azimuthal bin centres (deg, 2D only); "
                                      "values (npt,) or (npt_azim, npt) float64")
      .def_prop_ro("radial", [](const xray::IntegrationResult& r) {
        return vector_array(r.radial, {static_cast<std::int64_t>(r.radial.size())});
      })
      .def_prop_ro("azimuthal", [](const xray::IntegrationResult& r) {
        return vector_array(r.azimuthal, {static_cast<std::int64_t>(r.azimuthal.size())});
      })
      .def_prop_ro("intensity", [](const xray::IntegrationResult& r) { return values_of(r, r.intensity); })
      .def_prop_ro("sigma", [](const xray::IntegrationResult& r) { return values_of(r, r.sigma); })
      .def_prop_ro("sum_signal", [](const xray::IntegrationResult& r) { return values_of(r, r.sum_signal); })
      .def_prop_ro("sum_normalization",
                   [](const xray::IntegrationResult& r) { return values_of(r, r.sum_normalization); })
      .def_prop_ro("count", [](const xray::IntegrationResult& r) { return values_of(r, r.count); })
      .def_prop_ro("std", [](const xray::IntegrationResult& r) { return values_of(r, r.std_dev); },
                   "sigma clipping only: the standard deviation of the kept pixels' values in each bin");

  nb::class_<Integrator>(m, "AzimuthalIntegrator",
                         "the sparse pixel -> bin matrix of one geometry, detector shape and setup (pyFAI's "
                         "integrate1d / integrate2d semantics, docs/azimuthal-integration.md)")
      .def("__init__", [](Integrator* self, const PoniGeometry& poni, std::int64_t rows, std::int64_t cols,
                          const std::string& unit, std::int64_t npt_rad, std::int64_t npt_azim,
                          const std::string& splitting, Range radial_range, Range azimuth_range, bool solid_angle,
                          std::optional<double> polarization_factor, double polarization_offset_rad,
                          double normalization_factor, nb::handle mask, nb::handle flat) {
        xray::IntegrationSetup s;
        s.unit = xray::parse_radial_unit(unit);
        s.npt_rad = npt_rad;
        s.npt_azim = npt_azim;
        s.splitting = xray::parse_splitting(splitting);
        s.radial_range = radial_range;
        s.azimuth_range = azimuth_range;
        s.solid_angle = solid_angle;
        s.polarization_factor = polarization_factor;
        s.polarization_offset_rad = polarization_offset_rad;
        s.normalization_factor = normalization_factor;
        if (!mask.is_none()) s.mask = copy_array(mask);
        if (!flat.is_none()) s.flat = copy_array(flat);
        const xray::DetectorGeometry geometry(poni, rows, cols);
        nb::gil_scoped_release release;
        new (self) Integrator{std::make_shared<const xray::AzimuthalIntegrator>(geometry, std::move(s))};
      }, nb::arg("geometry"), nb::arg("rows"), nb::arg("cols"), nb::arg("unit") = "q_nm^-1", nb::arg("npt_rad") = 1000,
           nb::arg("npt_azim") = 0, nb::arg("splitting") = "bbox", nb::arg("radial_range") = nb::none(),
           nb::arg("azimuth_range") = nb::none(), nb::arg("solid_angle") = true,
           nb::arg("polarization_factor") = nb::none(), nb::arg("polarization_offset_rad") = 0.0,
           nb::arg("normalization_factor") = 1.0, nb::arg("mask") = nb::none(), nb::arg("flat") = nb::none())
      .def_prop_ro("shape", [](const Integrator& i) { return nb::make_tuple(i.impl->rows(), i.impl->cols()); })
      .def_prop_ro("matrix_entries", [](const Integrator& i) { return i.impl->matrix().value.size(); })
      .def("integrate", [](const Integrator& i, nb::ndarray<nb::ro, nb::device::cpu> frame, nb::handle dark,
                           std::optional<float> dummy, float delta_dummy, std::optional<float> valid_min,
                           std::optional<float> valid_max, const std::string& error_model, float empty,
                           Percentile percentile, SigmaClip sigma_clip) {
        const Array image = borrow_array(frame);  // read in place, the caller's array stays alive
        const xray::FrameCorrections c =
            corrections_of(dark, dummy, delta_dummy, valid_min, valid_max, error_model, empty);
        const xray::BinFilter filter = filter_of(percentile, sigma_clip);
        nb::gil_scoped_release release;
        xray::IntegrationResult r;
        xray::integrate_filtered(*i.impl, image, c, filter, r);
        return r;
      }, nb::arg("frame"), nb::arg("dark") = nb::none(), nb::arg("dummy") = nb::none(), nb::arg("delta_dummy") = 0.0f,
           nb::arg("valid_min") = nb::none(), nb::arg("valid_max") = nb::none(), nb::arg("error_model") = "none",
           nb::arg("empty") = 0.0f, nb::arg("percentile") = nb::none(), nb::arg("sigma_clip") = nb::none(),
           "one (rows, cols) image; with percentile=(lo, hi) (percent) the azimuthal quantile filter instead of "
           "the mean (pyFAI's medfilt1d_ng); with sigma_clip=(threshold, max_iter) sigma clipping along the "
           "azimuth (pyFAI's sigma_clip_ng)");
  m.def("filter_metadata", [](Percentile percentile, SigmaClip sigma_clip) {
    return to_python(xray::filter_metadata(filter_of(percentile, sigma_clip)));
  }, nb::arg("percentile") = nb::none(), nb::arg("sigma_clip") = nb::none(),
        "the per-bin filter as EMD metadata: {'filter': text of the pattern header, its parameters}");

  nb::class_<xray::AzimuthalProfiles, engine::Analysis>(
      m, "AzimuthalProfiles",
      "a 1D azimuthal profile of every frame: 'azimuthal_profiles' float32 (ry, rx, npt), 'mean_profile' float64 "
      "(npt); with an error model 'sigma_profiles', with sigma clipping 'std_profiles' and 'count_profiles'")
      .def("__init__", [](xray::AzimuthalProfiles* p, const Integrator& i, nb::handle dark, std::optional<float> dummy,
                          float delta_dummy, std::optional<float> valid_min, std::optional<float> valid_max,
                          const std::string& error_model, Percentile percentile, SigmaClip sigma_clip) {
        new (p) xray::AzimuthalProfiles(
            i.impl, corrections_of(dark, dummy, delta_dummy, valid_min, valid_max, error_model, 0.0f),
            filter_of(percentile, sigma_clip));
      }, nb::arg("integrator"), nb::arg("dark") = nb::none(), nb::arg("dummy") = nb::none(),
           nb::arg("delta_dummy") = 0.0f, nb::arg("valid_min") = nb::none(), nb::arg("valid_max") = nb::none(),
           nb::arg("error_model") = "none", nb::arg("percentile") = nb::none(), nb::arg("sigma_clip") = nb::none());

  m.def("write_cakes_emd", [](Dataset& d, const Integrator& i, const std::filesystem::path& out, nb::handle dark,
                              std::optional<float> dummy, float delta_dummy, std::optional<float> valid_min,
                              std::optional<float> valid_max, const std::string& error_model, nb::handle metadata,
                              const std::string& unit, int threads, const std::string& memory, nb::object progress,
                              Percentile percentile, SigmaClip sigma_clip) {
    const xray::FrameCorrections c = corrections_of(dark, dummy, delta_dummy, valid_min, valid_max, error_model, 0.0f);
    const xray::BinFilter filter = filter_of(percentile, sigma_clip);
    const Metadata md = from_python(metadata);
    run_interruptible(PassOptions{threads, memory, 0, std::move(progress), {}}, [&](const engine::RunOptions& run) {
      xray::write_cakes_emd(*d.source, i.impl, c, out, md, unit, run, filter);
    });
  }, nb::arg("dataset"), nb::arg("integrator"), nb::arg("out"), nb::arg("dark") = nb::none(),
        nb::arg("dummy") = nb::none(), nb::arg("delta_dummy") = 0.0f, nb::arg("valid_min") = nb::none(),
        nb::arg("valid_max") = nb::none(), nb::arg("error_model") = "none", nb::arg("metadata") = nb::none(),
        nb::arg("unit") = "q_nm^-1", nb::arg("threads") = 0, nb::arg("memory") = "", nb::arg("progress") = nb::none(),
        nb::arg("percentile") = nb::none(), nb::arg("sigma_clip") = nb::none(),
        "integrate --scan --npt-azim: every frame's 2D cake into the EMD file `out` (datacube azimuthal_cakes "
        "(ry, rx, npt_azim, npt_rad) float32, mean_cake), streaming within the memory budget");

  m.def("write_pattern", [](const std::filesystem::path& path, const xray::IntegrationResult& r,
                            const PoniGeometry& poni, const std::string& unit, const std::string& splitting, bool mask,
                            bool dark, bool flat, std::optional<double> polarization_factor,
                            double normalization_factor, const std::string& error_model, const std::string& filter,
                            const std::string& source) {
    xray::PatternHeader h;
    h.poni = poni;
    h.unit = xray::parse_radial_unit(unit);
    h.splitting = splitting;
    h.mask = mask;
    h.dark = dark;
    h.flat = flat;
    h.polarization_factor = polarization_factor;
    h.normalization_factor = normalization_factor;
    h.error_model = error_model;
    h.filter = filter;
    h.source = source;
    xray::write_pattern(path, r, h);
  }, nb::arg("path"), nb::arg("result"), nb::arg("geometry"), nb::arg("unit"), nb::arg("splitting"), nb::arg("mask"),
        nb::arg("dark"), nb::arg("flat"), nb::arg("polarization_factor").none(), nb::arg("normalization_factor"),
        nb::arg("error_model"), nb::arg("filter"), nb::arg("source"),
        "the result as pyFAI-style text (1D .xy: radial, I[, sigma]; 2D .dat: one row per radial bin), atomically");

  m.def("calibrate_xray", [](nb::handle image, const PoniGeometry& start, const std::vector<double>& d_spacing_A,
                             bool refine_wavelength, int passes) {
    const Array img = copy_array(image);
    xray::RefineResult r;
    {
      nb::gil_scoped_release release;
      r = xray::calibrate(img, start, d_spacing_A, refine_wavelength, passes);
    }
    return nb::make_tuple(r.geometry, r.rms_residual_rad, r.iterations);
  }, nb::arg("image"), nb::arg("start"), nb::arg("d_spacing_A"), nb::arg("refine_wavelength") = false,
        nb::arg("passes") = 3,
        "refined geometry, rms 2theta residual (rad) and iterations: control points on the calibrant rings, "
        "Levenberg-Marquardt on distance, PONI, rot1, rot2 (and the wavelength)");
  m.def("ring_two_theta", &xray::ring_two_theta, nb::arg("d_spacing_A"), nb::arg("wavelength_m"),
        "2theta (rad) of each d-spacing (A); NaN where unreachable");
}

}  // namespace scandiff::python
