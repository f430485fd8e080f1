// Reading EMD 1.0 files: node listing, arrays, metadata dictionaries and calibration.
#include <fmt/format.h>

#include "emd_calibration.hpp"
#include "emd_file.hpp"
#include "emd_metadata.hpp"
#include "hdf5_util.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

using h5::Handle;

std::vector<EmdNodeInfo> list_emd_nodes(const std::filesystem::path& path) {
  h5::Lock lock;
  Handle file = emd::open_for_reading(path);
  return emd::list_nodes(file.get());
}

namespace {

// One Axis from dim<n>: origin = v0, step = v1 - v0 (a two-value or full-length vector).
Axis read_axis(hid_t node, std::size_t n) {
  Axis axis{fmt::format("dim{}", n), 0, 1, "pixels"};
  const std::string name = fmt::format("dim{}", n);
  if (h5::object_kind(node, name) != h5::Kind::dataset) return axis;
  Handle dset(H5Dopen2(node, name.c_str(), H5P_DEFAULT));
  if (!dset) return axis;
  axis.name = h5::read_string_attr(dset.get(), "name").value_or(axis.name);
  axis.units = h5::read_string_attr(dset.get(), "units").value_or(axis.units);
  const Array values = emd::read_array_item(node, name);
  if (values.rank() == 1 && values.size() >= 1) {
    const double* v = values.data<double>();
    axis.origin = v[0];
    if (values.size() >= 2) axis.step = v[1] - v[0];
  }
  return axis;
}

}  // namespace

Result read_emd_array(const std::filesystem::path& path, const std::string& node_path) {
  return emd::read_array(path, node_path, true);
}

Result emd::read_array(const std::filesystem::path& path, const std::string& node_path, bool with_data) {
  h5::Lock lock;
  const std::string file_name = path.string();
  Handle file = emd::open_for_reading(path);
  const std::string node_name = emd::normalize_path(node_path);
  Handle node = emd::open_array_node(file.get(), node_name, file_name);
  Handle dset = h5::open_dataset(node.get(), "data", file_name);
  Handle type = h5::checked(H5Dget_type(dset.get()), fmt::format("{}: cannot read {}/data", file_name, node_name));
  const h5::TypeInfo t = h5::describe_type(type.get());
  if (!t.dtype)
    throw FormatError(fmt::format("{}: dataset {}/data has element type {}, expected uint8, uint16, uint32, int32, "
                                  "float32 or float64",
                                  file_name, node_name, t.name));
  h5::check_filters_available(dset.get(), fmt::format("{}: {}/data", file_name, node_name));
  Result result;
  result.name = node_name.substr(node_name.rfind('/') + 1);
  const Shape shape = h5::dataset_shape(dset.get());
  h5::check_data_fits_file(dset.get(), shape, size_of(*t.dtype), file_name, node_name + "/data");
  if (with_data) result.data = Array(*t.dtype, shape);
  if (with_data && result.data.size() > 0)
    h5::check(H5Dread(dset.get(), h5::native_type(*t.dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, result.data.bytes()),
              fmt::format("{}: cannot read {}/data (truncated or corrupt file?)", file_name, node_name));
  result.units = h5::read_string_attr(dset.get(), "units").value_or("");
  // Stack arrays keep their labels in the last dim; axis 0 is then the stack index.
  const std::size_t rank = shape.size();
  bool stack = false;
  if (rank > 0 && h5::object_kind(node.get(), fmt::format("dim{}", rank - 1)) == h5::Kind::dataset) {
    Handle last(H5Dopen2(node.get(), fmt::format("dim{}", rank - 1).c_str(), H5P_DEFAULT));
    stack = last && h5::read_string_attr(last.get(), "name") == "_labels_";
  }
  if (stack) result.axes.push_back(Axis{"_labels_", 0, 1, ""});
  const std::size_t described = stack ? rank - 1 : rank;  // data axes that dim0.. describe
  for (std::size_t n = 0; n < described; ++n) result.axes.push_back(read_axis(node.get(), n));
  if (h5::object_kind(node.get(), "metadatabundle/provenance") == h5::Kind::group) {
    Handle prov = h5::open_group(node.get(), "metadatabundle/provenance", file_name);
    result.provenance = emd::read_items(prov.get(), file_name);
  }
  return result;
}

Metadata read_emd_metadata(const std::filesystem::path& path, const std::string& metadata_group_path) {
  h5::Lock lock;
  const std::string file_name = path.string();
  Handle file = emd::open_for_reading(path);
  const std::string group_path = emd::normalize_path(metadata_group_path);
  if (h5::object_kind(file.get(), group_path) != h5::Kind::group)
    throw FormatError(fmt::format("{}: no metadata group '{}' in the file", file_name, group_path));
  Handle group = h5::open_group(file.get(), group_path, file_name);
  return emd::read_items(group.get(), file_name);
}

Calibration read_emd_calibration(const std::filesystem::path& path, const std::string& root) {
  h5::Lock lock;
  const std::string file_name = path.string();
  Handle file = emd::open_for_reading(path);
  const std::string root_path = emd::normalize_path(root);
  if (h5::object_kind(file.get(), root_path) != h5::Kind::group)
    throw FormatError(fmt::format("{}: no EMD root '{}' in the file", file_name, root));
  const std::string cal_path = root_path + "/metadatabundle/calibration";
  if (h5::object_kind(file.get(), cal_path) != h5::Kind::group) return Calibration{};
  Handle group = h5::open_group(file.get(), cal_path, file_name);
  return emd::read_calibration(group.get());
}

}  // namespace scandiff::io
