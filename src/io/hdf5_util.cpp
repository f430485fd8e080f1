#include "hdf5_util.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace scandiff::io::h5 {

// ---- objects -------------------------------------------------------------------------------

Kind object_kind(hid_t loc, const std::string& path) {
  // H5Lexists fails (rather than answering false) when an intermediate group is missing,
  // so check the path one component at a time.
  std::string prefix = path.starts_with('/') ? "/" : "";
  std::size_t pos = prefix.size();
  while (pos < path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (next > pos) {
      if (!prefix.empty() && prefix.back() != '/') prefix += '/';
      prefix += path.substr(pos, next - pos);
      if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return Kind::missing;
      }
    }
    pos = next + 1;
  }
  hid_t id = H5Oopen(loc, path.empty() ? "." : path.c_str(), H5P_DEFAULT);
  if (id < 0) {  // e.g. a dangling soft link
    H5Eclear2(H5E_DEFAULT);
    return Kind::missing;
  }
  Handle obj(id);
  switch (H5Iget_type(id)) {
    case H5I_GROUP: return Kind::group;
    case H5I_DATASET: return Kind::dataset;
    default: return Kind::other;
  }
}

namespace {
herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> child_names(hid_t group) {
  H5_index_t index = H5_INDEX_NAME;
  Handle root_group;  // a file id stands for its root group
  if (H5Iget_type(group) == H5I_FILE) {
    root_group = checked(H5Gopen2(group, "/", H5P_DEFAULT), "cannot open the root group");
    group = root_group.get();
  }
  Handle gcpl(H5Gget_create_plist(group));
  unsigned flags = 0;
  if (gcpl.valid() && H5Pget_link_creation_order(gcpl.get(), &flags) >= 0 &&
      (flags & H5P_CRT_ORDER_TRACKED) && (flags & H5P_CRT_ORDER_INDEXED))
    index = H5_INDEX_CRT_ORDER;
  std::vector<std::string> names;
  hsize_t idx = 0;
  check(H5Literate(group, index, H5_ITER_INC, &idx, collect_name, &names),
        fmt::format("cannot list the members of group {}", object_name(group)));
  return names;
}

std::string object_name(hid_t obj) {
  ssize_t n = H5Iget_name(obj, nullptr, 0);
  if (n <= 0) return "?";
  std::string name(static_cast<std::size_t>(n) + 1, '\0');
  H5Iget_name(obj, name.data(), name.size());
  name.resize(static_cast<std::size_t>(n));
  return name;
}

Handle open_group(hid_t loc, const std::string& path, const std::string& file) {
  if (object_kind(loc, path) != Kind::group)
    throw FormatError(fmt::format("{}: no group '{}' in the file", file, path));
  return checked(H5Gopen2(loc, path.c_str(), H5P_DEFAULT), fmt::format("{}: cannot open group '{}'", file, path));
}

Handle open_dataset(hid_t loc, const std::string& path, const std::string& file) {
  if (object_kind(loc, path) != Kind::dataset)
    throw FormatError(fmt::format("{}: no dataset '{}' in the file", file, path));
  return checked(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), fmt::format("{}: cannot open dataset '{}'", file, path));
}

Handle create_group(hid_t loc, const std::string& name) {
  Handle gcpl = checked<IoError>(H5Pcreate(H5P_GROUP_CREATE), "cannot create a group property list");
  check<IoError>(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                 "cannot set link creation order");
  return checked<IoError>(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                          fmt::format("cannot create group '{}' in {}", name, object_name(loc)));
}

// ---- attributes ----------------------------------------------------------------------------

bool has_attr(hid_t obj, const std::string& name) {
  htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

namespace {
void write_scalar_attr(hid_t obj, const std::string& name, hid_t type, const void* value) {
  const std::string what = fmt::format("cannot write attribute '{}' on {}", name, object_name(obj));
  if (has_attr(obj, name)) check<IoError>(H5Adelete(obj, name.c_str()), what);
  Handle space = checked<IoError>(H5Screate(H5S_SCALAR), what);
  Handle attr = checked<IoError>(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), what);
  check<IoError>(H5Awrite(attr.get(), type, value), what);
}
}  // namespace

void write_string_attr(hid_t obj, const std::string& name, std::string_view value) {
  Handle type = vlen_string_type(true);
  const std::string copy(value);
  const char* ptr = copy.c_str();
  write_scalar_attr(obj, name, type.get(), &ptr);
}

void write_bytes_attr(hid_t obj, const std::string& name, std::string_view value) {
  Handle type = checked<IoError>(H5Tcopy(H5T_C_S1), "cannot copy a string type");
  check<IoError>(H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1)), "cannot size a string type");
  check<IoError>(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "cannot pad a string type");
  std::string buffer(value);
  buffer.resize(std::max<std::size_t>(value.size(), 1), '\0');
  write_scalar_attr(obj, name, type.get(), buffer.data());
}

