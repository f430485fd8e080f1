// Bindings of the Bragg-disk side of scandiff/stem: probe templates and correlation kernels,
// disk detection (one frame, or every frame of a scan as an engine analysis), Bragg vectors
// (ragged per-position peak lists, their calibration, maps and EMD form), lattice fit and strain.
#include <filesystem>
#include <optional>
#include <tuple>

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/stem/bragg_disks.hpp"
#include "scandiff/stem/bragg_vectors.hpp"
#include "scandiff/stem/calibrated_origin.hpp"
#include "scandiff/stem/disk_detection.hpp"
#include "scandiff/stem/lattice.hpp"
#include "scandiff/stem/probe.hpp"
#include "scandiff/stem/probe_kernel.hpp"
#include "scandiff/stem/strain.hpp"

namespace scandiff::python {

namespace {

stem::ProbeMaskOptions mask_options(double threshold, int opening, double expansion) {
  stem::ProbeMaskOptions o;
  o.threshold = threshold;
  o.opening = opening;
  o.expansion = expansion;
  return o;
}

// One position's peaks as an (n, 3) float64 array of (qx, qy, intensity).
nb::object peaks_array(const std::vector<stem::BraggPeak>& peaks) {
  Array a(DType::f64, {static_cast<std::int64_t>(peaks.size()), 3});
  double* d = a.data<double>();
  for (const auto& p : peaks) {
    *d++ = p.qx;
    *d++ = p.qy;
    *d++ = p.intensity;
  }
  return to_numpy(a);
}

// All peaks as flat (qx, qy, intensity) arrays in position order and the (ry, rx) counts.
nb::dict flat_arrays(const stem::BraggVectors& v) {
  const std::int64_t n = v.total_peaks();
  Array qx(DType::f64, {n}), qy(DType::f64, {n}), in(DType::f64, {n});
  Array counts(DType::i32, {v.scan_y(), v.scan_x()});
  std::int64_t k = 0;
  for (std::int64_t p = 0; p < v.positions(); ++p) {
    const auto& list = v.at(p);
    counts.data<std::int32_t>()[p] = static_cast<std::int32_t>(list.size());
    for (const auto& b : list) {
      qx.data<double>()[k] = b.qx;
      qy.data<double>()[k] = b.qy;
      in.data<double>()[k] = b.intensity;
      ++k;
    }
  }
  nb::dict d;
  d["qx"] = to_numpy(qx);
  d["qy"] = to_numpy(qy);
  d["intensity"] = to_numpy(in);
  d["counts"] = to_numpy(counts);
  return d;
}

stem::BraggVectors from_flat(std::int64_t scan_y, std::int64_t scan_x, std::int64_t frame_y, std::int64_t frame_x,
                             nb::handle counts, nb::handle qx, nb::handle qy, nb::handle intensity) {
  const Array c = copy_array(counts).astype(DType::f64), x = copy_array(qx).astype(DType::f64),
              y = copy_array(qy).astype(DType::f64), w = copy_array(intensity).astype(DType::f64);
  stem::BraggVectors v(scan_y, scan_x, frame_y, frame_x);
  if (c.size() != v.positions()) throw InvalidArgument("counts: expected one value per scan position");
  if (x.size() != y.size() || x.size() != w.size()) throw InvalidArgument("qx, qy, intensity: expected equal lengths");
  std::int64_t k = 0;
  for (std::int64_t p = 0; p < v.positions(); ++p) {
    const double n = c.data<double>()[p];
    if (!(n >= 0) || k + static_cast<std::int64_t>(n) > x.size())
      throw InvalidArgument("counts: negative, or more peaks than qx holds");
    std::vector<stem::BraggPeak> list;
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(n); ++i, ++k)
      list.push_back({x.data<double>()[k], y.data<double>()[k], w.data<double>()[k]});
    v.set(p, std::move(list));
  }
  if (k != x.size()) throw InvalidArgument("counts: they sum to fewer peaks than qx holds");
  return v;
}

stem::Lattice lattice_of(const std::tuple<double, double>& g1, const std::tuple<double, double>& g2) {
  return stem::Lattice{0, 0, std::get<0>(g1), std::get<1>(g1), std::get<0>(g2), std::get<1>(g2)};
}

}  // namespace

