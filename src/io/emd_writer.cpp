// EmdWriter: EMD 1.0 output in py4DSTEM's layout (see include/scandiff/io/emd.hpp).
#include <algorithm>
#include <cmath>
#include <tuple>
#include <random>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "emd_calibration.hpp"
#include "emd_metadata.hpp"
#include "emd_pointlist.hpp"
#include "hdf5_direct.hpp"
#include "hdf5_util.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

using h5::check;
using h5::checked;
using h5::Handle;

namespace {

// A random (version 4) UUID, as emdfile writes in the file header.
std::string uuid4() {
  std::random_device rd;
  std::mt19937_64 gen((std::uint64_t(rd()) << 32) ^ rd());
  std::uint64_t hi = gen(), lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                     lo & 0xffffffffffffULL);
}

void check_name(std::string_view what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    throw InvalidArgument(
        fmt::format("EMD {} name '{}' is invalid: expected a non-empty name without '/'", what, name));
}

// dim<n>: the axis as [origin, origin + step] (emdfile's compressed linear form), or the full
// vector when the step is zero or not finite (emdfile cannot expand those), with name and units.
void write_dim(hid_t node, std::size_t n, std::int64_t length, const Axis& axis) {
  std::vector<double> values;
  if (axis.step != 0 && std::isfinite(axis.step) && std::isfinite(axis.origin))
    values = {axis.origin, axis.origin + axis.step};
  else
    values.assign(static_cast<std::size_t>(std::max<std::int64_t>(length, 1)), axis.origin);
  const std::string name = fmt::format("dim{}", n);
  Handle dset = h5::create_dataset(node, name, H5T_NATIVE_DOUBLE, {static_cast<std::int64_t>(values.size())});
  check<IoError>(H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                 fmt::format("cannot write {}", h5::object_name(dset.get())));
  h5::write_string_attr(dset.get(), "name", axis.name);
  h5::write_string_attr(dset.get(), "units", axis.units);
}

// An array node group <root>/<name> with its EMD tags.
Handle create_array_node(hid_t file, const std::string& root, const std::string& name,
                         const std::string& python_class) {
  Handle node = h5::create_group(file, "/" + root + "/" + name);
  h5::write_string_attr(node.get(), "emd_group_type", "array");
  h5::write_string_attr(node.get(), "python_class", python_class);
  return node;
}

}  // namespace

struct EmdWriter::State {
  struct Root {
    std::string name;
    Calibration calibration;
    std::vector<std::string> targets;  // root-relative tree paths of its DataCubes
  };
  struct Cube {
    std::string root, name;
    Handle data;
    Shape shape;  // (ry, rx, qy, qx)
    DType dtype;
    std::vector<bool> written;  // per frame
    std::int64_t written_count = 0;
    std::unique_ptr<h5::DirectFrames> direct;  // contiguous: pwrite, no HDF5 call
  };
  std::string file_name;  // the target, for messages
  Handle file;
  std::vector<Root> roots;
  std::vector<Cube> cubes;
  bool committed = false;

  Root& root(const std::string& name) {
    for (auto& r : roots)
      if (r.name == name) return r;
    throw InvalidArgument(fmt::format("{}: no EMD root '{}' (call add_root first)", file_name, name));
  }
  Cube& cube(const std::string& root_name, const std::string& name) {
    for (auto& c : cubes)
      if (c.root == root_name && c.name == name) return c;
    throw InvalidArgument(fmt::format("{}: no datacube '{}/{}' (call add_datacube first)", file_name, root_name, name));
  }
  void check_open() const {
    if (committed) throw InvalidArgument(fmt::format("{}: the EMD writer was already committed", file_name));
  }
  void check_new_node(const std::string& root_name, const std::string& name) const {
    if (h5::object_kind(file.get(), "/" + root_name + "/" + name) != h5::Kind::missing)
      throw InvalidArgument(fmt::format("{}: '{}/{}' already exists", file_name, root_name, name));
  }
};

