// read_emd_bragg_vectors: py4DSTEM's BraggVectors node (emd-format.md §7) back into ragged lists.
#include <fmt/format.h>

#include "emd_file.hpp"
#include "emd_metadata.hpp"
#include "emd_pointlist.hpp"
#include "hdf5_util.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

using h5::Handle;

namespace {

// A two-value shape item of _braggvectors_shape, each extent 1..2^31.
std::pair<std::int64_t, std::int64_t> shape_item(hid_t group, const std::string& key, const std::string& where) {
  const Array a = emd::read_array_item(group, key);
  if (a.size() != 2) throw FormatError(fmt::format("{}: {} must hold two extents", where, key));
  const double y = a.data<double>()[0], x = a.data<double>()[1];
  if (!(y >= 1 && y <= 2147483648.0 && x >= 1 && x <= 2147483648.0) || y != static_cast<double>(static_cast<std::int64_t>(y)) ||
      x != static_cast<double>(static_cast<std::int64_t>(x)))
    throw FormatError(fmt::format("{}: {} ({}, {}) is not a valid shape", where, key, y, x));
  return {static_cast<std::int64_t>(y), static_cast<std::int64_t>(x)};
}

}  // namespace

EmdBraggVectors read_emd_bragg_vectors(const std::filesystem::path& path, const std::string& node_path) {
  std::string node = node_path;
  if (node.empty()) {
    for (const EmdNodeInfo& n : list_emd_nodes(path))
      if (n.python_class == "BraggVectors") {
        node = n.path;
        break;
      }
    if (node.empty()) throw FormatError(fmt::format("{}: the file holds no BraggVectors node", path.string()));
  }
  h5::Lock lock;
  const std::string file_name = path.string();
  Handle file = emd::open_for_reading(path);
  const std::string p = emd::normalize_path(node);
  const std::string where = fmt::format("{}: {}", file_name, p);
  if (h5::object_kind(file.get(), p) != h5::Kind::group)
    throw FormatError(fmt::format("{}: no Bragg vectors node '{}' in the file", file_name, p));
  Handle group = h5::open_group(file.get(), p, file_name);
  if (h5::read_string_attr(group.get(), "python_class").value_or("") != "BraggVectors")
    throw FormatError(fmt::format("{} is not a BraggVectors node", where));
  const std::string shape_path = "metadatabundle/_braggvectors_shape";
  if (h5::object_kind(group.get(), shape_path) != h5::Kind::group)
    throw FormatError(fmt::format("{} has no {} metadata", where, shape_path));
  Handle shape = h5::open_group(group.get(), shape_path, file_name);
  EmdBraggVectors v;
  std::tie(v.scan_y, v.scan_x) = shape_item(shape.get(), "Rshape", where);
  std::tie(v.frame_y, v.frame_x) = shape_item(shape.get(), "Qshape", where);
  if (h5::object_kind(group.get(), "_v_uncal") != h5::Kind::group)
    throw FormatError(fmt::format("{} has no raw vectors (_v_uncal)", where));
  Handle plist = h5::open_group(group.get(), "_v_uncal", file_name);
  emd::read_peak_lists(plist.get(), v, file_name);
  return v;
}

}  // namespace scandiff::io
