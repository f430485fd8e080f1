// open_dectris: the frames of a Dectris NeXus master file and its data files (see io/dectris.hpp).
#include <cmath>
#include <fstream>
#include <tuple>

#include <fmt/format.h>

#include "hdf5_frames.hpp"
#include "hdf5_probe.hpp"
#include "hdf5_util.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/dectris.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

using h5::Handle;
namespace fs = std::filesystem;

namespace {

// "data_" and six digits: the links of a master file to its data files.
bool is_data_link_name(const std::string& n) {
  if (n.size() != 11 || !n.starts_with("data_")) return false;
  for (std::size_t i = 5; i < n.size(); ++i)
    if (n[i] < '0' || n[i] > '9') return false;
  return true;
}
constexpr const char* detector_group = "/entry/instrument/detector";

// The data_NNNNNN links of /entry/data, in name order (= acquisition order).
std::vector<std::string> data_links(hid_t file) {
  std::vector<std::string> names;
  if (h5::object_kind(file, "/entry/data") != h5::Kind::group) return names;
  Handle group(H5Gopen2(file, "/entry/data", H5P_DEFAULT));
  if (!group) return names;
  std::vector<std::string> all;
  hsize_t idx = 0;
  H5Literate(
      group.get(), H5_INDEX_NAME, H5_ITER_INC, &idx,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &all);
  H5Eclear2(H5E_DEFAULT);
  for (const std::string& n : all)
    if (is_data_link_name(n)) names.push_back(n);
  return names;
}

// The target file of an external link (for messages), or "" for other links.
std::string external_target(hid_t group, const std::string& name) {
  H5L_info_t info{};
  if (H5Lget_info(group, name.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_EXTERNAL) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  std::vector<char> buffer(info.u.val_size + 1, '\0');
  if (H5Lget_val(group, name.c_str(), buffer.data(), buffer.size(), H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  unsigned flags = 0;
  const char* file = nullptr;
  const char* object = nullptr;
  if (H5Lunpack_elink_val(buffer.data(), buffer.size(), &flags, &file, &object) < 0 || file == nullptr) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  return file;
}

std::optional<std::string> read_string_dataset(hid_t file, const std::string& path, const std::string& file_name) {
  if (h5::object_kind(file, path) != h5::Kind::dataset) return std::nullopt;
  Handle d(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
  if (!d) return std::nullopt;
  try {
    const auto values = h5::read_strings(d.get(), file_name);
    if (values.size() == 1) return values[0];
  } catch (const FormatError&) {
  }
  return std::nullopt;
}

// Detector facts worth keeping, from /entry/instrument/detector.
Metadata detector_metadata(hid_t file, const std::string& file_name) {
  Metadata md = Metadata::object();
  const std::string d = detector_group;
  for (const char* key : {"description", "sensor_material", "detector_number", "detectorSpecific/compression",
                          "detectorSpecific/data_collection_date", "detectorSpecific/eiger_fw_version",
                          "detectorSpecific/software_version", "detectorSpecific/trigger_mode"})
    if (auto s = read_string_dataset(file, d + "/" + key, file_name)) md[key] = *s;
  // Numbers, with their unit in the key (as the files state them).
  const std::pair<const char*, const char*> numbers[] = {
      {"count_time", "count_time_s"},
      {"frame_time", "frame_time_s"},
      {"bit_depth_image", "bit_depth_image"},
      {"saturation_value", "saturation_value"},
      {"x_pixel_size", "x_pixel_size_m"},
      {"y_pixel_size", "y_pixel_size_m"},
      {"sensor_thickness", "sensor_thickness_m"},
      {"detector_distance", "detector_distance_m"},
      {"beam_center_x", "beam_center_x_px"},
      {"beam_center_y", "beam_center_y_px"},
      {"threshold_energy", "threshold_energy_eV"},
      {"detectorSpecific/photon_energy", "photon_energy_eV"},
      {"detectorSpecific/nimages", "nimages"},
      {"detectorSpecific/ntrigger", "ntrigger"},
      {"detectorSpecific/x_pixels_in_detector", "x_pixels_in_detector"},
      {"detectorSpecific/y_pixels_in_detector", "y_pixels_in_detector"},
      {"flatfield_correction_applied", "flatfield_correction_applied"},
      {"pixel_mask_applied", "pixel_mask_applied"},
      {"countrate_correction_applied", "countrate_correction_applied"},
  };
  for (const auto& [path, key] : numbers)
    if (auto v = h5::read_number_dataset(file, d + "/" + path)) md[key] = *v;
  return md;
}

// "<dir>/<name>.h5" for a master "<dir>/<name>_master.h5" (ARINA's scan metadata file).
fs::path scan_metadata_file(const fs::path& master) {
  std::string stem = master.stem().string();
  const std::string suffix = "_master";
  if (stem.size() > suffix.size() && stem.ends_with(suffix)) stem.resize(stem.size() - suffix.size());
  return master.parent_path() / (stem + master.extension().string());
}

// NumPixelsY/X (and a few scan facts) of the ARINA scan metadata file, when there is one.
std::optional<std::pair<std::int64_t, std::int64_t>> read_scan_metadata(const fs::path& path, Metadata& md) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || !is_hdf5_file(path)) return std::nullopt;
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file || h5::object_kind(file.get(), "STEM Metadata") != h5::Kind::group) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  Handle group(H5Gopen2(file.get(), "STEM Metadata", H5P_DEFAULT));
  if (!group) return std::nullopt;
  Metadata stem = Metadata::object();
  for (const char* key : {"NumPixelsX", "NumPixelsY", "Camera Length", "High Tension", "Magnification", "Pixel Size",
                          "Rotation", "ScanDwellTime", "ScanIncrement"})
    if (auto v = h5::read_double_attr(group.get(), key)) stem[key] = *v;
  md["stem_metadata"] = {{"file", path.string()}, {"values", stem}};
  const auto x = h5::read_int_attr(group.get(), "NumPixelsX");
  const auto y = h5::read_int_attr(group.get(), "NumPixelsY");
  if (!x || !y || *x <= 0 || *y <= 0) return std::nullopt;
  return std::pair{*y, *x};
}

void walk_dectris_file(const fs::path& path, const DectrisOptions& options) {
  auto source = open_dectris(path, options);
  const auto& info = source->info();
  std::vector<std::byte> frame(info.frame_bytes());
  source->read(0, 1, frame.data());
  source->read(info.frame_count() - 1, 1, frame.data());
}

}  // namespace

bool is_dectris_file(const fs::path& path) {
  if (!is_hdf5_file(path)) return false;
  h5::Lock lock;
  try {
    h5::probe_in_child(path, [&] { is_dectris_file(path); }, "is-dectris");
  } catch (const FormatError&) {
    return false;  // unsafe to read: the EMD reader, tried last, reports it
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  bool result = false;
  if (file)
    result = !data_links(file.get()).empty() || h5::object_kind(file.get(), "/entry/data/data") == h5::Kind::dataset;
  H5Eclear2(H5E_DEFAULT);
  return result;
}

std::unique_ptr<Source> open_dectris(const fs::path& path, const DectrisOptions& options) {
  const std::string file_name = path.string();
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw IoError(fmt::format("{}: cannot open for reading (missing or permission denied)", file_name));
  }
  if (!is_hdf5_file(path))
    throw FormatError(fmt::format("{} is not an HDF5 file (expected a Dectris NeXus master file)", file_name));
  h5::Lock lock;
  h5::probe_in_child(path, [&] { walk_dectris_file(path, options); }, "dectris");
  Handle file = h5::checked(H5Fopen(file_name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                            fmt::format("{}: cannot open the HDF5 file (truncated or corrupt?)", file_name));
  const std::vector<std::string> links = data_links(file.get());
  if (links.empty()) {
    if (h5::object_kind(file.get(), "/entry/data/data") == h5::Kind::dataset) {
      std::string stem = path.stem().string();
      const auto pos = stem.rfind("_data_");
      const std::string master =
          pos == std::string::npos ? "<name>_master.h5" : stem.substr(0, pos) + "_master" + path.extension().string();
      throw FormatError(fmt::format("{} is a Dectris data file; open its master file ({}) which lists every data file "
                                    "and the detector description",
                                    file_name, (path.parent_path() / master).string()));
    }
    throw FormatError(fmt::format("{}: no /entry/data/data_NNNNNN links: not a Dectris NeXus master file", file_name));
  }
  fs::path folder = path.parent_path();
  if (folder.empty()) folder = ".";
  // External links resolve relative to the master's folder, whatever the working folder is.
  Handle dapl = h5::checked(H5Pcreate(H5P_DATASET_ACCESS), file_name);
  h5::check(H5Pset_elink_prefix(dapl.get(), (folder.string() + "/").c_str()), file_name);
  Handle data_group = h5::open_group(file.get(), "/entry/data", file_name);

  std::vector<h5::FrameSegment> segments;
  std::optional<DType> dtype;
  std::int64_t frame_y = 0, frame_x = 0, frames = 0;
  Metadata files = Metadata::object();  // link name -> data file and frames
  for (const std::string& link : links) {
    const std::string target = external_target(data_group.get(), link);
    const std::string where = fmt::format("{}: /entry/data/{}{}", file_name, link,
                                          target.empty() ? "" : fmt::format(" (in {})", (folder / target).string()));
    if (!target.empty()) {
      std::error_code ec;
      if (!fs::exists(folder / target, ec))
        throw IoError(fmt::format("{}: the data file is missing", where));
    }
    Handle data(H5Dopen2(data_group.get(), link.c_str(), dapl.get()));
    if (!data) throw FormatError(fmt::format("{}: cannot open the frames: {}", where, h5::error_text()));
    const Shape shape = h5::dataset_shape(data.get());
    if (shape.size() != 3)
      throw FormatError(fmt::format("{} is {}-dimensional {}, expected a 3D (frames, qy, qx) stack", where,
                                    shape.size(), shape_string(shape)));
    Handle type = h5::checked(H5Dget_type(data.get()), where);
    const h5::TypeInfo t = h5::describe_type(type.get());
    if (!t.dtype)
      throw FormatError(fmt::format("{} has element type {}, expected uint8, uint16, uint32, int32, float32 or "
                                    "float64",
                                    where, t.name));
    if (!dtype) {
      dtype = t.dtype;
      frame_y = shape[1];
      frame_x = shape[2];
    } else if (*dtype != *t.dtype || frame_y != shape[1] || frame_x != shape[2]) {
      throw FormatError(fmt::format("{} holds {} frames of {} x {}, but the first data file holds {} frames of {} x {}",
                                    where, t.name, shape[1], shape[2], name_of(*dtype), frame_y, frame_x));
    }
    h5::check_filters_available(data.get(), where);
    const std::string data_file = target.empty() ? file_name : (folder / target).string();
    h5::check_data_fits_file(data.get(), shape, size_of(*t.dtype), data_file,
                             "/entry/data/" + link);
    files[link] = {{"file", target}, {"frames", shape[0]}};
    frames += shape[0];
    segments.push_back({fmt::format("/entry/data/{}", link), std::move(data), shape});
  }
  if (frames == 0) throw FormatError(fmt::format("{}: the data files hold no frames", file_name));

  DatasetInfo info;
  info.path = file_name;
  info.format = "dectris";
  info.dtype = *dtype;
  info.frame_y = frame_y;
  info.frame_x = frame_x;
  Metadata md = detector_metadata(file.get(), file_name);
  md["data_files"] = files;

  // Scan shape (see the header comment).
  Metadata scan_md;
  const fs::path stem_file = scan_metadata_file(path);
  std::int64_t stem_y = 0, stem_x = 0;  // 0: no scan metadata file
  if (stem_file != path) {
    if (const auto shape = read_scan_metadata(stem_file, md)) std::tie(stem_y, stem_x) = *shape;
  }
  const auto root = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(frames))));
  if (options.scan_shape) {
    const auto [sy, sx] = *options.scan_shape;
    if (sy <= 0 || sx <= 0 || sy * sx > frames)
      throw InvalidArgument(fmt::format("{}: scan shape {} x {} needs {} frames but the acquisition holds {}",
                                        file_name, sy, sx, sy * sx, frames));
    info.scan_y = sy;
    info.scan_x = sx;
    scan_md = {{"source", "user"}, {"reason", "--scan-shape"}};
  } else if (stem_y > 0 && stem_x > 0 && stem_y * stem_x <= frames) {
    info.scan_y = stem_y;
    info.scan_x = stem_x;
    scan_md = {{"source", "scan metadata"},
               {"reason", fmt::format("NumPixelsY x NumPixelsX = {} x {} in {}", info.scan_y, info.scan_x,
                                      stem_file.filename().string())}};
  } else if (root * root == frames) {
    info.scan_y = info.scan_x = root;
    scan_md = {{"source", "square"}, {"reason", fmt::format("{} frames = {}^2", frames, root)}};
  } else {
    info.scan_y = 1;
    info.scan_x = frames;
    scan_md = {{"source", "flat"}, {"reason", fmt::format("{} frames, no scan metadata and not a square", frames)}};
    log_warning("{}: no scan shape known for {} frames (not a square, no scan metadata): 1 x {}; give --scan-shape",
                file_name, frames, frames);
  }
  if (info.frame_count() < frames)
    log_warning("{}: scan {} x {} uses {} of the {} frames; the last {} are ignored", file_name, info.scan_y,
                info.scan_x, info.frame_count(), frames, frames - info.frame_count());
  scan_md["frames"] = frames;
  info.metadata["scan_shape"] = scan_md;
  info.validate();

  const std::string description = md.value("description", std::string());
  info.calibration.radiation =
      description.find("ARINA") != std::string::npos ? Radiation::electron : Radiation::xray;
  if (const auto e = md.find("photon_energy_eV"); e != md.end() && e->get<double>() > 0)
    info.calibration.beam_energy_eV = e->get<double>();
  info.metadata["dectris"] = md;

  const std::int64_t block = h5::chunk_frames(segments.front().data.get(), segments.front().shape);
  data_group.reset();
  dapl.reset();
  return std::make_unique<h5::FrameSource>(std::move(info), std::move(file), std::move(segments), block);
}

}  // namespace scandiff::io