EmdWriter::EmdWriter(std::filesystem::path target, std::string authoring_program)
    : out_(std::move(target)), state_(std::make_unique<State>()) {
  h5::Lock lock;
  state_->file_name = out_.target().string();
  const std::string what = fmt::format("{}: cannot write", state_->file_name);
  {
    // The file's root group lists roots in creation order too.
    Handle fcpl = checked<IoError>(H5Pcreate(H5P_FILE_CREATE), what);
    check<IoError>(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), what);
    state_->file = checked<IoError>(
        H5Fcreate(out_.temp_path().c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), what);
  }
  try {
    const hid_t f = state_->file.get();
    h5::write_string_attr(f, "emd_group_type", "file");
    h5::write_int_attr(f, "version_major", 1);
    h5::write_int_attr(f, "version_minor", 0);
    h5::write_string_attr(f, "UUID", uuid4());
    h5::write_string_attr(f, "authoring_program", authoring_program);
    h5::write_string_attr(f, "authoring_user", "");
  } catch (...) {
    state_->file.reset();  // close under the lock before the members unwind
    throw;
  }
}

EmdWriter::~EmdWriter() {
  h5::Lock lock;
  state_.reset();  // closes every HDF5 handle under the lock; out_ then removes the temporary file
}

void EmdWriter::add_root(const std::string& root, const Calibration& cal) {
  h5::Lock lock;
  state_->check_open();
  check_name("root", root);
  if (h5::object_kind(state_->file.get(), root) != h5::Kind::missing)
    throw InvalidArgument(fmt::format("{}: EMD root '{}' already exists", state_->file_name, root));
  Handle group = h5::create_group(state_->file.get(), root);
  h5::write_string_attr(group.get(), "emd_group_type", "root");
  h5::write_string_attr(group.get(), "python_class", "Root");
  emd::open_or_create_bundle(group.get());
  state_->roots.push_back({root, cal, {}});
}

void EmdWriter::add_datacube(const std::string& root, const std::string& name, Shape shape, DType dtype,
                             const Calibration& cal, const Hdf5Storage& storage) {
  h5::Lock lock;
  state_->check_open();
  State::Root& r = state_->root(root);
  check_name("datacube", name);
  state_->check_new_node(root, name);
  if (shape.size() != 4 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0 || shape[3] <= 0)
    throw InvalidArgument(fmt::format("{}: datacube '{}' shape {} is invalid, expected four positive extents "
                                      "(scan y, scan x, detector y, detector x)",
                                      state_->file_name, name, shape_string(shape)));
  Handle node = create_array_node(state_->file.get(), root, name, "DataCube");
  Handle data = h5::create_frames_dataset(node.get(), "data", shape, dtype, storage,
                                         fmt::format("{}: datacube '{}/{}'", state_->file_name, root, name));
  State::Cube cube{root, name, std::move(data), shape, dtype,
                   std::vector<bool>(static_cast<std::size_t>(shape[0] * shape[1]), false), 0, nullptr};
  if (!storage.chunked())
    cube.direct = std::make_unique<h5::DirectFrames>(
        out_.temp_path(), cube.data.get(), size_of(dtype) * static_cast<std::size_t>(shape[2] * shape[3]),
        fmt::format("{}: datacube '{}/{}'", state_->file_name, root, name));
  h5::write_string_attr(cube.data.get(), "units", "pixel intensity");
  // py4DSTEM's names for the (ry, rx, qy, qx) data axes.
  const Axis rx{"Rx", 0, cal.scan_pixel_size, cal.scan_units};
  const Axis ry{"Ry", 0, cal.scan_pixel_size, cal.scan_units};
  const Axis qx{"Qx", 0, cal.detector_pixel_size, cal.detector_units};
  const Axis qy{"Qy", 0, cal.detector_pixel_size, cal.detector_units};
  write_dim(node.get(), 0, shape[0], rx);
  write_dim(node.get(), 1, shape[1], ry);
  write_dim(node.get(), 2, shape[2], qx);
  write_dim(node.get(), 3, shape[3], qy);
  r.targets.push_back("/" + name);
  state_->cubes.push_back(std::move(cube));
}

bool EmdWriter::concurrent_frames(const std::string& root, const std::string& name) const {
  h5::Lock lock;
  return state_->cube(root, name).direct != nullptr;
}

