#include "emd_metadata.hpp"

#include <cstring>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "hdf5_util.hpp"

namespace scandiff::io::emd {

using h5::check;
using h5::checked;
using h5::Handle;

h5::Handle open_or_create_bundle(hid_t node) {
  if (h5::object_kind(node, "metadatabundle") == h5::Kind::group)
    return checked<IoError>(H5Gopen2(node, "metadatabundle", H5P_DEFAULT), "cannot open metadatabundle");
  Handle bundle = h5::create_group(node, "metadatabundle");
  h5::write_string_attr(bundle.get(), "emd_group_type", "metadatabundle");
  return bundle;
}

h5::Handle create_metadata_group(hid_t bundle, const std::string& name, const std::string& python_class) {
  Handle group = h5::create_group(bundle, name);
  h5::write_string_attr(group.get(), "emd_group_type", "metadata");
  h5::write_string_attr(group.get(), "python_class", python_class);
  return group;
}

// ---- writing -------------------------------------------------------------------------------

namespace {

// Shape and element kind of a rectangular nested JSON array of numbers or of bools.
struct NumericLayout {
  Shape shape;
  bool any_bool = false, any_number = false, any_float = false, any_big_unsigned = false;
};

bool scan_numeric(const Metadata& v, std::size_t depth, NumericLayout& layout) {
  if (depth < layout.shape.size()) {
    if (!v.is_array() || static_cast<std::int64_t>(v.size()) != layout.shape[depth]) return false;
    for (const auto& e : v)
      if (!scan_numeric(e, depth + 1, layout)) return false;
    return true;
  }
  if (v.is_boolean()) {
    layout.any_bool = true;
    return true;
  }
  if (!v.is_number()) return false;
  layout.any_number = true;
  if (v.is_number_float()) layout.any_float = true;
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
    layout.any_big_unsigned = true;
  return true;
}

// The layout of `v` if it is a rectangular nested array of numbers (or of bools).
std::optional<NumericLayout> numeric_layout(const Metadata& v) {
  NumericLayout layout;
  const Metadata* p = &v;
  while (p->is_array()) {
    layout.shape.push_back(static_cast<std::int64_t>(p->size()));
    if (p->empty()) break;
    p = &(*p)[0];
  }
  if (!scan_numeric(v, 0, layout) || (layout.any_bool && layout.any_number)) return std::nullopt;
  return layout;
}

// Flattens nested arrays in C order; T = std::int8_t stores bools as 0/1 (h5py's bool enum).
template <class T>
void flatten(const Metadata& v, std::vector<T>& out) {
  if (v.is_array()) {
    for (const auto& e : v) flatten(e, out);
  } else if constexpr (std::is_same_v<T, std::int8_t>) {
    out.push_back(v.get<bool>() ? 1 : 0);
  } else {
    out.push_back(v.get<T>());
  }
}

template <class T>
void write_numeric_dataset(hid_t group, const std::string& key, hid_t type, const Metadata& v, const Shape& shape) {
  std::vector<T> values;
  flatten(v, values);
  Handle dset = h5::create_dataset(group, key, type, shape);
  if (!values.empty())
    check<IoError>(H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                   fmt::format("cannot write metadata item '{}'", key));
}

void write_numeric(hid_t group, const std::string& key, const Metadata& v, const NumericLayout& layout) {
  if (layout.any_bool) {
    Handle type = h5::bool_type();
    write_numeric_dataset<std::int8_t>(group, key, type.get(), v, layout.shape);
  } else if (layout.any_float || !layout.any_number) {
    write_numeric_dataset<double>(group, key, H5T_NATIVE_DOUBLE, v, layout.shape);
  } else if (layout.any_big_unsigned) {
    write_numeric_dataset<std::uint64_t>(group, key, H5T_NATIVE_UINT64, v, layout.shape);
  } else {
    write_numeric_dataset<std::int64_t>(group, key, H5T_NATIVE_INT64, v, layout.shape);
  }
}

void set_type(hid_t obj, std::string_view type) { h5::write_bytes_attr(obj, "type", type); }

Handle open_dataset_of(hid_t group, const std::string& key) {
  return checked(H5Dopen2(group, key.c_str(), H5P_DEFAULT), fmt::format("cannot open metadata item '{}'", key));
}

void write_array(hid_t group, const std::string& key, const Metadata& v) {
  if (v.empty()) {  // emdfile: an empty list is a float64 dataset of shape (0,)
    write_numeric_dataset<double>(group, key, H5T_NATIVE_DOUBLE, v, {0});
    Handle d = open_dataset_of(group, key);
    set_type(d.get(), "list");
    return;
  }
  if (auto layout = numeric_layout(v)) {
    write_numeric(group, key, v, *layout);
    Handle d = open_dataset_of(group, key);
    set_type(d.get(), layout->shape.size() == 1 ? "list" : "array");
    return;
  }
  bool all_strings = true, all_numeric_arrays = true;
  for (const auto& e : v) {
    all_strings = all_strings && e.is_string();
    all_numeric_arrays = all_numeric_arrays && e.is_array() && numeric_layout(e).has_value();
  }
  if (!all_strings && !all_numeric_arrays)
    throw InvalidArgument(fmt::format(
        "metadata item '{}': an EMD metadata array must hold only numbers, only bools, only strings or only "
        "arrays of numbers",
        key));
  Handle sub = h5::create_group(group, key);
  set_type(sub.get(), all_strings ? "list_of_strings" : "list_of_arrays");
  h5::write_int_attr(sub.get(), "length", static_cast<std::int64_t>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (all_strings)
      h5::write_string_dataset(sub.get(), std::to_string(i), v[i].get<std::string>());
    else
      write_numeric(sub.get(), std::to_string(i), v[i], *numeric_layout(v[i]));
  }
}

}  // namespace

void write_item(hid_t group, const std::string& key, const Metadata& value) {
  if (key.empty() || key.find('/') != std::string::npos || key == ".")
    throw InvalidArgument(fmt::format("metadata key '{}' cannot be stored in EMD: keys must be non-empty and "
                                      "contain no '/'",
                                      key));
  if (h5::object_kind(group, key) != h5::Kind::missing)
    throw InvalidArgument(fmt::format("metadata key '{}' is already present", key));
  switch (value.type()) {
    case Metadata::value_t::object: {
      Handle sub = h5::create_group(group, key);
      set_type(sub.get(), "dict");
      write_items(sub.get(), value);
      return;
    }
    case Metadata::value_t::array: write_array(group, key, value); return;
    case Metadata::value_t::null: {
      h5::write_string_dataset(group, key, "_None");
      Handle d = open_dataset_of(group, key);
      set_type(d.get(), "None");
      return;
    }
    case Metadata::value_t::string: {
      h5::write_string_dataset(group, key, value.get_ref<const std::string&>());
      Handle d = open_dataset_of(group, key);
      set_type(d.get(), "string");
      return;
    }
    case Metadata::value_t::boolean: {
      Handle type = h5::bool_type();
      write_numeric_dataset<std::int8_t>(group, key, type.get(), value, {});
      Handle d = open_dataset_of(group, key);
      set_type(d.get(), "bool");
      return;
    }
    case Metadata::value_t::number_integer:
      write_numeric_dataset<std::int64_t>(group, key, H5T_NATIVE_INT64, value, {});
      break;
    case Metadata::value_t::number_unsigned:
      write_numeric_dataset<std::uint64_t>(group, key, H5T_NATIVE_UINT64, value, {});
      break;
    case Metadata::value_t::number_float:
      write_numeric_dataset<double>(group, key, H5T_NATIVE_DOUBLE, value, {});
      break;
    default:
      throw InvalidArgument(fmt::format("metadata item '{}': binary values cannot be stored in EMD", key));
  }
  Handle d = open_dataset_of(group, key);
  set_type(d.get(), "number");
}

void write_items(hid_t group, const Metadata& md) {
  if (!md.is_object())
    throw InvalidArgument(fmt::format("EMD metadata must be a JSON object (key -> value), got a {}", md.type_name()));
  for (const auto& [key, value] : md.items()) write_item(group, key, value);
}

void write_array_item(hid_t group, const std::string& key, const Array& array) {
  const Array data = array.is_contiguous() ? array : array.copy();
  const hid_t type = h5::native_type(data.dtype());
  Handle dset = h5::create_dataset(group, key, type, data.shape());
  if (data.size() > 0)
    check<IoError>(H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.bytes()),
                   fmt::format("cannot write metadata array '{}'", key));
  set_type(dset.get(), "array");
}