void write_int_attr(hid_t obj, const std::string& name, std::int64_t value) {
  write_scalar_attr(obj, name, H5T_NATIVE_INT64, &value);
}

void write_double_attr(hid_t obj, const std::string& name, double value) {
  write_scalar_attr(obj, name, H5T_NATIVE_DOUBLE, &value);
}

void write_bool_attr(hid_t obj, const std::string& name, bool value) {
  Handle type = bool_type();
  const std::int8_t v = value ? 1 : 0;
  write_scalar_attr(obj, name, type.get(), &v);
}

namespace {
// Reads every string of an attribute (is_attr) or dataset of string type `type`.
std::optional<std::vector<std::string>> read_string_values(hid_t obj, bool is_attr) {
  Handle type(is_attr ? H5Aget_type(obj) : H5Dget_type(obj));
  Handle space(is_attr ? H5Aget_space(obj) : H5Dget_space(obj));
  if (!type || !space || H5Tget_class(type.get()) != H5T_STRING) return std::nullopt;
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  if (n == 0) return out;
  Handle mem(H5Tcopy(H5T_C_S1));
  H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
  herr_t status;
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    status = is_attr ? H5Aread(obj, mem.get(), ptrs.data())
                     : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data());
    for (char* p : ptrs) {
      if (status >= 0) out.emplace_back(p ? p : "");
      if (p) H5free_memory(p);
    }
  } else {
    const std::size_t size = H5Tget_size(type.get());
    if (size == 0) return std::nullopt;
    H5Tset_size(mem.get(), size);
    H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
    std::vector<char> buffer(size * static_cast<std::size_t>(n));
    status = is_attr ? H5Aread(obj, mem.get(), buffer.data())
                     : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data());
    const bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
    for (hssize_t i = 0; status >= 0 && i < n; ++i) {
      const char* s = buffer.data() + static_cast<std::size_t>(i) * size;
      std::string value(s, strnlen(s, size));
      if (space_padded) value.erase(value.find_last_not_of(' ') + 1);
      out.push_back(std::move(value));
    }
  }
  if (status < 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  return out;
}
}  // namespace

std::optional<std::string> read_string_attr(hid_t obj, const std::string& name) {
  if (!has_attr(obj, name)) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  auto values = read_string_values(attr.get(), true);
  if (!values || values->empty()) return std::nullopt;
  return values->front();
}

namespace {
// An attribute holding one value (scalar or one-element array), opened with its type and class.
struct SingleValueAttr {
  Handle attr, type;
  H5T_class_t cls;
};

std::optional<SingleValueAttr> open_single_value_attr(hid_t obj, const std::string& name) {
  if (!has_attr(obj, name)) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr) return std::nullopt;
  Handle type(H5Aget_type(attr.get()));
  Handle space(H5Aget_space(attr.get()));
  if (!type || !space || H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  const H5T_class_t cls = H5Tget_class(type.get());
  return SingleValueAttr{std::move(attr), std::move(type), cls};
}
}  // namespace

std::optional<std::int64_t> read_int_attr(hid_t obj, const std::string& name) {
  auto single = open_single_value_attr(obj, name);
  if (!single) return std::nullopt;
  const Handle& attr = single->attr;
  const H5T_class_t cls = single->cls;
  if (cls == H5T_INTEGER) {
    std::int64_t v = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) return std::nullopt;
    return v;
  }
  if (cls == H5T_FLOAT) {
    double v = 0;
    if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) < 0 || v != static_cast<double>(static_cast<std::int64_t>(v)))
      return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  return std::nullopt;
}

std::optional<double> read_double_attr(hid_t obj, const std::string& name) {
  auto single = open_single_value_attr(obj, name);
  if (!single) return std::nullopt;
  const Handle& attr = single->attr;
  const H5T_class_t cls = single->cls;
  double v = 0;
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  return v;
}

std::optional<bool> read_bool_attr(hid_t obj, const std::string& name) {
  auto single = open_single_value_attr(obj, name);
  if (!single) return std::nullopt;
  const Handle& attr = single->attr;
  const H5T_class_t cls = single->cls;
  std::int64_t v = 0;
  if (cls == H5T_ENUM) {  // h5py's bool: read the stored integer as is; zero in any byte order is all zero bytes
    const std::size_t size = H5Tget_size(single->type.get());
    unsigned char raw[8] = {};
    if (size == 0 || size > sizeof raw || H5Aread(attr.get(), single->type.get(), raw) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return std::nullopt;
    }
    for (std::size_t i = 0; i < size; ++i)
      if (raw[i] != 0) return true;
    return false;
  }
  if (cls == H5T_INTEGER && H5Aread(attr.get(), H5T_NATIVE_INT64, &v) >= 0) return v != 0;
  H5Eclear2(H5E_DEFAULT);
  return std::nullopt;
}