void EmdWriter::write_frames(const std::string& root, const std::string& name, std::int64_t first_frame,
                             std::int64_t count, const std::byte* data) {
  const h5::DirectFrames* direct = nullptr;
  {
    h5::Lock lock;
    state_->check_open();
    State::Cube& cube = state_->cube(root, name);
    const std::int64_t frames = cube.shape[0] * cube.shape[1];
    if (first_frame < 0 || count < 0 || first_frame + count > frames)
      throw InvalidArgument(fmt::format("{}: frames [{}, {}) of datacube '{}/{}' requested, but it has {} frames",
                                        state_->file_name, first_frame, first_frame + count, root, name, frames));
    if (count == 0) return;
    if (data == nullptr) throw InvalidArgument(fmt::format("{}: write_frames got no data", state_->file_name));
    for (std::int64_t f = first_frame; f < first_frame + count; ++f) {
      auto bit = cube.written[static_cast<std::size_t>(f)];
      if (!bit) {
        bit = true;
        ++cube.written_count;
      }
    }
    direct = cube.direct.get();
    if (!direct) {
      const std::string what = fmt::format("{}: cannot write frames [{}, {}) of '{}/{}'", state_->file_name,
                                           first_frame, first_frame + count, root, name);
      // transfer_frames only reads the buffer when writing.
      h5::transfer_frames<IoError>(cube.data.get(), cube.shape, h5::native_type(cube.dtype), first_frame, count,
                                   const_cast<std::byte*>(data),
                                   size_of(cube.dtype) * static_cast<std::size_t>(cube.shape[2] * cube.shape[3]),
                                   false, what);
      return;
    }
  }
  direct->write(first_frame, count, data);  // outside the lock: blocks from several threads at once
}

void EmdWriter::add_array(const std::string& root, const Result& result, const std::string& python_class) {
  h5::Lock lock;
  state_->check_open();
  state_->root(root);
  check_name("array", result.name);
  state_->check_new_node(root, result.name);
  const Array& a = result.data;
  if (a.empty() || a.rank() == 0)
    throw InvalidArgument(fmt::format("{}: result '{}' has no data", state_->file_name, result.name));
  if (!result.axes.empty() && result.axes.size() != a.rank())
    throw InvalidArgument(fmt::format("{}: result '{}' has {} axes for {}-dimensional data", state_->file_name,
                                      result.name, result.axes.size(), a.rank()));
  if (!result.provenance.is_null() && !result.provenance.is_object())
    throw InvalidArgument(fmt::format("{}: provenance of result '{}' must be a JSON object", state_->file_name,
                                      result.name));
  check_name("python class", python_class);
  Handle node = create_array_node(state_->file.get(), root, result.name, python_class);
  const Array data = a.is_contiguous() ? a : a.copy();
  const hid_t type = h5::native_type(data.dtype());
  Handle dset = h5::create_dataset(node.get(), "data", type, data.shape());
  check<IoError>(H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.bytes()),
                 fmt::format("{}: cannot write result '{}'", state_->file_name, result.name));
  h5::write_string_attr(dset.get(), "units", result.units);
  for (std::size_t n = 0; n < data.rank(); ++n) {
    const Axis axis = result.axes.empty() ? Axis{fmt::format("dim{}", n), 0, 1, "pixels"} : result.axes[n];
    write_dim(node.get(), n, data.shape(n), axis);
  }
  if (result.provenance.is_object() && !result.provenance.empty()) {
    Handle bundle = emd::open_or_create_bundle(node.get());
    Handle group = emd::create_metadata_group(bundle.get(), "provenance", "Metadata");
    emd::write_items(group.get(), result.provenance);
  }
}

void EmdWriter::add_metadata(const std::string& root, const std::string& name, const Metadata& md) {
  h5::Lock lock;
  state_->check_open();
  state_->root(root);
  check_name("metadata", name);
  if (name == "calibration")
    throw InvalidArgument(fmt::format("{}: the metadata name 'calibration' is reserved for the root calibration "
                                      "(pass it to add_root)",
                                      state_->file_name));
  if (!md.is_object())
    throw InvalidArgument(fmt::format("{}: metadata '{}' must be a JSON object, got a {}", state_->file_name, name,
                                      md.type_name()));
  Handle bundle = emd::open_or_create_bundle(
      h5::open_group(state_->file.get(), "/" + root, state_->file_name).get());
  if (h5::object_kind(bundle.get(), name) != h5::Kind::missing)
    throw InvalidArgument(fmt::format("{}: metadata '{}' already exists in root '{}'", state_->file_name, name, root));
  Handle group = emd::create_metadata_group(bundle.get(), name, "Metadata");
  emd::write_items(group.get(), md);
}