// ---- reading -------------------------------------------------------------------------------

namespace {

// Nests the flat C-order `values` into JSON arrays of `shape` (a scalar for rank 0).
template <class T>
Metadata nest(const std::vector<T>& values, const Shape& shape, std::size_t depth, std::size_t& pos) {
  if (depth == shape.size()) return Metadata(static_cast<T>(values[pos++]));
  Metadata out = Metadata::array();
  for (std::int64_t i = 0; i < shape[depth]; ++i) out.push_back(nest(values, shape, depth + 1, pos));
  return out;
}

template <class T>
Metadata read_nested(hid_t dset, hid_t memtype, const Shape& shape, const std::string& what) {
  std::vector<T> values(static_cast<std::size_t>(element_count(shape)));
  if (!values.empty()) {
    if constexpr (std::is_same_v<T, bool>) {
      std::vector<std::int8_t> raw(values.size());
      check(H5Dread(dset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), what);
      for (std::size_t i = 0; i < raw.size(); ++i) values[i] = raw[i] != 0;
    } else {
      check(H5Dread(dset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), what);
    }
  }
  std::size_t pos = 0;
  return nest(values, shape, 0, pos);
}

// True for an enum with exactly the members FALSE and TRUE (h5py's bool).
bool is_bool_enum(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    const bool ok = name && (std::strcmp(name, "FALSE") == 0 || std::strcmp(name, "TRUE") == 0);
    if (name) H5free_memory(name);
    if (!ok) return false;
  }
  return true;
}

