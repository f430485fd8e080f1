// Private HDF5 helpers shared by the EMD writer, reader and source: checked calls, object
// lookup, string/integer attributes, element types, datasets and frame hyperslabs.
// Every function expects the caller to hold h5::Lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hdf5_handle.hpp"
#include "scandiff/core/array.hpp"
#include "scandiff/core/dtype.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/hdf5_storage.hpp"

namespace scandiff::io::h5 {

// Throws E("<what>: <HDF5 message>") when `id` is negative, else takes ownership of it.
template <class E = FormatError>
Handle checked(hid_t id, std::string_view what) {
  if (id < 0) {
    const std::string detail = error_text();
    throw E(std::string(what) + (detail.empty() ? "" : ": " + detail));
  }
  return Handle(id);
}
// Throws E("<what>: <HDF5 message>") when `status` is negative.
template <class E = FormatError>
void check(herr_t status, std::string_view what) {
  if (status < 0) {
    const std::string detail = error_text();
    throw E(std::string(what) + (detail.empty() ? "" : ": " + detail));
  }
}

// ---- objects -------------------------------------------------------------------------------
enum class Kind { missing, group, dataset, other };
// What `path` (relative to `loc`, or absolute) names; `missing` for any absent component.
Kind object_kind(hid_t loc, const std::string& path);
// Names of the links in a group: creation order where the group tracks it, else name order.
std::vector<std::string> child_names(hid_t group);
// Absolute HDF5 path of an open object, for messages.
std::string object_name(hid_t obj);
// Opens a group / dataset that must exist (throw FormatError naming `file` otherwise).
Handle open_group(hid_t loc, const std::string& path, const std::string& file);
Handle open_dataset(hid_t loc, const std::string& path, const std::string& file);
// A new group that tracks and indexes link creation order (so readers list keys as written).
Handle create_group(hid_t loc, const std::string& name);

// ---- attributes ----------------------------------------------------------------------------
bool has_attr(hid_t obj, const std::string& name);
// Scalar variable-length UTF-8 string (what h5py writes for a Python str).
void write_string_attr(hid_t obj, const std::string& name, std::string_view value);
// Scalar fixed-length ASCII byte string (what h5py writes for numpy bytes).
void write_bytes_attr(hid_t obj, const std::string& name, std::string_view value);
// Scalar 64-bit signed integer.
void write_int_attr(hid_t obj, const std::string& name, std::int64_t value);
// Scalar float64.
void write_double_attr(hid_t obj, const std::string& name, double value);
// Scalar h5py bool (bool_type()).
void write_bool_attr(hid_t obj, const std::string& name, bool value);
// The first string of a string attribute (variable or fixed length, any padding);
// nullopt when absent or not a string.
std::optional<std::string> read_string_attr(hid_t obj, const std::string& name);
// An integer (or integral float) scalar attribute; nullopt when absent or not a number.
std::optional<std::int64_t> read_int_attr(hid_t obj, const std::string& name);
// A numeric scalar attribute as float64; nullopt when absent or not a number.
std::optional<double> read_double_attr(hid_t obj, const std::string& name);
// A bool scalar attribute (h5py's enum, or an integer: non-zero is true); nullopt otherwise.
std::optional<bool> read_bool_attr(hid_t obj, const std::string& name);
// A numeric scalar (or one-element) dataset at `path` as float64; nullopt when absent or not a number.
std::optional<double> read_number_dataset(hid_t loc, const std::string& path);

// ---- element types -------------------------------------------------------------------------
// The predefined native HDF5 type of a DType (do not close it).
hid_t native_type(DType t);
// What a stored datatype is: its DType when supported (u8 u16 u32 i32 f32 f64) and a
// numpy-like name for messages ("int64", "complex", "string", ...).
struct TypeInfo {
  std::optional<DType> dtype;
  std::string name;
};
TypeInfo describe_type(hid_t type);
// h5py's bool: an enum over int8 with members FALSE = 0, TRUE = 1.
Handle bool_type();
// Variable-length string type, UTF-8 or ASCII character set.
Handle vlen_string_type(bool utf8 = true);

// ---- datasets ------------------------------------------------------------------------------
Shape dataset_shape(hid_t dset);
// A contiguous (unchunked, uncompressed) dataset; an empty `shape` makes a scalar.
Handle create_dataset(hid_t loc, const std::string& name, hid_t type, const Shape& shape);
// A scalar variable-length UTF-8 string dataset.
void write_string_dataset(hid_t loc, const std::string& name, std::string_view value);
// All strings of a string dataset (C order); throws FormatError if it is not a string dataset.
std::vector<std::string> read_strings(hid_t dset, const std::string& file);

// ---- filters and storage (hdf5_storage.cpp) ------------------------------------------------
// Appends the Debian filter plugin folder(s) to HDF5's plugin search path (once per process).
void add_plugin_folders();
// Whether HDF5 can use filter `id` (loading its plugin if needed).
bool filter_available(H5Z_filter_t id);
// What to install for a missing filter ("Blosc: install the Debian package ...").
std::string filter_install_hint(H5Z_filter_t id);
// A dataset creation property list for a 4D (ry, rx, qy, qx) frame dataset stored as `storage`
// asks. Throws InvalidArgument (impossible chunking/level) or IoError (filter missing) naming `where`.
Handle frames_dataset_plist(const Shape& shape, DType dtype, const Hdf5Storage& storage, const std::string& where);
// Creates the 4D frame dataset `name` in `loc` with that property list (`where` names it in errors).
Handle create_frames_dataset(hid_t loc, const std::string& name, const Shape& shape, DType dtype,
                             const Hdf5Storage& storage, const std::string& where);

// Throws FormatError("<where> is compressed with HDF5 filter <id> (<name>), which ...") when a
// filter of the dataset's pipeline is not available in this HDF5 library (e.g. Blosc, 32001).
void check_filters_available(hid_t dset, const std::string& where);

// Refuses, before anything is allocated, a dataset of `shape` x `element_size` bytes that
// cannot be in the file: the size must not overflow or exceed 1 EiB, and uncompressed
// contiguous data must end inside the file. Throws FormatError naming `where`.
void check_data_fits_file(hid_t dset, const Shape& shape, std::size_t element_size, const std::string& file,
                          const std::string& where);

// Reads (`read` true, into `buffer`) or writes (from `buffer`) frames [first, first + count) of a
// 4D (ry, rx, qy, qx) or 3D (frame, qy, qx) dataset of `shape`, in `type`: `buffer` holds them in C
// order (count, qy, qx). One hyperslab per piece (a partial scan row, whole rows, a partial row),
// each with a memory space of the same shape, which is HDF5's fast path for chunked data (a
// differently shaped memory space makes it map chunks element by element). count > 0. Throws
// E(`what`: HDF5 message).
template <class E = FormatError>
void transfer_frames(hid_t dset, const Shape& shape, hid_t type, std::int64_t first, std::int64_t count,
                     std::byte* buffer, std::size_t frame_bytes, bool read, const std::string& what);

}  // namespace scandiff::io::h5
