#include "emd_file.hpp"

#include <array>
#include <fstream>
#include <set>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "hdf5_probe.hpp"
#include "hdf5_util.hpp"

namespace scandiff::io {

bool is_hdf5_file(const std::filesystem::path& path) {
  static constexpr std::array<char, 8> signature{'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  // The superblock sits at 0 or after a user block of 512, 1024, 2048, ... bytes.
  for (std::uintmax_t offset = 0; offset + signature.size() <= size; offset = offset == 0 ? 512 : offset * 2) {
    std::array<char, 8> buffer{};
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(buffer.data(), buffer.size())) return false;
    if (buffer == signature) return true;
  }
  return false;
}

namespace emd {

namespace fs = std::filesystem;

namespace {

// Everything a reader may touch in an EMD file, through the public functions: run in the
// crash-isolated probe child (hdf5_probe.hpp) before the file is read in this process.
void walk_emd_file(const fs::path& path) {
  std::set<std::string> roots;
  bool has_4d = false;
  for (const EmdNodeInfo& node : list_emd_nodes(path)) {
    roots.insert(root_of(node.path));
    if (node.emd_group_type != "array" || !node.dtype_supported) continue;
    has_4d = has_4d || node.shape.size() == 4;
    std::size_t bytes = size_of(node.dtype);
    bool small = true;
    for (const std::int64_t n : node.shape)
      small = small && n >= 0 && !__builtin_mul_overflow(bytes, static_cast<std::size_t>(n), &bytes) &&
              bytes <= (std::size_t{64} << 20);
    read_array(path, node.path, small);
  }
  for (const std::string& root : roots) read_emd_calibration(path, root);
  if (has_4d) {
    auto source = open_emd(path);
    const auto& info = source->info();
    std::vector<std::byte> frame(info.frame_bytes());
    source->read(0, 1, frame.data());
    source->read(info.frame_count() - 1, 1, frame.data());
  }
}

}  // namespace

h5::Handle open_for_reading(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status))
    throw IoError(fmt::format("{}: no such file (expected an EMD 1.0 .h5/.emd file)", name));
  if (fs::is_directory(status))
    throw IoError(fmt::format("{}: is a folder, expected an EMD 1.0 .h5/.emd file", name));
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw IoError(fmt::format("{}: cannot open for reading (permission denied?)", name));
  }
  if (!is_hdf5_file(path))
    throw FormatError(fmt::format("{} is not an HDF5 file (expected an EMD 1.0 .h5/.emd file)", name));
  h5::probe_in_child(path, [&] { walk_emd_file(path); });
  h5::Handle file = h5::checked(H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                                fmt::format("{}: cannot open the HDF5 file (truncated or corrupt?)", name));
  const auto type = h5::read_string_attr(file.get(), "emd_group_type");
  const auto major = h5::read_int_attr(file.get(), "version_major");
  const auto minor = h5::read_int_attr(file.get(), "version_minor");
  if (type != "file" || major != 1 || minor != 0) {
    const std::string found =
        !type ? "no emd_group_type attribute"
              : fmt::format("emd_group_type '{}', version {}.{}", *type, major ? std::to_string(*major) : "?",
                            minor ? std::to_string(*minor) : "?");
    throw FormatError(fmt::format("{} is an HDF5 file but not EMD 1.0 (expected the root attributes "
                                  "emd_group_type = 'file', version_major = 1, version_minor = 0; found {})",
                                  name, found));
  }
  if (root_names(file.get()).empty())
    throw FormatError(fmt::format("{} is not a valid EMD 1.0 file: it has no root group (a top-level group with "
                                  "emd_group_type = 'root')",
                                  name));
  return file;
}

std::string normalize_path(const std::string& node_path) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= node_path.size()) {
    std::size_t next = node_path.find('/', pos);
    if (next == std::string::npos) next = node_path.size();
    if (next > pos) {
      out += '/';
      out.append(node_path, pos, next - pos);
    }
    pos = next + 1;
  }
  return out.empty() ? "/" : out;
}

std::string root_of(const std::string& normalized_path) {
  const std::size_t end = normalized_path.find('/', 1);
  return normalized_path.substr(1, end == std::string::npos ? std::string::npos : end - 1);
}

std::vector<std::string> root_names(hid_t file) {
  std::vector<std::string> roots;
  for (const std::string& name : h5::child_names(file)) {
    if (h5::object_kind(file, name) != h5::Kind::group) continue;
    h5::Handle g(H5Gopen2(file, name.c_str(), H5P_DEFAULT));
    if (g && h5::read_string_attr(g.get(), "emd_group_type") == "root") roots.push_back(name);
  }
  return roots;
}

namespace {

bool is_data_group_type(const std::string& t) {
  static constexpr std::array<const char*, 5> types{"node", "array", "pointlist", "pointlistarray", "custom"};
  for (const char* x : types)
    if (t == x) return true;
  return t.starts_with("custom_");
}

void collect(hid_t group, const std::string& path, std::vector<EmdNodeInfo>& out) {
  for (const std::string& name : h5::child_names(group)) {
    if (h5::object_kind(group, name) != h5::Kind::group) continue;
    h5::Handle child(H5Gopen2(group, name.c_str(), H5P_DEFAULT));
    if (!child) continue;
    const auto type = h5::read_string_attr(child.get(), "emd_group_type");
    if (!type || !is_data_group_type(*type)) continue;
    EmdNodeInfo info;
    info.path = path + "/" + name;
    info.emd_group_type = *type;
    info.python_class = h5::read_string_attr(child.get(), "python_class").value_or("");
    if ((*type == "array" || *type == "custom_array") && h5::object_kind(child.get(), "data") == h5::Kind::dataset) {
      h5::Handle data(H5Dopen2(child.get(), "data", H5P_DEFAULT));
      h5::Handle dtype(data ? H5Dget_type(data.get()) : H5I_INVALID_HID);
      if (data && dtype) {
        info.shape = h5::dataset_shape(data.get());
        const h5::TypeInfo t = h5::describe_type(dtype.get());
        info.type_name = t.name;
        info.dtype_supported = t.dtype.has_value();
        if (t.dtype) info.dtype = *t.dtype;
      }
    }
    out.push_back(info);
    collect(child.get(), info.path, out);
  }
}

}  // namespace

std::vector<EmdNodeInfo> list_nodes(hid_t file) {
  std::vector<EmdNodeInfo> out;
  for (const std::string& root : root_names(file)) {
    h5::Handle g(H5Gopen2(file, root.c_str(), H5P_DEFAULT));
    if (g) collect(g.get(), "/" + root, out);
  }
  return out;
}

h5::Handle open_array_node(hid_t file, const std::string& path, const std::string& file_name) {
  std::string group_path = path;
  h5::Kind kind = h5::object_kind(file, group_path);
  if (kind == h5::Kind::dataset && group_path.ends_with("/data")) {
    group_path.resize(group_path.size() - 5);
    kind = h5::object_kind(file, group_path);
  }
  if (kind == h5::Kind::missing)
    throw FormatError(fmt::format("{}: no node '{}' in the file", file_name, path));
  if (kind != h5::Kind::group || h5::object_kind(file, group_path + "/data") != h5::Kind::dataset)
    throw FormatError(
        fmt::format("{}: '{}' is not an EMD array node (expected a group holding a 'data' dataset)", file_name, path));
  return h5::open_group(file, group_path, file_name);
}

}  // namespace emd
}  // namespace scandiff::io