void bind_bragg(nb::module_& m) {
  // -- probe and kernels --------------------------------------------------------------------
  m.def("synthetic_probe", [](double radius, double width, std::int64_t ny, std::int64_t nx) {
    return to_numpy(stem::synthetic_probe(radius, width, ny, nx));
  }, nb::arg("radius_px"), nb::arg("width_px"), nb::arg("ny"),
        nb::arg("nx"), "py4DSTEM's synthetic probe 1/(1 + exp(4(r - R)/w)) about (ny/2, nx/2), float64 (qy, qx)");
  m.def("soft_probe_mask", [](nb::handle probe, double threshold, int opening, double expansion) {
    return to_numpy(stem::soft_probe_mask(copy_array(probe), mask_options(threshold, opening, expansion)));
  }, nb::arg("probe"), nb::arg("threshold") = 0.2, nb::arg("opening") = 3, nb::arg("expansion") = 12.0);
  m.def("vacuum_probe", [](Dataset& d, const std::vector<std::int64_t>& frames, bool align, bool mask,
                           double threshold, int opening, double expansion) {
    Array p;
    {
      nb::gil_scoped_release release;
      p = stem::vacuum_probe(*d.source, frames, align, mask, mask_options(threshold, opening, expansion));
    }
    return to_numpy(p);
  }, nb::arg("dataset"), nb::arg("frames"), nb::arg("align") = true, nb::arg("mask") = true,
        nb::arg("threshold") = 0.2, nb::arg("opening") = 3, nb::arg("expansion") = 12.0,
        "mean of the vacuum frames (linear indices ry * scan_x + rx), each aligned to the first, soft-masked");
  m.def("probe_kernel", [](nb::handle probe, const std::string& mode, double sigma, double inner, double outer,
                           std::optional<double> center_qy, std::optional<double> center_qx,
                           std::optional<bool> bilinear) {
    stem::KernelOptions o;
    o.mode = stem::parse_kernel_mode(mode);
    o.sigma = sigma;
    o.inner_px = inner;
    o.outer_px = outer;
    o.center_qy_px = center_qy;
    o.center_qx_px = center_qx;
    o.bilinear = bilinear;
    return to_numpy(stem::probe_kernel(copy_array(probe), o));
  }, nb::arg("probe"), nb::arg("mode") = "sigmoid", nb::arg("sigma") = 2.0, nb::arg("inner_px") = 0.0,
        nb::arg("outer_px") = 0.0, nb::arg("center_qy_px") = nb::none(), nb::arg("center_qx_px") = nb::none(),
        nb::arg("bilinear") = nb::none(),
        "the correlation kernel (py4DSTEM's Probe.get_kernel) centred on pixel (0, 0), float64 (qy, qx)");

  // -- detection ----------------------------------------------------------------------------
  using Opt = stem::DiskDetectionOptions;
  nb::class_<Opt>(m, "DiskDetectionOptions", "py4DSTEM's find_Bragg_disks parameters (pixels)")
      .def(nb::init<>())
      .def_rw("corr_power", &Opt::corr_power, "1 cross-, 0 phase-correlation")
      .def_rw("sigma_dp", &Opt::sigma_dp, "Gaussian on the pattern, px (0: none)")
      .def_rw("sigma_cc", &Opt::sigma_cc, "Gaussian on the correlation, px (0: none)")
      .def_prop_rw("subpixel", [](const Opt& o) { return std::string(stem::subpixel_name(o.subpixel)); },
                   [](Opt& o, const std::string& s) { o.subpixel = stem::parse_subpixel(s); },
                   "'pixel', 'poly' or 'multicorr'")
      .def_rw("upsample_factor", &Opt::upsample_factor)
      .def_rw("min_absolute_intensity", &Opt::min_absolute_intensity)
      .def_rw("min_relative_intensity", &Opt::min_relative_intensity)
      .def_rw("relative_to_peak", &Opt::relative_to_peak)
      .def_rw("min_peak_spacing", &Opt::min_peak_spacing, "px")
      .def_rw("edge_boundary", &Opt::edge_boundary, "px")
      .def_rw("max_num_peaks", &Opt::max_num_peaks)
      .def_rw("radial_background", &Opt::radial_background, "py4DSTEM's radial_bksb (needs the origin)")
      // the radial background's polar bins (py4DSTEM's PolarDatacube parameters, pixels)
      .def_prop_rw("radial_qmin_px", [](const Opt& o) { return o.radial_polar.qmin_px; },
                   [](Opt& o, double v) { o.radial_polar.qmin_px = v; })
      .def_prop_rw("radial_qmax_px", [](const Opt& o) { return o.radial_polar.qmax_px; },
                   [](Opt& o, std::optional<double> v) { o.radial_polar.qmax_px = v; }, "None: min(frame)/sqrt(2)")
      .def_prop_rw("radial_qstep_px", [](const Opt& o) { return o.radial_polar.qstep_px; },
                   [](Opt& o, double v) { o.radial_polar.qstep_px = v; })
      .def_prop_rw("radial_n_annular", [](const Opt& o) { return o.radial_polar.n_annular; },
                   [](Opt& o, std::int64_t v) { o.radial_polar.n_annular = v; })
      .def_prop_rw("radial_two_fold", [](const Opt& o) { return o.radial_polar.two_fold; },
                   [](Opt& o, bool v) { o.radial_polar.two_fold = v; })
      .def_prop_rw("radial_mask_threshold", [](const Opt& o) { return o.radial_polar.mask_threshold; },
                   [](Opt& o, double v) { o.radial_polar.mask_threshold = v; })
      .def_prop_rw("radial_angular_smoothing", [](const Opt& o) { return o.radial_polar.angular_smoothing; },
                   [](Opt& o, bool v) { o.radial_polar.angular_smoothing = v; }, "py4DSTEM's KDE along the angle");
  m.def("find_bragg_disks", [](nb::handle frame, nb::handle kernel, const Opt& o) {
    const Array f = copy_array(frame);
    const Array k = kernel.is_none() ? Array() : copy_array(kernel);
    std::vector<stem::BraggPeak> peaks;
    {
      nb::gil_scoped_release release;
      peaks = stem::find_bragg_disks(f, k, o);
    }
    return peaks_array(peaks);
  }, nb::arg("frame"), nb::arg("kernel").none(), nb::arg("options"),
        "peaks of one (qy, qx) pattern, strongest first: (n, 3) float64 of (qx, qy, intensity), detector pixels");

  nb::class_<stem::BraggVectors>(m, "BraggVectors",
                                 "per scan position (ry, rx), a list of peaks (qx = column, qy = row, intensity): "
                                 "raw in detector pixels, or calibrated (relative to the origin, in `units`)")
      .def("__init__", [](stem::BraggVectors* v, std::int64_t sy, std::int64_t sx, std::int64_t fy, std::int64_t fx,
                          nb::handle counts, nb::handle qx, nb::handle qy, nb::handle intensity) {
        new (v) stem::BraggVectors(from_flat(sy, sx, fy, fx, counts, qx, qy, intensity));
      }, nb::arg("scan_y"), nb::arg("scan_x"), nb::arg("frame_y"), nb::arg("frame_x"), nb::arg("counts"),
           nb::arg("qx"), nb::arg("qy"), nb::arg("intensity"),
           "raw vectors from flat arrays in position order and the (ry, rx) peak counts")
      .def_prop_ro("scan_shape", [](const stem::BraggVectors& v) { return nb::make_tuple(v.scan_y(), v.scan_x()); })
      .def_prop_ro("frame_shape", [](const stem::BraggVectors& v) { return nb::make_tuple(v.frame_y(), v.frame_x()); })
      .def_prop_ro("total_peaks", &stem::BraggVectors::total_peaks)
      .def_prop_ro("is_calibrated", &stem::BraggVectors::is_calibrated)
      .def_prop_ro("units", &stem::BraggVectors::units)
      .def("at", [](const stem::BraggVectors& v, std::int64_t ry, std::int64_t rx) {
        if (ry < 0 || ry >= v.scan_y() || rx < 0 || rx >= v.scan_x())
          throw nb::index_error("scan position outside the scan");
        return peaks_array(v.at(ry, rx));
      }, nb::arg("ry"), nb::arg("rx"), "(n, 3) float64 (qx, qy, intensity), strongest first")
      .def("arrays", &flat_arrays, "dict of flat qx, qy, intensity (position order) and counts (ry, rx) int32")
      .def("calibrated", [](const stem::BraggVectors& v, const Calibration& cal, bool origin, bool ellipse, bool pixel,
                            bool rotation) { return v.calibrated(cal, {origin, ellipse, pixel, rotation}); },
           nb::arg("calibration"), nb::arg("origin") = true, nb::arg("ellipse") = true, nb::arg("pixel") = true,
           nb::arg("rotation") = true, "origin, ellipse, pixel size, QR rotation, in py4DSTEM's order")
      .def("masked_q", [](const stem::BraggVectors& v, nb::handle mask) { return v.masked_q(copy_array(mask)); },
           nb::arg("mask_q"))
      .def("masked_r", [](const stem::BraggVectors& v, nb::handle mask) { return v.masked_r(copy_array(mask)); },
           nb::arg("mask_r"));
  m.def("bragg_vector_map", [](const stem::BraggVectors& v, int sampling) {
    return to_numpy(stem::bragg_vector_map(v, sampling));
  }, nb::arg("raw"), nb::arg("sampling") = 1, "(s*qy, s*qx) histogram of raw vectors, intensities split bilinearly");
  m.def("origin_from_vectors", [](const stem::BraggVectors& raw) {
    const stem::OriginMaps o = stem::origin_from_vectors(raw);
    return nb::make_tuple(to_numpy(o.qy), to_numpy(o.qx));
  }, nb::arg("raw"), "(origin_qy, origin_qx) float64 (ry, rx) from the brightest peak per position, pixels");
  m.def("vectors_virtual_image", [](const stem::BraggVectors& v, const std::vector<std::tuple<double, double>>& centers,
                                    double radius) {
    std::vector<stem::QPoint> c;
    for (auto [qx, qy] : centers) c.push_back({qx, qy});
    return to_numpy(stem::vectors_virtual_image(v, c, radius));
  }, nb::arg("vectors"), nb::arg("centers"), nb::arg("radius"), "centers as (qx, qy) in the vectors' units");
  m.def("read_bragg_vectors", [](const std::filesystem::path& p, const std::string& node) {
    return stem::BraggVectors::from_emd(io::read_emd_bragg_vectors(p, node));
  }, nb::arg("path"), nb::arg("node") = "", "a BraggVectors node of an EMD file (scandiff's or py4DSTEM's)");
  m.def("bragg_vectors_node", [](const std::filesystem::path& p) {
    if (!io::is_hdf5_file(p)) return std::string();
    for (const io::EmdNodeInfo& n : io::list_emd_nodes(p))
      if (n.python_class == "BraggVectors") return n.path;
    return std::string();
  }, nb::arg("path"), "the first BraggVectors node of an EMD file ('' when none, or not HDF5)");
  m.def("add_bragg_vectors", [](EmdFile& f, const std::string& root, const std::string& name,
                                const stem::BraggVectors& v) { f.get().add_bragg_vectors(root, name, v.to_emd()); },
        nb::arg("writer"), nb::arg("root"), nb::arg("name"), nb::arg("vectors"));

  nb::class_<stem::DiskDetection, engine::Analysis>(
      m, "DiskDetection", "Bragg disks of every pattern: raw BraggVectors, 'bragg_vector_map' (qy, qx), "
                          "'peak_count' (ry, rx)")
      .def("__init__", [](stem::DiskDetection* d, nb::handle kernel, const Opt& o) {
        new (d) stem::DiskDetection(kernel.is_none() ? Array() : copy_array(kernel).astype(DType::f64), o);
      }, nb::arg("kernel").none(), nb::arg("options"))
      .def_prop_ro("vectors", [](const stem::DiskDetection& d) { return stem::BraggVectors(d.vectors()); },
                   "the raw Bragg vectors after the run (a copy)");

  // -- lattice and strain --------------------------------------------------------------------
  nb::class_<stem::Lattice>(m, "Lattice", "g0 = (x0, y0), g1, g2 as (qx, qy) components in the vectors' units")
      .def(nb::init<>())
      .def_rw("x0", &stem::Lattice::x0)
      .def_rw("y0", &stem::Lattice::y0)
      .def_rw("g1x", &stem::Lattice::g1x)
      .def_rw("g1y", &stem::Lattice::g1y)
      .def_rw("g2x", &stem::Lattice::g2x)
      .def_rw("g2y", &stem::Lattice::g2y)
      .def("__repr__", [](const stem::Lattice& l) {
        return "Lattice(g1=(" + std::to_string(l.g1x) + ", " + std::to_string(l.g1y) + "), g2=(" +
               std::to_string(l.g2x) + ", " + std::to_string(l.g2y) + "))";
      });
  m.def("make_lattice", &lattice_of, nb::arg("g1"), nb::arg("g2"), "a Lattice from g1, g2 as (qx, qy)");
  m.def("find_lattice", [](const stem::BraggVectors& v, double step, double min_relative, int max_maxima,
                           double tolerance) {
    return stem::find_lattice(v, {step, min_relative, max_maxima, tolerance});
  }, nb::arg("calibrated"), nb::arg("step") = 0.5, nb::arg("min_relative") = 0.02, nb::arg("max_maxima") = 40,
        nb::arg("tolerance") = 0.15, "g0, g1, g2 from the maxima of the Bragg vector map of calibrated vectors");

  nb::class_<stem::LatticeMaps>(m, "LatticeMaps", "per-position lattice fit, float64 (ry, rx), NaN where not fitted")
      .def_prop_ro("x0", [](const stem::LatticeMaps& l) { return to_numpy(l.x0); })
      .def_prop_ro("y0", [](const stem::LatticeMaps& l) { return to_numpy(l.y0); })
      .def_prop_ro("g1x", [](const stem::LatticeMaps& l) { return to_numpy(l.g1x); })
      .def_prop_ro("g1y", [](const stem::LatticeMaps& l) { return to_numpy(l.g1y); })
      .def_prop_ro("g2x", [](const stem::LatticeMaps& l) { return to_numpy(l.g2x); })
      .def_prop_ro("g2y", [](const stem::LatticeMaps& l) { return to_numpy(l.g2y); })
      .def_prop_ro("error", [](const stem::LatticeMaps& l) { return to_numpy(l.error); })
      .def_prop_ro("valid", [](const stem::LatticeMaps& l) { return to_numpy(l.valid); })
      .def_prop_ro("indexed", [](const stem::LatticeMaps& l) { return to_numpy(l.indexed); })
      .def_ro("fitted", &stem::LatticeMaps::fitted);
  m.def("fit_lattice", [](const stem::BraggVectors& v, const stem::Lattice& guess, double max_peak_spacing,
                          int min_peaks) {
    nb::gil_scoped_release release;
    return stem::fit_lattice(v, guess, {max_peak_spacing, min_peaks});
  }, nb::arg("calibrated"), nb::arg("guess"), nb::arg("max_peak_spacing") = 0.0, nb::arg("min_peaks") = 5);
  m.def("reference_lattice", [](const stem::LatticeMaps& maps, nb::handle region) {
    return stem::reference_lattice(maps, region.is_none() ? Array() : copy_array(region));
  }, nb::arg("maps"), nb::arg("region") = nb::none(), "median g1, g2 over the fitted positions of `region` (ry, rx)");
  m.def("strain_maps", [](const stem::LatticeMaps& maps, const stem::Lattice& ref, double frame_rad) {
    const stem::StrainMaps s = stem::strain_maps(maps, ref, frame_rad);
    nb::dict d;
    d["exx"] = to_numpy(s.exx);
    d["eyy"] = to_numpy(s.eyy);
    d["exy"] = to_numpy(s.exy);
    d["rotation"] = to_numpy(s.rotation_rad);
    return d;
  }, nb::arg("maps"), nb::arg("reference"), nb::arg("frame_rad") = 0.0,
        "exx, eyy, exy (dimensionless) and rotation (rad) float64 (ry, rx)");
  m.def("cubic_g_inv_A", &stem::cubic_g_inv_A, nb::arg("a_A"), nb::arg("h"), nb::arg("k"), nb::arg("l"));
  m.def("reciprocal_pixel_size", &stem::reciprocal_pixel_size, nb::arg("lattice_px"), nb::arg("g1_inv_A"),
        nb::arg("g2_inv_A"));
  m.def("origin_calibrated", &stem::Origin::calibrated, nb::arg("calibration"),
        "whether the calibration holds a global origin or both per-position maps");
}

}  // namespace scandiff::python