std::optional<double> read_number_dataset(hid_t loc, const std::string& path) {
  if (object_kind(loc, path) != Kind::dataset) return std::nullopt;
  Handle dset(H5Dopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!dset) return std::nullopt;
  Handle type(H5Dget_type(dset.get()));
  Handle space(H5Dget_space(dset.get()));
  if (!type || !space || H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  const H5T_class_t cls = H5Tget_class(type.get());
  double v = 0;
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) ||
      H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  return v;
}

// ---- element types -------------------------------------------------------------------------

hid_t native_type(DType t) {
  switch (t) {
    case DType::u8: return H5T_NATIVE_UINT8;
    case DType::u16: return H5T_NATIVE_UINT16;
    case DType::u32: return H5T_NATIVE_UINT32;
    case DType::i32: return H5T_NATIVE_INT32;
    case DType::f32: return H5T_NATIVE_FLOAT;
    case DType::f64: return H5T_NATIVE_DOUBLE;
  }
  throw InvalidArgument("unknown dtype");
}

TypeInfo describe_type(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      TypeInfo info{std::nullopt, fmt::format("{}int{}", is_signed ? "" : "u", 8 * size)};
      if (!is_signed && size == 1) info.dtype = DType::u8;
      if (!is_signed && size == 2) info.dtype = DType::u16;
      if (!is_signed && size == 4) info.dtype = DType::u32;
      if (is_signed && size == 4) info.dtype = DType::i32;
      return info;
    }
    case H5T_FLOAT: {
      TypeInfo info{std::nullopt, fmt::format("float{}", 8 * size)};
      if (size == 4) info.dtype = DType::f32;
      if (size == 8) info.dtype = DType::f64;
      return info;
    }
    case H5T_STRING: return {std::nullopt, "string"};
    case H5T_ENUM: return {std::nullopt, size == 1 ? "enum (bool?)" : "enum"};
    case H5T_COMPOUND: return {std::nullopt, "compound"};
    case H5T_VLEN: return {std::nullopt, "variable-length sequence"};
    case H5T_ARRAY: return {std::nullopt, "array type"};
    case H5T_OPAQUE: return {std::nullopt, "opaque"};
    case H5T_BITFIELD: return {std::nullopt, "bitfield"};
    case H5T_REFERENCE: return {std::nullopt, "reference"};
    default: return {std::nullopt, "unknown type"};
  }
}

Handle bool_type() {
  Handle type = checked<IoError>(H5Tenum_create(H5T_NATIVE_INT8), "cannot create the bool enum type");
  const std::int8_t f = 0, t = 1;
  check<IoError>(H5Tenum_insert(type.get(), "FALSE", &f), "cannot create the bool enum type");
  check<IoError>(H5Tenum_insert(type.get(), "TRUE", &t), "cannot create the bool enum type");
  return type;
}

Handle vlen_string_type(bool utf8) {
  Handle type = checked<IoError>(H5Tcopy(H5T_C_S1), "cannot copy a string type");
  check<IoError>(H5Tset_size(type.get(), H5T_VARIABLE), "cannot make a variable-length string type");
  check<IoError>(H5Tset_cset(type.get(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), "cannot set a string charset");
  return type;
}

// ---- datasets ------------------------------------------------------------------------------

Shape dataset_shape(hid_t dset) {
  Handle space(H5Dget_space(dset));
  const int rank = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) throw FormatError(fmt::format("cannot read the shape of dataset {}", object_name(dset)));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return Shape(dims.begin(), dims.end());
}

Handle create_dataset(hid_t loc, const std::string& name, hid_t type, const Shape& shape) {
  const std::string what = fmt::format("cannot create dataset '{}' in {}", name, object_name(loc));
  Handle space;
  if (shape.empty()) {
    space = checked<IoError>(H5Screate(H5S_SCALAR), what);
  } else {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    space = checked<IoError>(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), what);
  }
  Handle dcpl = checked<IoError>(H5Pcreate(H5P_DATASET_CREATE), what);
  check<IoError>(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), what);
  return checked<IoError>(H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                          what);
}

void write_string_dataset(hid_t loc, const std::string& name, std::string_view value) {
  Handle type = vlen_string_type(true);
  Handle dset = create_dataset(loc, name, type.get(), {});
  const std::string copy(value);
  const char* ptr = copy.c_str();
  check<IoError>(H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &ptr),
                 fmt::format("cannot write dataset {}", object_name(dset.get())));
}

