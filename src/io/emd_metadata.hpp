// Private: emdfile's typed metadata items (one dataset or subgroup per key, with a `type`
// attribute) in HDF5, see reference/emd-format.md section 3. The caller holds h5::Lock.
#pragma once

#include <optional>
#include <string>

#include "hdf5_handle.hpp"
#include "scandiff/core/array.hpp"
#include "scandiff/core/metadata.hpp"

namespace scandiff::io::emd {

// The node's `metadatabundle` group (emd_group_type 'metadatabundle'), created when absent.
h5::Handle open_or_create_bundle(hid_t node);
// A new metadata dictionary group <bundle>/<name> (emd_group_type 'metadata', python_class).
h5::Handle create_metadata_group(hid_t bundle, const std::string& name, const std::string& python_class);

// Writes every key of the JSON object `md` into `group` as typed items (see EmdWriter::add_metadata).
// Throws InvalidArgument naming the key for values emdfile cannot represent.
void write_items(hid_t group, const Metadata& md);
// Writes one value as the typed item `key`.
void write_item(hid_t group, const std::string& key, const Metadata& value);
// Writes a numeric array (any rank, its own dtype) as an item of type 'array'.
void write_array_item(hid_t group, const std::string& key, const Array& array);

// Reads every item of a metadata (or 'dict') group back into a JSON object, in stored order.
// `file` names the file in error messages.
Metadata read_items(hid_t group, const std::string& file);

// Single items, for the calibration: nullopt (or an empty Array) when the key is absent or holds
// another kind of value. Numbers accept any integer or float scalar (or one-element) dataset.
std::optional<double> read_number_item(hid_t group, const std::string& key);
std::optional<bool> read_bool_item(hid_t group, const std::string& key);
std::optional<std::string> read_string_item(hid_t group, const std::string& key);
// A numeric dataset of rank >= 1 as a float64 Array.
Array read_array_item(hid_t group, const std::string& key);

}  // namespace scandiff::io::emd
