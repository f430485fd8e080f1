// Private: opening an EMD 1.0 file for reading with clear errors, and finding its nodes.
// The caller holds h5::Lock.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "hdf5_handle.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io::emd {

// Opens `path` read-only after checking that it exists, is a regular file, is HDF5 and is
// EMD 1.0 (header attributes and at least one root group). Throws IoError (missing, a folder,
// unreadable) or FormatError (not HDF5, truncated/corrupt, not EMD 1.0), naming the file.
h5::Handle open_for_reading(const std::filesystem::path& path);

// "/a/b" from "a/b", "/a/b/" or "a//b"; "/" for "".
std::string normalize_path(const std::string& node_path);
// The first component of a normalized path ("/root/x" -> "root").
std::string root_of(const std::string& normalized_path);

// The top-level groups with emd_group_type 'root', in file order.
std::vector<std::string> root_names(hid_t file);
// Every data node below every root, depth first (see list_emd_nodes).
std::vector<EmdNodeInfo> list_nodes(hid_t file);

// Opens the array node at normalized `path` (a group holding a `data` dataset; a path to the
// `data` dataset itself is accepted too) and returns the group. Throws FormatError naming the
// file when the path is missing or not an array node.
h5::Handle open_array_node(hid_t file, const std::string& path, const std::string& file_name);

// read_emd_array, with `with_data` false: everything but the array's values (axes, units,
// provenance), so that the probe child can walk large arrays' metadata cheaply.
Result read_array(const std::filesystem::path& path, const std::string& node_path, bool with_data);

}  // namespace scandiff::io::emd