// Any numeric, bool or string dataset as JSON: a scalar for rank 0, else nested arrays.
Metadata read_dataset_value(hid_t dset, const std::string& file) {
  const std::string what = fmt::format("{}: cannot read metadata item {}", file, h5::object_name(dset));
  Handle type = checked(H5Dget_type(dset), what);
  const Shape shape = h5::dataset_shape(dset);
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER:
      if (H5Tget_sign(type.get()) == H5T_SGN_NONE)
        return read_nested<std::uint64_t>(dset, H5T_NATIVE_UINT64, shape, what);
      return read_nested<std::int64_t>(dset, H5T_NATIVE_INT64, shape, what);
    case H5T_FLOAT: return read_nested<double>(dset, H5T_NATIVE_DOUBLE, shape, what);
    case H5T_ENUM:
      if (is_bool_enum(type.get())) {
        Handle mem = h5::bool_type();
        return read_nested<bool>(dset, mem.get(), shape, what);
      }
      break;
    case H5T_STRING: {
      const auto strings = h5::read_strings(dset, file);
      std::size_t pos = 0;
      return nest(strings, shape, 0, pos);
    }
    default: break;
  }
  throw FormatError(fmt::format("{}: metadata item {} has element type {}, expected numbers, bools or strings", file,
                                h5::object_name(dset), h5::describe_type(type.get()).name));
}

// Children "0".."length-1" of an emdfile tuple_of_* / list_of_* group.
Metadata read_sequence_group(hid_t group, const std::string& file, bool strings) {
  std::int64_t length = h5::read_int_attr(group, "length").value_or(-1);
  if (length < 0) length = static_cast<std::int64_t>(h5::child_names(group).size());
  Metadata out = Metadata::array();
  for (std::int64_t i = 0; i < length; ++i) {
    const std::string key = std::to_string(i);
    Handle d = h5::open_dataset(group, key, file);
    Metadata v = read_dataset_value(d.get(), file);
    if (strings && v.is_array() && v.size() == 1) v = v[0];
    out.push_back(std::move(v));
  }
  return out;
}

