// open_hspy: the frames of a HyperSpy .hspy / ePSIC HDF5 file as a Source (see io/hspy.hpp).
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "hdf5_frames.hpp"
#include "hdf5_probe.hpp"
#include "hdf5_util.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/hspy.hpp"

namespace scandiff::io {

using h5::Handle;

namespace {

struct HspyAxis {
  std::string name, units;
  double scale = 1, offset = 0;
  std::optional<bool> navigate;
  std::optional<std::int64_t> size;

  Metadata to_metadata() const {
    Metadata m = {{"name", name}, {"units", units}, {"scale", scale}, {"offset", offset}};
    m["navigate"] = navigate ? Metadata(*navigate) : Metadata(nullptr);
    m["size"] = size ? Metadata(*size) : Metadata(nullptr);
    return m;
  }
};

HspyAxis read_axis(hid_t experiment, int index) {
  HspyAxis a;
  const std::string name = fmt::format("axis-{}", index);
  if (h5::object_kind(experiment, name) != h5::Kind::group) return a;
  Handle g(H5Gopen2(experiment, name.c_str(), H5P_DEFAULT));
  if (!g) return a;
  a.name = h5::read_string_attr(g.get(), "name").value_or("");
  a.units = h5::read_string_attr(g.get(), "units").value_or("");
  a.scale = h5::read_double_attr(g.get(), "scale").value_or(1.0);
  a.offset = h5::read_double_attr(g.get(), "offset").value_or(0.0);
  a.navigate = h5::read_bool_attr(g.get(), "navigate");
  a.size = h5::read_int_attr(g.get(), "size");
  return a;
}

// HyperSpy's word for an uncalibrated axis, or a name for pixels.
bool undefined_units(const std::string& u) {
  return u.empty() || u == "<undefined>" || u == "_None_" || u == "px" || u == "pixels" || u == "pixel";
}

// Scan step and units in scandiff's vocabulary (pixels, nm, A, um); nullopt for other units.
std::optional<std::pair<double, std::string>> scan_calibration(const HspyAxis& a) {
  if (undefined_units(a.units)) return std::pair{a.scale, std::string("pixels")};
  if (a.units == "nm") return std::pair{a.scale, std::string("nm")};
  if (a.units == "A" || a.units == "\u00c5") return std::pair{a.scale, std::string("A")};
  if (a.units == "um" || a.units == "\u00b5m" || a.units == "\u03bcm") return std::pair{a.scale, std::string("um")};
  return std::nullopt;
}

// Detector step and units (pixels, A^-1, mrad); 1/nm is converted to A^-1, rad to mrad.
std::optional<std::pair<double, std::string>> detector_calibration(const HspyAxis& a) {
  const std::string& u = a.units;
  if (undefined_units(u)) return std::pair{a.scale, std::string("pixels")};
  if (u == "A^-1" || u == "1/A" || u == "\u00c5^-1" || u == "1/\u00c5" || u == "\u00c5\u207b\u00b9")
    return std::pair{a.scale, std::string("A^-1")};
  if (u == "1/nm" || u == "nm^-1" || u == "nm\u207b\u00b9") return std::pair{a.scale / 10, std::string("A^-1")};
  if (u == "mrad") return std::pair{a.scale, std::string("mrad")};
  if (u == "rad") return std::pair{a.scale * 1000, std::string("mrad")};
  return std::nullopt;
}

// The experiment group holding the frames: the one asked for, else the first with a 3D/4D `data`.
std::string choose_experiment(hid_t file, const std::string& requested, const std::string& file_name) {
  if (!requested.empty()) {
    std::string path = requested.starts_with('/') ? requested : "/Experiments/" + requested;
    if (path.ends_with("/data") && h5::object_kind(file, path) == h5::Kind::dataset) path.resize(path.size() - 5);
    if (h5::object_kind(file, path + "/data") != h5::Kind::dataset)
      throw FormatError(fmt::format("{}: no HyperSpy experiment '{}' (expected a group {} holding a 'data' dataset)",
                                    file_name, requested, path));
    return path;
  }
  if (h5::object_kind(file, "/Experiments") != h5::Kind::group)
    throw FormatError(fmt::format("{}: no /Experiments group: not a HyperSpy file", file_name));
  Handle experiments = h5::open_group(file, "/Experiments", file_name);
  std::string found;
  for (const std::string& name : h5::child_names(experiments.get())) {
    const std::string path = "/Experiments/" + name;
    if (h5::object_kind(file, path + "/data") != h5::Kind::dataset) continue;
    Handle data = h5::open_dataset(file, path + "/data", file_name);
    const Shape shape = h5::dataset_shape(data.get());
    if (shape.size() == 3 || shape.size() == 4) return path;
    found += fmt::format("{}{} {}", found.empty() ? "" : ", ", path, shape_string(shape));
  }
  throw FormatError(fmt::format("{}: no 3D or 4D signal under /Experiments (expected /Experiments/<name>/data of "
                                "shape (ry, rx, qy, qx) or (frames, qy, qx)); found {}",
                                file_name, found.empty() ? "no data" : found));
}

void walk_hspy_file(const std::filesystem::path& path, const HspyOpenOptions& options) {
  auto source = open_hspy(path, options);
  const auto& info = source->info();
  std::vector<std::byte> frame(info.frame_bytes());
  source->read(0, 1, frame.data());
  source->read(info.frame_count() - 1, 1, frame.data());
}

}  // namespace

bool is_hspy_file(const std::filesystem::path& path) {
  if (!is_hdf5_file(path)) return false;
  h5::Lock lock;
  bool result = false;
  try {
    h5::probe_in_child(path, [&] { is_hspy_file(path); }, "is-hyperspy");
  } catch (const FormatError&) {
    return false;  // unsafe to read: the EMD reader, tried last, reports it
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (file) {
    result = h5::read_string_attr(file.get(), "file_format") == "HyperSpy" ||
             h5::object_kind(file.get(), "/Experiments") == h5::Kind::group;
  }
  H5Eclear2(H5E_DEFAULT);
  return result;
}

std::unique_ptr<Source> open_hspy(const std::filesystem::path& path, const HspyOpenOptions& options) {
  const std::string file_name = path.string();
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw IoError(fmt::format("{}: cannot open for reading (missing or permission denied)", file_name));
  }
  if (!is_hdf5_file(path))
    throw FormatError(fmt::format("{} is not an HDF5 file (expected a HyperSpy .hspy/.hdf5 file)", file_name));
  h5::Lock lock;
  h5::probe_in_child(path, [&] { walk_hspy_file(path, options); }, "hyperspy");
  Handle file = h5::checked(H5Fopen(file_name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                            fmt::format("{}: cannot open the HDF5 file (truncated or corrupt?)", file_name));
  const std::string experiment_path = choose_experiment(file.get(), options.datapath, file_name);
  Handle experiment = h5::open_group(file.get(), experiment_path, file_name);
  const std::string data_path = experiment_path + "/data";
  Handle data = h5::open_dataset(file.get(), data_path, file_name);
  const Shape shape = h5::dataset_shape(data.get());
  if (shape.size() != 3 && shape.size() != 4)
    throw FormatError(fmt::format("{}: {} is {}-dimensional {}, expected a 4D (ry, rx, qy, qx) signal or a 3D "
                                  "(frames, qy, qx) stack",
                                  file_name, data_path, shape.size(), shape_string(shape)));
  Handle type = h5::checked(H5Dget_type(data.get()), fmt::format("{}: cannot read {}", file_name, data_path));
  const h5::TypeInfo t = h5::describe_type(type.get());
  if (!t.dtype)
    throw FormatError(fmt::format("{}: {} has element type {}, expected uint8, uint16, uint32, int32, float32 or "
                                  "float64",
                                  file_name, data_path, t.name));
  h5::check_filters_available(data.get(), fmt::format("{}: {}", file_name, data_path));

  const int rank = static_cast<int>(shape.size());
  std::vector<HspyAxis> axes;
  Metadata axes_md = Metadata::object();  // "axis-i" -> its attributes (objects, so EMD metadata can hold them)
  for (int i = 0; i < rank; ++i) {
    axes.push_back(read_axis(experiment.get(), i));
    axes_md[fmt::format("axis-{}", i)] = axes.back().to_metadata();
    if (axes.back().size && *axes.back().size != shape[static_cast<std::size_t>(i)])
      log_warning("{}: axis-{} says size {} but {} has {} there; the dataset's shape is used", file_name, i,
                  *axes.back().size, data_path, shape[static_cast<std::size_t>(i)]);
  }
  const int first_signal_axis = rank - 2;
  for (int i = 0; i < rank; ++i) {
    const auto& nav = axes[static_cast<std::size_t>(i)].navigate;
    if (nav && *nav != (i < first_signal_axis))
      throw FormatError(fmt::format("{}: axis-{} of {} has navigate = {}, expected navigation axes first and the "
                                    "two detector (signal) axes last",
                                    file_name, i, experiment_path, *nav));
  }

  DatasetInfo info;
  info.path = file_name;
  info.format = "hyperspy";
  info.dtype = *t.dtype;
  info.frame_y = shape[static_cast<std::size_t>(rank - 2)];
  info.frame_x = shape[static_cast<std::size_t>(rank - 1)];
  Metadata scan_md;
  if (rank == 4) {
    info.scan_y = shape[0];
    info.scan_x = shape[1];
    if (options.scan_shape && *options.scan_shape != std::pair{shape[0], shape[1]})
      throw InvalidArgument(fmt::format("{}: scan shape {} x {} asked, but {} is a 4D signal of scan {} x {}",
                                        file_name, options.scan_shape->first, options.scan_shape->second, data_path,
                                        shape[0], shape[1]));
  } else if (options.scan_shape) {
    const auto [sy, sx] = *options.scan_shape;
    if (sy <= 0 || sx <= 0 || sy * sx > shape[0])
      throw InvalidArgument(fmt::format("{}: scan shape {} x {} needs {} frames but {} holds {}", file_name, sy, sx,
                                        sy * sx, data_path, shape[0]));
    if (sy * sx < shape[0])
      log_warning("{}: scan shape {} x {} uses {} of the {} frames; the last {} are ignored", file_name, sy, sx,
                  sy * sx, shape[0], shape[0] - sy * sx);
    info.scan_y = sy;
    info.scan_x = sx;
    scan_md = {{"source", "user"}, {"reason", "--scan-shape"}};
  } else {
    info.scan_y = 1;
    info.scan_x = shape[0];
    scan_md = {{"source", "flat"}, {"reason", "a 3D stack of frames without a given scan shape: 1 x N"}};
  }
  info.validate();
  h5::check_data_fits_file(data.get(), shape, size_of(info.dtype), file_name, data_path);

  if (const auto scan = scan_calibration(axes[static_cast<std::size_t>(rank - 3)])) {
    info.calibration.scan_pixel_size = scan->first;
    info.calibration.scan_units = scan->second;
  } else {
    log_warning("{}: scan axis units '{}' are not nm, A or um; the scan is left in pixels",
                file_name, axes[static_cast<std::size_t>(rank - 3)].units);
  }
  if (const auto det = detector_calibration(axes.back())) {
    info.calibration.detector_pixel_size = det->first;
    info.calibration.detector_units = det->second;
  } else {
    log_warning("{}: detector axis units '{}' are not A^-1, 1/nm, mrad or rad; the detector is left in pixels",
                file_name, axes.back().units);
  }
  Metadata md = {{"experiment", experiment_path}, {"axes", axes_md}};
  if (h5::object_kind(experiment.get(), "metadata/General") == h5::Kind::group) {
    Handle general = h5::open_group(experiment.get(), "metadata/General", file_name);
    md["title"] = h5::read_string_attr(general.get(), "title").value_or("");
  }
  if (h5::object_kind(experiment.get(), "metadata/Signal") == h5::Kind::group) {
    Handle signal = h5::open_group(experiment.get(), "metadata/Signal", file_name);
    md["signal_type"] = h5::read_string_attr(signal.get(), "signal_type").value_or("");
    if (auto flip = h5::read_string_attr(signal.get(), "flip")) md["flip"] = *flip;  // ePSIC: frames flipped up-down
  }
  if (auto version = h5::read_string_attr(file.get(), "file_format_version")) md["file_format_version"] = *version;
  info.metadata["hyperspy"] = md;
  if (!scan_md.is_null()) info.metadata["scan_shape"] = scan_md;

  const std::int64_t block = h5::chunk_frames(data.get(), shape);
  std::vector<h5::FrameSegment> segments;
  segments.push_back({data_path, std::move(data), shape});
  experiment.reset();
  return std::make_unique<h5::FrameSource>(std::move(info), std::move(file), std::move(segments), block);
}

}  // namespace scandiff::io
