// open_emd: a Source over a 4D (ry, rx, qy, qx) array of an EMD 1.0 file, read by hyperslabs.
#include <fmt/format.h>

#include "emd_calibration.hpp"
#include "emd_file.hpp"
#include "emd_metadata.hpp"
#include "hdf5_frames.hpp"
#include "hdf5_util.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

using h5::Handle;

namespace {

// The node to open: `requested`, or the first DataCube, or the first 4D array.
std::string choose_node(hid_t file, const std::string& requested, const std::string& file_name) {
  if (!requested.empty()) return emd::normalize_path(requested);
  const auto nodes = emd::list_nodes(file);
  for (const auto& n : nodes)
    if (n.python_class == "DataCube" && n.shape.size() == 4) return n.path;
  for (const auto& n : nodes)
    if (n.shape.size() == 4) return n.path;
  std::string found;
  for (const auto& n : nodes)
    found += fmt::format("{}{} ({}, shape {})", found.empty() ? "" : ", ", n.path,
                         n.python_class.empty() ? n.emd_group_type : n.python_class, shape_string(n.shape));
  throw FormatError(fmt::format("{}: no 4D array (DataCube) in the file; it holds {}", file_name,
                                found.empty() ? "no data nodes" : found));
}

}  // namespace

std::unique_ptr<Source> open_emd(const std::filesystem::path& path, const std::string& node_path) {
  h5::Lock lock;
  const std::string file_name = path.string();
  Handle file = emd::open_for_reading(path);
  const std::string node_name = choose_node(file.get(), node_path, file_name);
  Handle node = emd::open_array_node(file.get(), node_name, file_name);
  Handle data = h5::open_dataset(node.get(), "data", file_name);
  const Shape shape = h5::dataset_shape(data.get());
  if (shape.size() != 4)
    throw FormatError(fmt::format("{}: {} is {}-dimensional {}, expected a 4D (ry, rx, qy, qx) array", file_name,
                                  node_name, shape.size(), shape_string(shape)));
  Handle type = h5::checked(H5Dget_type(data.get()), fmt::format("{}: cannot read {}/data", file_name, node_name));
  const h5::TypeInfo t = h5::describe_type(type.get());
  if (!t.dtype)
    throw FormatError(fmt::format("{}: dataset {}/data has element type {}, expected uint8, uint16, uint32, int32, "
                                  "float32 or float64",
                                  file_name, node_name, t.name));

  h5::check_filters_available(data.get(), fmt::format("{}: {}/data", file_name, node_name));

  DatasetInfo info;
  info.path = file_name;
  info.format = "emd";
  info.scan_y = shape[0];
  info.scan_x = shape[1];
  info.frame_y = shape[2];
  info.frame_x = shape[3];
  info.dtype = *t.dtype;
  info.validate();
  h5::check_data_fits_file(data.get(), shape, size_of(info.dtype), file_name, node_name + "/data");
  // Calibration and metadata dictionaries of the node's root.
  const std::string bundle_path = "/" + emd::root_of(node_name) + "/metadatabundle";
  if (h5::object_kind(file.get(), bundle_path) == h5::Kind::group) {
    Handle bundle = h5::open_group(file.get(), bundle_path, file_name);
    for (const std::string& name : h5::child_names(bundle.get())) {
      if (h5::object_kind(bundle.get(), name) != h5::Kind::group) continue;
      Handle group = h5::open_group(bundle.get(), name, file_name);
      if (name == "calibration")
        info.calibration = emd::read_calibration(group.get());
      else
        info.metadata[name] = emd::read_items(group.get(), file_name);
    }
  }
  const std::int64_t block = h5::chunk_frames(data.get(), shape);
  std::vector<h5::FrameSegment> segments;
  segments.push_back({node_name + "/data", std::move(data), shape});
  return std::make_unique<h5::FrameSource>(std::move(info), std::move(file), std::move(segments), block);
}

}  // namespace scandiff::io