Metadata read_item(hid_t parent, const std::string& key, const std::string& file) {
  const h5::Kind kind = h5::object_kind(parent, key);
  if (kind == h5::Kind::group) {
    Handle g = h5::open_group(parent, key, file);
    const std::string type = h5::read_string_attr(g.get(), "type").value_or("dict");
    if (type == "dict") return read_items(g.get(), file);
    if (type == "tuple_of_strings" || type == "list_of_strings") return read_sequence_group(g.get(), file, true);
    if (type == "tuple_of_arrays" || type == "list_of_arrays" || type == "tuple_of_tuples")
      return read_sequence_group(g.get(), file, false);
    throw FormatError(fmt::format("{}: metadata group {} has unknown type '{}'", file, h5::object_name(g.get()), type));
  }
  if (kind != h5::Kind::dataset)
    throw FormatError(fmt::format("{}: metadata item '{}' is neither a dataset nor a group", file, key));
  Handle d = h5::open_dataset(parent, key, file);
  const std::string type = h5::read_string_attr(d.get(), "type").value_or("");
  if (type == "None") return nullptr;
  Metadata v = read_dataset_value(d.get(), file);
  if (type == "string") {
    if (v.is_array() && v.size() == 1) v = v[0];
    if (v == "_None") return nullptr;  // emdfile's marker for None
  }
  if (type == "number" || type == "bool") {
    if (v.is_array() && v.size() == 1) v = v[0];
  }
  if ((type == "list" || type == "tuple") && !v.is_array()) v = Metadata::array({v});
  return v;
}

}  // namespace

Metadata read_items(hid_t group, const std::string& file) {
  Metadata out = Metadata::object();
  for (const std::string& key : h5::child_names(group)) out[key] = read_item(group, key, file);
  return out;
}

namespace {
// The dataset `key` when present and of a numeric class, with its element count.
Handle open_numeric(hid_t group, const std::string& key, H5T_class_t& cls, hssize_t& npoints) {
  if (h5::object_kind(group, key) != h5::Kind::dataset) return Handle();
  Handle d(H5Dopen2(group, key.c_str(), H5P_DEFAULT));
  if (!d) return Handle();
  Handle type(H5Dget_type(d.get()));
  Handle space(H5Dget_space(d.get()));
  if (!type || !space) return Handle();
  cls = H5Tget_class(type.get());
  if (cls == H5T_ENUM && !is_bool_enum(type.get())) return Handle();
  if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM) return Handle();
  npoints = H5Sget_simple_extent_npoints(space.get());
  return d;
}
}  // namespace

std::optional<double> read_number_item(hid_t group, const std::string& key) {
  H5T_class_t cls{};
  hssize_t n = 0;
  Handle d = open_numeric(group, key, cls, n);
  if (!d || n != 1 || cls == H5T_ENUM) return std::nullopt;
  double v = 0;
  if (H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> read_bool_item(hid_t group, const std::string& key) {
  H5T_class_t cls{};
  hssize_t n = 0;
  Handle d = open_numeric(group, key, cls, n);
  if (!d || n != 1) return std::nullopt;
  if (cls == H5T_ENUM) {
    Handle mem = h5::bool_type();
    std::int8_t v = 0;
    if (H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) return std::nullopt;
    return v != 0;
  }
  double v = 0;
  if (H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) return std::nullopt;
  return v != 0;
}

std::optional<std::string> read_string_item(hid_t group, const std::string& key) {
  if (h5::object_kind(group, key) != h5::Kind::dataset) return std::nullopt;
  Handle d(H5Dopen2(group, key.c_str(), H5P_DEFAULT));
  if (!d) return std::nullopt;
  try {
    auto strings = h5::read_strings(d.get(), "");
    if (strings.size() != 1) return std::nullopt;
    return strings.front();
  } catch (const FormatError&) {
    return std::nullopt;
  }
}

Array read_array_item(hid_t group, const std::string& key) {
  H5T_class_t cls{};
  hssize_t n = 0;
  Handle d = open_numeric(group, key, cls, n);
  if (!d || cls == H5T_ENUM) return Array();
  const Shape shape = h5::dataset_shape(d.get());
  if (shape.empty()) return Array();
  char file_name[4096] = "";
  H5Fget_name(d.get(), file_name, sizeof file_name);
  h5::check_data_fits_file(d.get(), shape, sizeof(double), file_name, h5::object_name(d.get()));
  Array out(DType::f64, shape);
  if (n > 0 && H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.bytes()) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return Array();
  }
  return out;
}

}  // namespace scandiff::io::emd
