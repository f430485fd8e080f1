// open_emd: a Source over a 4D (ry, rx, qy, qx) array of an EMD 1.0 file, read by hyperslabs.
#include <fmt/format.h>

#include "emd_calibration.hpp"
#include "emd_file.hpp"
#include "emd_metadata.hpp"
#include "hdf5_util.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io {

using h5::Handle;

namespace {

class EmdSource final : public Source {
 public:
  // Takes over open handles (constructed under the lock; nothing here can throw).
  EmdSource(DatasetInfo info, std::string node, Handle file, Handle data, std::int64_t block) noexcept
      : node_(std::move(node)), file_(std::move(file)), data_(std::move(data)), block_(block) {
    info_ = std::move(info);
  }
  ~EmdSource() override {
    h5::Lock lock;
    data_.reset();
    file_.reset();
  }

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override {
    check_range(first, count);
    if (count == 0) return;
    h5::Lock lock;
    const std::string what = fmt::format("{}: cannot read frames [{}, {}) of {} (file truncated or corrupt?)",
                                         info_.path, first, first + count, node_);
    Handle file_space = h5::checked(H5Dget_space(data_.get()), what);
    h5::select_frames(file_space.get(), info_.shape(), first, count);
    const hsize_t n = hsize_t(count * info_.frame_pixels());
    Handle mem_space = h5::checked(H5Screate_simple(1, &n, nullptr), what);
    h5::check(H5Dread(data_.get(), h5::native_type(info_.dtype), mem_space.get(), file_space.get(), H5P_DEFAULT, dst),
              what);
  }

  std::int64_t preferred_block_frames() const override { return block_; }

 private:
  std::string node_;
  Handle file_, data_;
  std::int64_t block_;
};

// The node to open: `requested`, or the first DataCube, or the first 4D array.
std::string choose_node(hid_t file, const std::string& requested, const std::string& file_name) {
  if (!requested.empty()) return emd::normalize_path(requested);
  const auto nodes = emd::list_nodes(file);
  for (const auto& n : nodes)
    if (n.python_class == "DataCube" && n.shape.size() == 4) return n.path;
  for (const auto& n : nodes)
    if (n.shape.size() == 4) return n.path;
  std::string found;
  for (const auto& n : nodes)
    found += fmt::format("{}{} ({}, shape {})", found.empty() ? "" : ", ", n.path,
                         n.python_class.empty() ? n.emd_group_type : n.python_class, shape_string(n.shape));
  throw FormatError(fmt::format("{}: no 4D array (DataCube) in the file; it holds {}", file_name,
                                found.empty() ? "no data nodes" : found));
}

// Frames per chunk, for block sizing: chunks of (c0, c1, ...) scan positions span c1 frames
// of a scan row, or c0 whole rows when c0 > 1. 1 for contiguous data.
std::int64_t chunk_frames(hid_t data, std::int64_t scan_x) {
  Handle dcpl(H5Dget_create_plist(data));
  if (!dcpl || H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return 1;
  hsize_t chunk[4] = {1, 1, 1, 1};
  if (H5Pget_chunk(dcpl.get(), 4, chunk) != 4) return 1;
  if (chunk[0] > 1) return static_cast<std::int64_t>(chunk[0]) * scan_x;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(chunk[1]));
}

}  // namespace

std::unique_ptr<Source> open_emd(const std::filesystem::path& path, const std::string& node_path) {
  h5::Lock lock;
  const std::string file_name = path.string();
  Handle file = emd::open_for_reading(path);
  const std::string node_name = choose_node(file.get(), node_path, file_name);
  Handle node = emd::open_array_node(file.get(), node_name, file_name);
  Handle data = h5::open_dataset(node.get(), "data", file_name);
  const Shape shape = h5::dataset_shape(data.get());
  if (shape.size() != 4)
    throw FormatError(fmt::format("{}: {} is {}-dimensional {}, expected a 4D (ry, rx, qy, qx) array", file_name,
                                  node_name, shape.size(), shape_string(shape)));
  Handle type = h5::checked(H5Dget_type(data.get()), fmt::format("{}: cannot read {}/data", file_name, node_name));
  const h5::TypeInfo t = h5::describe_type(type.get());
  if (!t.dtype)
    throw FormatError(fmt::format("{}: dataset {}/data has element type {}, expected uint8, uint16, uint32, int32, "
                                  "float32 or float64",
                                  file_name, node_name, t.name));

  h5::check_filters_available(data.get(), fmt::format("{}: {}/data", file_name, node_name));

  DatasetInfo info;
  info.path = file_name;
  info.format = "emd";
  info.scan_y = shape[0];
  info.scan_x = shape[1];
  info.frame_y = shape[2];
  info.frame_x = shape[3];
  info.dtype = *t.dtype;
  info.validate();
  h5::check_data_fits_file(data.get(), shape, size_of(info.dtype), file_name, node_name + "/data");
  // Calibration and metadata dictionaries of the node's root.
  const std::string bundle_path = "/" + emd::root_of(node_name) + "/metadatabundle";
  if (h5::object_kind(file.get(), bundle_path) == h5::Kind::group) {
    Handle bundle = h5::open_group(file.get(), bundle_path, file_name);
    for (const std::string& name : h5::child_names(bundle.get())) {
      if (h5::object_kind(bundle.get(), name) != h5::Kind::group) continue;
      Handle group = h5::open_group(bundle.get(), name, file_name);
      if (name == "calibration")
        info.calibration = emd::read_calibration(group.get());
      else
        info.metadata[name] = emd::read_items(group.get(), file_name);
    }
  }
  const std::int64_t block = chunk_frames(data.get(), info.scan_x);
  return std::make_unique<EmdSource>(std::move(info), node_name, std::move(file), std::move(data), block);
}

}  // namespace scandiff::io