std::vector<std::string> read_strings(hid_t dset, const std::string& file) {
  auto values = read_string_values(dset, false);
  if (!values)
    throw FormatError(fmt::format("{}: dataset {} is not a readable string dataset", file, object_name(dset)));
  return *values;
}

void check_filters_available(hid_t dset, const std::string& where) {
  Handle dcpl(H5Dget_create_plist(dset));
  const int n = dcpl ? H5Pget_nfilters(dcpl.get()) : 0;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t nvalues = 0;
    char name[256] = {};
    const H5Z_filter_t id =
        H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &nvalues, nullptr, sizeof name, name, &config);
    if (id < 0 || filter_available(id)) continue;
    H5Eclear2(H5E_DEFAULT);
    throw FormatError(fmt::format("{} is compressed with HDF5 filter {} ('{}'), which this HDF5 library cannot load "
                                  "({}; HDF5 looks for plugins in HDF5_PLUGIN_PATH or its built-in plugin folder)",
                                  where, id, name, filter_install_hint(id)));
  }
}

template <class E>
void transfer_frames(hid_t dset, const Shape& shape, hid_t type, std::int64_t first, std::int64_t count,
                     std::byte* buffer, std::size_t frame_bytes, bool read, const std::string& what) {
  const int rank = static_cast<int>(shape.size());
  Handle file_space = checked<E>(H5Dget_space(dset), what);
  // One piece: `rows` x `cols` frames from (ry, rx) for 4D, `cols` frames from rx for 3D.
  auto piece = [&](std::int64_t ry, std::int64_t rx, std::int64_t rows, std::int64_t cols, std::int64_t at) {
    hsize_t start[4] = {hsize_t(ry), hsize_t(rx), 0, 0};
    hsize_t extent[4] = {hsize_t(rows), hsize_t(cols), hsize_t(shape[rank - 2]), hsize_t(shape[rank - 1])};
    const hsize_t* s = rank == 4 ? start : start + 1;
    const hsize_t* e = rank == 4 ? extent : extent + 1;
    check<E>(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, s, nullptr, e, nullptr), what);
    Handle mem_space = checked<E>(H5Screate_simple(rank, e, nullptr), what);
    std::byte* p = buffer + static_cast<std::size_t>(at) * frame_bytes;
    check<E>(read ? H5Dread(dset, type, mem_space.get(), file_space.get(), H5P_DEFAULT, p)
                  : H5Dwrite(dset, type, mem_space.get(), file_space.get(), H5P_DEFAULT, p),
             what);
  };
  if (rank == 3) {
    piece(0, first, 1, count, 0);
    return;
  }
  const std::int64_t scan_x = shape.at(1);
  const std::int64_t end = first + count;
  for (std::int64_t f = first; f < end;) {
    const std::int64_t ry = f / scan_x, rx = f % scan_x;
    if (rx != 0 || end - f < scan_x) {  // part of one scan row
      const std::int64_t n = std::min(scan_x - rx, end - f);
      piece(ry, rx, 1, n, f - first);
      f += n;
    } else {  // whole scan rows
      const std::int64_t rows = (end - f) / scan_x;
      piece(ry, 0, rows, scan_x, f - first);
      f += rows * scan_x;
    }
  }
}

template void transfer_frames<FormatError>(hid_t, const Shape&, hid_t, std::int64_t, std::int64_t, std::byte*,
                                           std::size_t, bool, const std::string&);
template void transfer_frames<IoError>(hid_t, const Shape&, hid_t, std::int64_t, std::int64_t, std::byte*,
                                       std::size_t, bool, const std::string&);

void check_data_fits_file(hid_t dset, const Shape& shape, std::size_t element_size, const std::string& file,
                          const std::string& where) {
  std::size_t bytes = element_size;
  for (const std::int64_t n : shape)
    if (n < 0 || __builtin_mul_overflow(bytes, static_cast<std::size_t>(n), &bytes) || bytes > (std::size_t{1} << 60))
      throw FormatError(fmt::format("{}: {} claims a shape {} too large for any file: the file is corrupt", file,
                                    where, shape_string(shape)));
  Handle dcpl(H5Dget_create_plist(dset));
  if (!dcpl || H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS) return;
  const haddr_t offset = H5Dget_offset(dset);
  if (offset == HADDR_UNDEF) return;  // never written: reads as the fill value
  std::error_code ec;
  const auto file_bytes = std::filesystem::file_size(file, ec);
  if (ec) return;
  if (offset + bytes > file_bytes)
    throw FormatError(fmt::format("{}: {} needs bytes {}..{} but the file has {} bytes (truncated or corrupt)", file,
                                  where, offset, offset + bytes, file_bytes));
}

}  // namespace scandiff::io::h5