void EmdWriter::add_bragg_vectors(const std::string& root, const std::string& name, const EmdBraggVectors& v) {
  h5::Lock lock;
  state_->check_open();
  State::Root& r = state_->root(root);
  check_name("Bragg vectors", name);
  state_->check_new_node(root, name);
  const std::int64_t positions = v.scan_y * v.scan_x;
  if (v.scan_y <= 0 || v.scan_x <= 0 || v.frame_y <= 0 || v.frame_x <= 0)
    throw InvalidArgument(fmt::format("{}: Bragg vectors '{}' need a positive scan and frame shape", state_->file_name, name));
  const std::size_t n = v.row.size();
  if (v.col.size() != n || v.intensity.size() != n)
    throw InvalidArgument(fmt::format("{}: Bragg vectors '{}' have row/col/intensity of different lengths", state_->file_name, name));
  if (v.offsets.size() != static_cast<std::size_t>(positions + 1) || v.offsets.front() != 0 ||
      v.offsets.back() != static_cast<std::int64_t>(n) || !std::is_sorted(v.offsets.begin(), v.offsets.end()))
    throw InvalidArgument(fmt::format("{}: Bragg vectors '{}' need {} non-decreasing offsets from 0 to {}", state_->file_name,
                                      name, positions + 1, n));
  Handle node = h5::create_group(state_->file.get(), "/" + root + "/" + name);
  h5::write_string_attr(node.get(), "emd_group_type", "custom");
  h5::write_string_attr(node.get(), "python_class", "BraggVectors");
  {
    Handle bundle = emd::open_or_create_bundle(node.get());
    Handle md = emd::create_metadata_group(bundle.get(), "_braggvectors_shape", "Metadata");
    for (const auto& [key, a, b] : {std::tuple{"Rshape", v.scan_y, v.scan_x}, std::tuple{"Qshape", v.frame_y, v.frame_x}}) {
      const std::int64_t values[2] = {a, b};
      Handle d = h5::create_dataset(md.get(), key, H5T_NATIVE_INT64, {2});
      check<IoError>(H5Dwrite(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values),
                     fmt::format("{}: cannot write {}", state_->file_name, key));
      h5::write_bytes_attr(d.get(), "type", "tuple");
    }
  }
  Handle plist = h5::create_group(node.get(), "_v_uncal");
  h5::write_string_attr(plist.get(), "emd_group_type", "custom_pointlistarray");
  h5::write_string_attr(plist.get(), "python_class", "PointListArray");
  emd::write_peak_lists(plist.get(), v);
  r.targets.push_back("/" + name);
}

void EmdWriter::commit() {
  {
    h5::Lock lock;
    state_->check_open();
    for (const auto& cube : state_->cubes)
      if (cube.written_count != static_cast<std::int64_t>(cube.written.size()))
        throw InvalidArgument(fmt::format("{}: datacube '{}/{}' has only {} of its {} frames written",
                                          state_->file_name, cube.root, cube.name, cube.written_count,
                                          cube.written.size()));
    for (const auto& root : state_->roots) {
      Handle group = h5::open_group(state_->file.get(), "/" + root.name, state_->file_name);
      Handle bundle = emd::open_or_create_bundle(group.get());
      emd::write_calibration(bundle.get(), root.calibration, root.targets);
    }
    // Closing a datacube flushes its chunk cache through the filters: a failure there is a failed write.
    for (auto& cube : state_->cubes) {
      if (cube.direct) cube.direct->finish();
      if (!cube.data.reset())
        throw IoError(fmt::format("{}: cannot finish writing datacube '{}/{}': {}", state_->file_name, cube.root,
                                  cube.name, h5::error_text()));
    }
    state_->cubes.clear();
    check<IoError>(H5Fflush(state_->file.get(), H5F_SCOPE_GLOBAL),
                   fmt::format("{}: cannot finish writing", state_->file_name));
    if (!state_->file.reset())
      throw IoError(fmt::format("{}: cannot close the file: {}", state_->file_name, h5::error_text()));
    state_->committed = true;
  }
  out_.commit();
}

}  // namespace scandiff::io
