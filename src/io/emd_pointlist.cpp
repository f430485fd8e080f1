#include "emd_pointlist.hpp"

#include <hdf5.h>

#include <vector>

#include <fmt/format.h>

#include "hdf5_util.hpp"

namespace scandiff::io::emd {

using h5::check;
using h5::checked;
using h5::Handle;

namespace {

struct Record {
  double qx, qy, intensity;  // py4DSTEM's names: qx = row, qy = column
};

// The in-memory record type (native doubles, fields matched by name on read).
Handle record_type(const std::string& what) {
  Handle t = checked<IoError>(H5Tcreate(H5T_COMPOUND, sizeof(Record)), what);
  check<IoError>(H5Tinsert(t.get(), "qx", HOFFSET(Record, qx), H5T_NATIVE_DOUBLE), what);
  check<IoError>(H5Tinsert(t.get(), "qy", HOFFSET(Record, qy), H5T_NATIVE_DOUBLE), what);
  check<IoError>(H5Tinsert(t.get(), "intensity", HOFFSET(Record, intensity), H5T_NATIVE_DOUBLE), what);
  return t;
}

}  // namespace

void write_peak_lists(hid_t group, const EmdBraggVectors& v) {
  const std::string what = fmt::format("cannot write Bragg vectors in {}", h5::object_name(group));
  const std::int64_t positions = v.scan_y * v.scan_x;
  std::vector<Record> records(v.row.size());
  for (std::size_t i = 0; i < records.size(); ++i) records[i] = {v.row[i], v.col[i], v.intensity[i]};
  std::vector<hvl_t> lists(static_cast<std::size_t>(positions));
  for (std::int64_t p = 0; p < positions; ++p) {
    const auto a = static_cast<std::size_t>(v.offsets[static_cast<std::size_t>(p)]);
    const auto b = static_cast<std::size_t>(v.offsets[static_cast<std::size_t>(p + 1)]);
    lists[static_cast<std::size_t>(p)].len = b - a;
    lists[static_cast<std::size_t>(p)].p = b > a ? static_cast<void*>(records.data() + a) : nullptr;
  }
  Handle rec = record_type(what);
  Handle vlen = checked<IoError>(H5Tvlen_create(rec.get()), what);
  Handle dset = h5::create_dataset(group, "data", vlen.get(), {v.scan_y, v.scan_x});
  check<IoError>(H5Dwrite(dset.get(), vlen.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, lists.data()), what);
}

void read_peak_lists(hid_t group, EmdBraggVectors& v, const std::string& file) {
  const std::string where = fmt::format("{}: {}/data", file, h5::object_name(group));
  Handle dset = h5::open_dataset(group, "data", file);
  const Shape shape = h5::dataset_shape(dset.get());
  if (shape != Shape{v.scan_y, v.scan_x})
    throw FormatError(fmt::format("{} has shape {}, expected the scan shape ({}, {})", where, shape_string(shape),
                                  v.scan_y, v.scan_x));
  if (v.scan_y * v.scan_x > (std::int64_t{1} << 28))
    throw FormatError(fmt::format("{}: a scan of {}x{} positions is beyond what is read (at most 2^28)", where,
                                  v.scan_y, v.scan_x));
  Handle ftype = checked<FormatError>(H5Dget_type(dset.get()), where);
  if (H5Tget_class(ftype.get()) != H5T_VLEN)
    throw FormatError(fmt::format("{} is not a variable-length peak list dataset", where));
  Handle super = checked<FormatError>(H5Tget_super(ftype.get()), where);
  if (H5Tget_class(super.get()) != H5T_COMPOUND)
    throw FormatError(fmt::format("{} does not hold compound records", where));
  for (const char* field : {"qx", "qy", "intensity"}) {
    const int idx = H5Tget_member_index(super.get(), field);
    if (idx < 0) throw FormatError(fmt::format("{} records have no '{}' field", where, field));
    Handle mt = checked<FormatError>(H5Tget_member_type(super.get(), static_cast<unsigned>(idx)), where);
    const H5T_class_t c = H5Tget_class(mt.get());
    if (c != H5T_FLOAT && c != H5T_INTEGER)
      throw FormatError(fmt::format("{} field '{}' is not numeric", where, field));
  }
  Handle rec = record_type(where);
  Handle vlen = checked<IoError>(H5Tvlen_create(rec.get()), where);
  const std::int64_t positions = v.scan_y * v.scan_x;
  std::vector<hvl_t> lists(static_cast<std::size_t>(positions));
  check<FormatError>(H5Dread(dset.get(), vlen.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, lists.data()), where);
  v.offsets.assign(1, 0);
  v.row.clear();
  v.col.clear();
  v.intensity.clear();
  for (const hvl_t& l : lists) {
    const auto* r = static_cast<const Record*>(l.p);
    for (std::size_t i = 0; i < l.len; ++i) {
      v.row.push_back(r[i].qx);
      v.col.push_back(r[i].qy);
      v.intensity.push_back(r[i].intensity);
    }
    v.offsets.push_back(static_cast<std::int64_t>(v.row.size()));
  }
  Handle space = checked<FormatError>(H5Dget_space(dset.get()), where);
  H5Dvlen_reclaim(vlen.get(), space.get(), H5P_DEFAULT, lists.data());
}

}  // namespace scandiff::io::emd
