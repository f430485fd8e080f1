// Bindings of scandiff/sxdm: the per-frame SXDM maps (centroid maps, ROI maps), the hot-pixel
// filters (1-D profile filters, the 2-D selective median stage) and the frameset functions
// (rocking curve, alignment). Formulas and conventions: docs/sxdm.md, docs/sxdm-datasets.md.
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/sxdm/alignment.hpp"
#include "scandiff/sxdm/centroid_maps.hpp"
#include "scandiff/sxdm/frameset.hpp"
#include "scandiff/sxdm/hot_pixel_filter.hpp"
#include "scandiff/sxdm/profile_filter.hpp"
#include "scandiff/sxdm/rocking_curve.hpp"
#include "scandiff/sxdm/roi_maps.hpp"
#include "scandiff/xray/poni.hpp"

namespace scandiff::python {

namespace {

using Box = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;  // (x0, y0, x1, y1)

sxdm::DetectorBox box_of(const Box& b) {
  const auto [x0, y0, x1, y1] = b;
  return {x0, y0, x1, y1};
}

std::optional<sxdm::DetectorBox> box_of(const std::optional<Box>& b) {
  if (!b) return std::nullopt;
  return box_of(*b);
}

std::vector<double> profile_of(nb::handle profile) {
  const Array a = copy_array(profile).astype(DType::f64);
  if (a.rank() != 1) throw InvalidArgument("profile: expected a 1-D array");
  const auto* p = reinterpret_cast<const double*>(a.bytes());
  return {p, p + a.size()};
}

nb::object vector_to_numpy(const std::vector<double>& v) {
  Array out(DType::f64, {static_cast<std::int64_t>(v.size())});
  std::copy(v.begin(), v.end(), reinterpret_cast<double*>(out.bytes()));
  return to_numpy(out);
}

nb::dict rocking_dict(const sxdm::RockingCurve& c) {
  std::vector<double> theta, intensity;
  std::vector<std::int64_t> positions;
  std::vector<std::string> scans;
  for (const auto& p : c.points) {
    theta.push_back(p.theta);
    intensity.push_back(p.intensity);
    positions.push_back(p.positions);
    scans.push_back(p.scan);
  }
  nb::dict fit;
  fit["ok"] = c.fit.ok;
  fit["centre"] = c.fit.centre;
  fit["fwhm"] = c.fit.fwhm;
  fit["amplitude"] = c.fit.amplitude;
  fit["offset"] = c.fit.offset;
  fit["rms_residual"] = c.fit.rms_residual;
  fit["message"] = c.fit.message;
  nb::dict out;
  out["scan"] = scans;
  out["theta"] = vector_to_numpy(theta);
  out["intensity"] = vector_to_numpy(intensity);
  out["positions"] = positions;
  out["fit"] = fit;
  out["roi_map"] = to_numpy(c.roi_map);
  return out;
}

}  // namespace

void bind_sxdm(nb::module_& m) {
  nb::class_<sxdm::CentroidMaps, engine::Analysis>(
      m, "CentroidMaps",
      "SXDM centroid maps (sxdm's method, docs/sxdm.md): per position the 2theta centroid centroid_x (along detector "
      "columns) and chi centroid centroid_y (along rows) in detector pixels and roi_sum (counts), float64 (ry, rx); "
      "with a geometry also two_theta and chi (degrees)")
      .def("__init__", [](sxdm::CentroidMaps* self, std::optional<Box> roi, std::optional<double> pixel_threshold,
                          const std::string& filter, std::int64_t filter_distance, double filter_height,
                          bool filter_with_low, const std::string& segmentation, double stdev_min,
                          double profile_threshold, std::optional<xray::PoniGeometry> geometry) {
        sxdm::CentroidOptions o;
        o.roi = box_of(roi);
        o.pixel_threshold = pixel_threshold;
        o.filter.kind = sxdm::parse_profile_filter(filter, "filter");
        o.filter.distance = filter_distance;
        o.filter.height = filter_height;
        o.filter.with_low = filter_with_low;
        o.segmentation = sxdm::parse_segmentation(segmentation, "segmentation");
        o.stdev_min = stdev_min;
        o.profile_threshold = profile_threshold;
        o.geometry = std::move(geometry);
        new (self) sxdm::CentroidMaps(std::move(o));
      }, nb::arg("roi") = nb::none(), nb::arg("pixel_threshold") = nb::none(), nb::arg("filter") = "none",
           nb::arg("filter_distance") = 9, nb::arg("filter_height") = 100.0, nb::arg("filter_with_low") = true,
           nb::arg("segmentation") = "sxdm", nb::arg("stdev_min") = 35.0, nb::arg("profile_threshold") = 0.0,
           nb::arg("geometry") = nb::none());

  nb::class_<sxdm::RoiMaps, engine::Analysis>(
      m, "RoiMaps", "the summed intensity (counts, float64 (ry, rx)) inside each detector box, all boxes in one sweep")
      .def("__init__", [](sxdm::RoiMaps* self, const std::vector<Box>& boxes, std::optional<std::vector<std::string>> names) {
        if (names && names->size() != boxes.size())
          throw InvalidArgument("RoiMaps: give one name per box");
        std::vector<sxdm::RoiBox> named;
        for (std::size_t i = 0; i < boxes.size(); ++i)
          named.push_back({names ? (*names)[i] : "roi_" + std::to_string(i), box_of(boxes[i])});
        new (self) sxdm::RoiMaps(std::move(named));
      }, nb::arg("boxes"), nb::arg("names") = nb::none());

  nb::class_<sxdm::SelectiveMedianFrames, engine::FrameStage>(
      m, "SelectiveMedianFrames",
      "sxdm's selective median on every frame: a pixel more than height above (with_low: below) the median of its "
      "(2*half_window+1)^2 window becomes that median")
      .def("__init__", [](sxdm::SelectiveMedianFrames* self, std::int64_t half_window, double height, bool with_low) {
        new (self) sxdm::SelectiveMedianFrames({half_window, height, with_low});
      }, nb::arg("half_window") = 1, nb::arg("height") = 100.0, nb::arg("with_low") = false);

  m.def("selective_median_image", [](nb::handle image, std::int64_t half_window, double height, bool with_low) {
    const Array a = copy_array(image);
    if (a.rank() != 2) throw InvalidArgument("selective_median_image: expected one 2-D (qy, qx) image");
    Array out;
    {
      nb::gil_scoped_release release;
      out = sxdm::selective_median_image(a, {half_window, height, with_low});
    }
    return to_numpy(out);
  }, nb::arg("image"), nb::arg("half_window") = 1, nb::arg("height") = 100.0, nb::arg("with_low") = false,
        "SelectiveMedianFrames on one image: a new array of its dtype");

  m.def("selective_median_profile", [](nb::handle profile, std::int64_t half_window, double height, bool with_low) {
    std::vector<double> p = profile_of(profile);
    sxdm::selective_median_inplace(p, half_window, height, with_low);
    return vector_to_numpy(p);
  }, nb::arg("profile"), nb::arg("half_window") = 9, nb::arg("height") = 100.0, nb::arg("with_low") = false,
        "sxdm's selective median of a 1-D profile (walking in place, as sxdm), a new float64 array");
  m.def("median_filter_profile", [](nb::handle profile, std::int64_t kernel_size) {
    const std::vector<double> p = profile_of(profile);
    std::vector<double> out(p.size());
    sxdm::median_filter(p, kernel_size, out);
    return vector_to_numpy(out);
  }, nb::arg("profile"), nb::arg("kernel_size") = 3, "scipy.signal.medfilt of a 1-D profile (zero-padded ends)");

  m.def("sxdm_rocking_curve", [](const std::filesystem::path& manifest, std::optional<Box> box, std::optional<Box> fov,
                                 int threads, const std::string& memory, nb::object progress) {
    const sxdm::Frameset frameset = sxdm::read_frameset(manifest);
    sxdm::RockingCurve curve;
    run_interruptible(PassOptions{threads, memory, 0, std::move(progress), {}}, [&](const engine::RunOptions& run) {
      curve = sxdm::rocking_curve(frameset, box_of(box), box_of(fov), run);
    });
    return rocking_dict(curve);
  }, nb::arg("manifest"), nb::arg("box") = nb::none(), nb::arg("fov") = nb::none(), nb::arg("threads") = 0,
        nb::arg("memory") = "", nb::arg("progress") = nb::none(),
        "the rocking curve of a frameset (scandiff sxdm rocking): dict of scan, theta (sorted), intensity (NaN where a "
        "scan covers no FOV position), positions, fit {ok, centre, fwhm, amplitude, offset, rms_residual, message} "
        "and roi_map (rows, cols)");

  m.def("sxdm_align", [](const std::filesystem::path& manifest, const std::string& map, std::int64_t upsample,
                         bool cross_correlation, bool write, int threads, const std::string& memory,
                         nb::object progress) {
    const sxdm::Frameset frameset = sxdm::read_frameset(manifest);
    const sxdm::AlignmentMap how = sxdm::parse_alignment_map(map);
    std::vector<Array> maps;
    run_interruptible(PassOptions{threads, memory, 0, std::move(progress), {}},
                      [&](const engine::RunOptions& run) { maps = sxdm::frameset_maps(frameset, how, run); });
    std::vector<sxdm::PhaseCorrelation> details;
    const auto shifts = sxdm::estimate_shifts(frameset, maps, upsample, !cross_correlation, &details);
    if (write) sxdm::write_frameset_shifts(manifest, shifts);
    nb::list out;
    for (std::size_t i = 0; i < shifts.size(); ++i) {
      nb::dict row;
      row["scan"] = frameset.scans[i].name;
      row["theta"] = frameset.scans[i].theta;
      row["dy"] = shifts[i].dy;
      row["dx"] = shifts[i].dx;
      row["manual"] = shifts[i].manual;
      row["peak"] = details[i].peak;
      row["reference"] = i == frameset.reference;
      out.append(row);
    }
    return out;
  }, nb::arg("manifest"), nb::arg("map") = "sum", nb::arg("upsample") = 20, nb::arg("cross_correlation") = false,
        nb::arg("write") = false, nb::arg("threads") = 0, nb::arg("memory") = "", nb::arg("progress") = nb::none(),
        "per-scan shifts (scan steps) relative to the reference scan (scandiff sxdm align): a list of dicts scan, "
        "theta, dy, dx, manual, peak, reference; write=True stores them in the manifest (manual shifts kept)");
}

}  // namespace scandiff::python
