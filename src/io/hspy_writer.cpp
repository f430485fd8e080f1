// HspyWriter: one 4D signal in HyperSpy's HDF5 layout (see include/scandiff/io/hspy.hpp).
#include <algorithm>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "hdf5_direct.hpp"
#include "hdf5_util.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/hspy.hpp"

namespace scandiff::io {

using h5::check;
using h5::checked;
using h5::Handle;

namespace {

// An axis-i group: what rosettasciio's reader turns into a HyperSpy DataAxis.
void write_axis(hid_t experiment, int index, const std::string& name, std::int64_t size, double scale,
                const std::string& units, bool navigate) {
  Handle axis = h5::create_group(experiment, fmt::format("axis-{}", index));
  h5::write_string_attr(axis.get(), "name", name);
  h5::write_string_attr(axis.get(), "units", units);
  h5::write_bool_attr(axis.get(), "navigate", navigate);
  h5::write_int_attr(axis.get(), "size", size);
  h5::write_double_attr(axis.get(), "scale", scale);
  h5::write_double_attr(axis.get(), "offset", 0.0);
  h5::write_bool_attr(axis.get(), "is_binned", false);
}

// A JSON object as HyperSpy metadata: groups and scalar attributes (hspy.hpp).
void write_json_attrs(hid_t group, const Metadata& md) {
  for (const auto& [key, value] : md.items()) {
    std::string name = key.empty() ? "_" : key;
    std::replace(name.begin(), name.end(), '/', '_');
    if (name == "." || name == "..") name = "_" + name;
    if (value.is_object()) {
      Handle child = h5::create_group(group, name);
      write_json_attrs(child.get(), value);
    } else if (value.is_string()) {
      h5::write_string_attr(group, name, value.get<std::string>());
    } else if (value.is_boolean()) {
      h5::write_bool_attr(group, name, value.get<bool>());
    } else if (value.is_number_integer() && !value.is_number_unsigned()) {
      h5::write_int_attr(group, name, value.get<std::int64_t>());
    } else if (value.is_number_unsigned() && value.get<std::uint64_t>() <= std::uint64_t(INT64_MAX)) {
      h5::write_int_attr(group, name, static_cast<std::int64_t>(value.get<std::uint64_t>()));
    } else if (value.is_number()) {
      h5::write_double_attr(group, name, value.get<double>());
    } else if (value.is_null()) {
      h5::write_string_attr(group, name, "_None_");
    } else {
      h5::write_string_attr(group, name, value.dump());
    }
  }
}

}  // namespace

struct HspyWriter::State {
  std::string file_name;  // the target, for messages
  Handle file, experiment, data;
  Shape shape;  // (ry, rx, qy, qx)
  DType dtype = DType::u16;
  std::vector<bool> written;  // per frame
  std::int64_t written_count = 0;
  std::unique_ptr<h5::DirectFrames> direct;  // contiguous storage: pwrite, no HDF5 call
  bool committed = false;

  void check_open() const {
    if (committed) throw InvalidArgument(fmt::format("{}: the HyperSpy writer was already committed", file_name));
  }
};

HspyWriter::HspyWriter(std::filesystem::path target, const DatasetInfo& layout, const Hdf5Storage& storage,
                       const std::string& title)
    : out_(std::move(target)), state_(std::make_unique<State>()) {
  layout.validate();
  h5::Lock lock;
  State& st = *state_;
  st.file_name = out_.target().string();
  st.shape = layout.shape();
  st.dtype = layout.dtype;
  st.written.assign(static_cast<std::size_t>(layout.frame_count()), false);
  const std::string what = fmt::format("{}: cannot write", st.file_name);
  try {
    {
      Handle fcpl = checked<IoError>(H5Pcreate(H5P_FILE_CREATE), what);
      check<IoError>(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), what);
      st.file = checked<IoError>(H5Fcreate(out_.temp_path().c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), what);
    }
    const hid_t f = st.file.get();
    h5::write_string_attr(f, "file_format", "HyperSpy");
    h5::write_string_attr(f, "file_format_version", "3.3");
    Handle experiments = h5::create_group(f, "Experiments");
    st.experiment = h5::create_group(experiments.get(), title.empty() ? "__unnamed__" : title);
    const hid_t e = st.experiment.get();
    // No HyperSpy extension package provides the signal (rosettasciio's reading of pre-1.4 files).
    h5::write_string_attr(e, "package", "");
    h5::write_string_attr(e, "package_version", "");
    st.data = h5::create_frames_dataset(e, "data", st.shape, st.dtype, storage,
                                        fmt::format("{}: /Experiments/{}/data", st.file_name,
                                                    title.empty() ? "__unnamed__" : title));
    if (!storage.chunked())
      st.direct = std::make_unique<h5::DirectFrames>(out_.temp_path(), st.data.get(), layout.frame_bytes(),
                                                     st.file_name);
    const Calibration& cal = layout.calibration;
    write_axis(e, 0, "y", st.shape[0], cal.scan_pixel_size, cal.scan_units, true);
    write_axis(e, 1, "x", st.shape[1], cal.scan_pixel_size, cal.scan_units, true);
    write_axis(e, 2, "ky", st.shape[2], cal.detector_pixel_size, cal.detector_units, false);
    write_axis(e, 3, "kx", st.shape[3], cal.detector_pixel_size, cal.detector_units, false);
    Handle metadata = h5::create_group(e, "metadata");
    Handle general = h5::create_group(metadata.get(), "General");
    h5::write_string_attr(general.get(), "title", title);
    h5::write_string_attr(general.get(), "original_filename", layout.path);
    Handle signal = h5::create_group(metadata.get(), "Signal");
    h5::write_string_attr(signal.get(), "signal_type",
                          cal.radiation == Radiation::electron ? "electron_diffraction" : "");
    h5::create_group(e, "original_metadata");
    h5::create_group(e, "learning_results");
    Handle attributes = h5::create_group(e, "attributes");
    h5::write_bool_attr(attributes.get(), "_lazy", false);
  } catch (...) {
    state_.reset();  // close under the lock before the members unwind
    throw;
  }
}

HspyWriter::~HspyWriter() {
  h5::Lock lock;
  state_.reset();  // closes every HDF5 handle under the lock; out_ then removes the temporary file
}

bool HspyWriter::concurrent() const { return state_->direct != nullptr; }

void HspyWriter::write_frames(std::int64_t first, std::int64_t count, const std::byte* data) {
  State& st = *state_;
  {
    h5::Lock lock;
    st.check_open();
    const std::int64_t frames = static_cast<std::int64_t>(st.written.size());
    if (first < 0 || count < 0 || first + count > frames)
      throw InvalidArgument(fmt::format("{}: frames [{}, {}) requested, but the signal has {} frames", st.file_name,
                                        first, first + count, frames));
    if (count == 0) return;
    if (data == nullptr) throw InvalidArgument(fmt::format("{}: write_frames got no data", st.file_name));
    for (std::int64_t f = first; f < first + count; ++f) {
      auto bit = st.written[static_cast<std::size_t>(f)];
      if (!bit) {
        bit = true;
        ++st.written_count;
      }
    }
    if (!st.direct) {
      const std::string what = fmt::format("{}: cannot write frames [{}, {})", st.file_name, first, first + count);
      const std::size_t frame_bytes = size_of(st.dtype) * static_cast<std::size_t>(st.shape[2] * st.shape[3]);
      // transfer_frames only reads the buffer when writing.
      h5::transfer_frames<IoError>(st.data.get(), st.shape, h5::native_type(st.dtype), first, count,
                                   const_cast<std::byte*>(data), frame_bytes, false, what);
      return;
    }
  }
  st.direct->write(first, count, data);  // outside the lock: blocks from several threads at once
}

void HspyWriter::add_original_metadata(const std::string& name, const Metadata& md) {
  h5::Lock lock;
  State& st = *state_;
  st.check_open();
  if (!md.is_object())
    throw InvalidArgument(fmt::format("{}: original metadata '{}' must be a JSON object, got a {}", st.file_name, name,
                                      md.type_name()));
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw InvalidArgument(fmt::format("{}: original metadata name '{}' is invalid", st.file_name, name));
  Handle original = h5::open_group(st.experiment.get(), "original_metadata", st.file_name);
  if (h5::object_kind(original.get(), name) != h5::Kind::missing)
    throw InvalidArgument(fmt::format("{}: original metadata '{}' already exists", st.file_name, name));
  Handle group = h5::create_group(original.get(), name);
  write_json_attrs(group.get(), md);
}

void HspyWriter::commit() {
  {
    h5::Lock lock;
    State& st = *state_;
    st.check_open();
    if (st.written_count != static_cast<std::int64_t>(st.written.size()))
      throw InvalidArgument(fmt::format("{}: only {} of the signal's {} frames were written", st.file_name,
                                        st.written_count, st.written.size()));
    if (st.direct) st.direct->finish();
    // Closing the dataset flushes its chunk cache through the filters: a failure there is a failed write.
    if (!st.data.reset())
      throw IoError(fmt::format("{}: cannot finish writing the frames: {}", st.file_name, h5::error_text()));
    st.experiment.reset();
    check<IoError>(H5Fflush(st.file.get(), H5F_SCOPE_GLOBAL), fmt::format("{}: cannot finish writing", st.file_name));
    if (!st.file.reset()) throw IoError(fmt::format("{}: cannot close the file: {}", st.file_name, h5::error_text()));
    st.committed = true;
  }
  out_.commit();
}

}  // namespace scandiff::io
