// EMD 1.0 writer/reader: round trips, temporary files, the real py4DSTEM sample, malformed input.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "scandiff/io/emd.hpp"

using namespace scandiff;
using namespace scandiff::io;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system temp dir, removed with its content at the end of a test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / ("scandiff_test_emd_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
    return names;
  }

 private:
  fs::path path_;
};

// Frame f, pixel i of the u16 test cube.
std::uint16_t u16_value(std::int64_t f, std::int64_t i) { return static_cast<std::uint16_t>(f * 1000 + i); }
// Frame f, pixel i of the f32 test cube (exact in float).
float f32_value(std::int64_t f, std::int64_t i) { return static_cast<float>(f) * 0.5f + static_cast<float>(i) * 0.25f - 3.0f; }

template <class T>
std::vector<T> make_frames(std::int64_t first, std::int64_t count, std::int64_t pixels, T (*value)(std::int64_t, std::int64_t)) {
  std::vector<T> v(static_cast<std::size_t>(count * pixels));
  for (std::int64_t f = 0; f < count; ++f)
    for (std::int64_t i = 0; i < pixels; ++i) v[static_cast<std::size_t>(f * pixels + i)] = value(first + f, i);
  return v;
}

const std::byte* bytes(const void* p) { return static_cast<const std::byte*>(p); }

Calibration full_calibration() {
  Calibration cal;
  cal.scan_pixel_size = 0.25;
  cal.scan_units = "nm";
  cal.detector_pixel_size = 0.0125;
  cal.detector_units = "A^-1";
  cal.origin_qy_px = 2.5;
  cal.origin_qx_px = 3.25;
  cal.origin_qy_map = Array(DType::f64, {3, 4});
  cal.origin_qx_map = Array(DType::f64, {3, 4});
  for (int i = 0; i < 12; ++i) {
    cal.origin_qy_map.data<double>()[i] = 2.5 + 0.125 * i;
    cal.origin_qx_map.data<double>()[i] = 3.25 - 0.0625 * i;
  }
  cal.ellipse = Ellipse{3.5, 3.0, 0.3};
  cal.qr_rotation_rad = 0.125;
  cal.qr_flip = true;
  cal.beam_energy_eV = 300e3;
  cal.camera_length_m = 0.1;
  return cal;
}

Metadata nested_metadata() {
  Metadata md;
  md["operator"] = "Ångström test";
  md["frames"] = 12;
  md["offset"] = -7;
  md["huge"] = std::uint64_t{18000000000000000000ULL};
  md["exposure_ms"] = 1.5;
  md["flip"] = true;
  md["binned"] = false;
  md["nothing"] = nullptr;
  md["list"] = {1, 2, 3};
  md["floats"] = {1.5, -2.25};
  md["matrix"] = {{1, 2, 3}, {4, 5, 6}};
  md["flags"] = {true, false, true};
  md["names"] = {"a", "bc"};
  md["empty_list"] = Metadata::array();
  md["ragged"] = {{1}, {2.5, 3.5}};
  md["detector"]["name"] = "Merlin";
  md["detector"]["size_px"] = {256, 256};
  md["detector"]["chip"]["bits"] = 12;
  md["detector"]["chip"]["gain"] = 0.75;
  md["empty_dict"] = Metadata::object();
  return md;
}

void expect_same_calibration(const Calibration& a, const Calibration& b) {
  EXPECT_EQ(a.scan_pixel_size, b.scan_pixel_size);
  EXPECT_EQ(a.scan_units, b.scan_units);
  EXPECT_EQ(a.detector_pixel_size, b.detector_pixel_size);
  EXPECT_EQ(a.detector_units, b.detector_units);
  EXPECT_EQ(a.origin_qy_px, b.origin_qy_px);
  EXPECT_EQ(a.origin_qx_px, b.origin_qx_px);
  ASSERT_EQ(a.origin_qy_map.shape(), b.origin_qy_map.shape());
  ASSERT_EQ(a.origin_qx_map.shape(), b.origin_qx_map.shape());
  ASSERT_EQ(a.origin_qy_map.empty(), b.origin_qy_map.empty());
  ASSERT_EQ(a.origin_qx_map.empty(), b.origin_qx_map.empty());
  for (std::int64_t i = 0; !a.origin_qy_map.empty() && i < a.origin_qy_map.size(); ++i) {
    EXPECT_EQ(a.origin_qy_map.data<double>()[i], b.origin_qy_map.data<double>()[i]);
    EXPECT_EQ(a.origin_qx_map.data<double>()[i], b.origin_qx_map.data<double>()[i]);
  }
  ASSERT_EQ(a.ellipse.has_value(), b.ellipse.has_value());
  if (a.ellipse) {
    EXPECT_EQ(a.ellipse->a_px, b.ellipse->a_px);
    EXPECT_EQ(a.ellipse->b_px, b.ellipse->b_px);
    EXPECT_NEAR(a.ellipse->theta_rad, b.ellipse->theta_rad, 1e-15);  // stored as pi/2 - theta
  }
  EXPECT_EQ(a.qr_rotation_rad, b.qr_rotation_rad);
  EXPECT_EQ(a.qr_flip, b.qr_flip);
  EXPECT_EQ(a.beam_energy_eV, b.beam_energy_eV);
  EXPECT_EQ(a.camera_length_m, b.camera_length_m);
  EXPECT_EQ(a.radiation, b.radiation);
}

// Expects `f` to throw E with a message containing `needle` (usually the file name).
template <class E, class F>
void expect_error(F&& f, const std::string& needle, const std::string& also = "") {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << needle;
  } catch (const E& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    if (!also.empty()) {
      EXPECT_NE(msg.find(also), std::string::npos) << msg;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

// Writes a small valid EMD file with one u16 DataCube (2, 3, 4, 5) under root "r".
void write_small_emd(const fs::path& path) {
  EmdWriter w(path);
  Calibration cal;
  w.add_root("r", cal);
  w.add_datacube("r", "datacube", {2, 3, 4, 5}, DType::u16, cal);
  const auto frames = make_frames<std::uint16_t>(0, 6, 20, u16_value);
  w.write_frames("r", "datacube", 0, 6, bytes(frames.data()));
  w.commit();
}

// Replaces /r/datacube/data of a small EMD file by a (2, 3, 4, 5) dataset of `type`, optionally chunked
// and with an optional filter (HDF5 skips an optional filter it does not have when writing).
void replace_cube_data(const fs::path& path, hid_t type, const std::vector<hsize_t>& chunk = {},
                       H5Z_filter_t optional_filter = -1) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  ASSERT_GE(H5Ldelete(f, "/r/datacube/data", H5P_DEFAULT), 0);
  const hsize_t dims[4] = {2, 3, 4, 5};
  hid_t space = H5Screate_simple(4, dims, nullptr);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (!chunk.empty()) H5Pset_chunk(dcpl, 4, chunk.data());
  if (optional_filter >= 0) H5Pset_filter(dcpl, optional_filter, H5Z_FLAG_OPTIONAL, 0, nullptr);
  hid_t d = H5Dcreate2(f, "/r/datacube/data", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  std::vector<std::int64_t> values(120);
  for (int i = 0; i < 120; ++i) values[i] = i;
  H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Fclose(f);
}

}  // namespace

TEST(Emd, RoundTripDatacubesArrayMetadataCalibration) {
  TempDir dir;
  const fs::path path = dir / "round_trip.h5";
  const Calibration cal = full_calibration();
  const Metadata md = nested_metadata();

  Result bf;
  bf.name = "bright_field";
  bf.data = Array(DType::f64, {3, 4});
  for (int i = 0; i < 12; ++i) bf.data.data<double>()[i] = std::sqrt(static_cast<double>(i)) - 1.0;
  bf.axes = {Axis{"ry", 0.5, 0.25, "nm"}, Axis{"rx", -1.0, 0.25, "nm"}};
  bf.units = "counts";
  bf.provenance = {{"analysis", "virtual_image"}, {"params", {{"r_outer_px", 3.5}, {"mode", "disk"}}}};

  {
    EmdWriter w(path);
    w.add_root("scan_root", cal);
    // u16 cube (3, 4, 5, 6), streamed in pieces that start and end mid scan-row.
    w.add_datacube("scan_root", "datacube", {3, 4, 5, 6}, DType::u16, cal);
    for (auto [first, count] : {std::pair{0, 5}, std::pair{5, 2}, std::pair{7, 5}}) {
      const auto frames = make_frames<std::uint16_t>(first, count, 30, u16_value);
      w.write_frames("scan_root", "datacube", first, count, bytes(frames.data()));
    }
    w.add_array("scan_root", bf, "RealSlice");
    w.add_metadata("scan_root", "acquisition", md);
    // f32 cube (2, 3, 4, 5) under a second root with default calibration, written out of order.
    w.add_root("float_root", Calibration{});
    w.add_datacube("float_root", "datacube", {2, 3, 4, 5}, DType::f32, Calibration{});
    for (auto [first, count] : {std::pair{5, 1}, std::pair{1, 4}, std::pair{0, 1}}) {
      const auto frames = make_frames<float>(first, count, 20, f32_value);
      w.write_frames("float_root", "datacube", first, count, bytes(frames.data()));
    }
    w.commit();
  }
  ASSERT_TRUE(fs::exists(path));
  EXPECT_TRUE(is_hdf5_file(path));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"round_trip.h5"});

  // Nodes, in writing order.
  const auto nodes = list_emd_nodes(path);
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].path, "/scan_root/datacube");
  EXPECT_EQ(nodes[0].python_class, "DataCube");
  EXPECT_EQ(nodes[0].emd_group_type, "array");
  EXPECT_EQ(nodes[0].shape, (Shape{3, 4, 5, 6}));
  EXPECT_EQ(nodes[0].dtype, DType::u16);
  EXPECT_TRUE(nodes[0].dtype_supported);
  EXPECT_EQ(nodes[1].path, "/scan_root/bright_field");
  EXPECT_EQ(nodes[1].python_class, "RealSlice");
  EXPECT_EQ(nodes[1].shape, (Shape{3, 4}));
  EXPECT_EQ(nodes[1].dtype, DType::f64);
  EXPECT_EQ(nodes[2].path, "/float_root/datacube");
  EXPECT_EQ(nodes[2].dtype, DType::f32);

  // The u16 cube as a Source: shape, frames, calibration, root metadata.
  auto src = open_emd(path);
  const DatasetInfo& info = src->info();
  EXPECT_EQ(info.format, "emd");
  EXPECT_EQ(info.path, path.string());
  EXPECT_EQ(info.shape(), (Shape{3, 4, 5, 6}));
  EXPECT_EQ(info.dtype, DType::u16);
  EXPECT_EQ(src->preferred_block_frames(), 1);
  expect_same_calibration(info.calibration, cal);
  ASSERT_TRUE(info.metadata.contains("acquisition"));
  EXPECT_FALSE(info.metadata.contains("calibration"));
  EXPECT_EQ(info.metadata["acquisition"], md);
  std::vector<std::uint16_t> all(12 * 30);
  src->read(0, 12, reinterpret_cast<std::byte*>(all.data()));
  EXPECT_EQ(all, make_frames<std::uint16_t>(0, 12, 30, u16_value));
  std::vector<std::uint16_t> middle(6 * 30);
  src->read(3, 6, reinterpret_cast<std::byte*>(middle.data()));  // rows 0..2, partial at both ends
  EXPECT_EQ(middle, make_frames<std::uint16_t>(3, 6, 30, u16_value));
  std::vector<std::uint16_t> rows(8 * 30);
  src->read(4, 8, reinterpret_cast<std::byte*>(rows.data()));  // two whole scan rows
  EXPECT_EQ(rows, make_frames<std::uint16_t>(4, 8, 30, u16_value));
  EXPECT_THROW(src->read(10, 3, reinterpret_cast<std::byte*>(rows.data())), InvalidArgument);

  // The f32 cube by path, with the default calibration of its own root.
  auto fsrc = open_emd(path, "float_root/datacube");
  EXPECT_EQ(fsrc->info().shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(fsrc->info().dtype, DType::f32);
  expect_same_calibration(fsrc->info().calibration, Calibration{});
  EXPECT_TRUE(fsrc->info().metadata.empty());
  std::vector<float> fall(6 * 20);
  fsrc->read(0, 6, reinterpret_cast<std::byte*>(fall.data()));
  EXPECT_EQ(fall, make_frames<float>(0, 6, 20, f32_value));

  // The 2D RealSlice: data, axes, units, provenance.
  const Result back = read_emd_array(path, "/scan_root/bright_field");
  EXPECT_EQ(back.name, "bright_field");
  ASSERT_EQ(back.data.dtype(), DType::f64);
  ASSERT_EQ(back.data.shape(), (Shape{3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(back.data.data<double>()[i], bf.data.data<double>()[i]);
  ASSERT_EQ(back.axes.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(back.axes[k].name, bf.axes[k].name);
    EXPECT_EQ(back.axes[k].origin, bf.axes[k].origin);
    EXPECT_EQ(back.axes[k].step, bf.axes[k].step);
    EXPECT_EQ(back.axes[k].units, bf.axes[k].units);
  }
  EXPECT_EQ(back.units, "counts");
  EXPECT_EQ(back.provenance, bf.provenance);

  // The datacube as an array: py4DSTEM's axis names and calibrated steps.
  const Result cube = read_emd_array(path, "scan_root/datacube");
  EXPECT_EQ(cube.units, "pixel intensity");
  ASSERT_EQ(cube.axes.size(), 4u);
  const char* names[] = {"Rx", "Ry", "Qx", "Qy"};
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(cube.axes[k].name, names[k]);
    EXPECT_EQ(cube.axes[k].origin, 0.0);
    EXPECT_EQ(cube.axes[k].step, k < 2 ? 0.25 : 0.0125);
    EXPECT_EQ(cube.axes[k].units, k < 2 ? "nm" : "A^-1");
  }
  ASSERT_EQ(cube.data.nbytes(), all.size() * 2);
  EXPECT_EQ(std::memcmp(cube.data.bytes(), all.data(), cube.data.nbytes()), 0);

  // Metadata and calibration through their own readers.
  EXPECT_EQ(read_emd_metadata(path, "scan_root/metadatabundle/acquisition"), md);
  expect_same_calibration(read_emd_calibration(path, "scan_root"), cal);
  expect_same_calibration(read_emd_calibration(path, "/float_root"), Calibration{});
}

TEST(Emd, CalibrationIsStoredInPy4dstemKeysAndAxes) {
  // py4DSTEM names the first detector axis Qx: our row origin is its qx0_mean, our rotation
  // is reversed and the ellipse angle is measured from the other axis.
  TempDir dir;
  const fs::path path = dir / "cal.h5";
  Calibration cal = full_calibration();
  cal.radiation = Radiation::xray;
  {
    EmdWriter w(path);
    w.add_root("root", cal);
    w.commit();
  }
  const Metadata c = read_emd_metadata(path, "root/metadatabundle/calibration");
  EXPECT_EQ(c["Q_pixel_size"], 0.0125);
  EXPECT_EQ(c["R_pixel_size"], 0.25);
  EXPECT_EQ(c["Q_pixel_units"], "A^-1");
  EXPECT_EQ(c["R_pixel_units"], "nm");
  EXPECT_EQ(c["QR_flip"], true);
  EXPECT_EQ(c["QR_rotation"], -0.125);
  EXPECT_DOUBLE_EQ(c["QR_rotation_degrees"].get<double>(), -0.125 * 180 / std::numbers::pi);
  EXPECT_EQ(c["qx0_mean"], 2.5);
  EXPECT_EQ(c["qy0_mean"], 3.25);
  EXPECT_EQ(c["qx0"][1][0], 2.5 + 0.125 * 4);  // (ry=1, rx=0) of origin_qy_map
  EXPECT_EQ(c["qy0"][0][1], 3.25 - 0.0625);
  EXPECT_EQ(c["a"], 3.5);
  EXPECT_EQ(c["b"], 3.0);
  EXPECT_DOUBLE_EQ(c["theta"].get<double>(), std::numbers::pi / 2 - 0.3);
  EXPECT_EQ(c["radiation"], "xray");
  EXPECT_EQ(c["_root_treepath"], "");
  EXPECT_EQ(c["_target_paths"], Metadata::array());  // no datacube in this root
  expect_same_calibration(read_emd_calibration(path, "root"), cal);
}

TEST(Emd, UncommittedWriterLeavesNoFile) {
  TempDir dir;
  {
    EmdWriter w(dir / "never.h5");
    w.add_root("r", Calibration{});
    w.add_datacube("r", "datacube", {2, 2, 3, 3}, DType::u8, Calibration{});
    std::vector<std::uint8_t> frame(9, 7);
    w.write_frames("r", "datacube", 0, 1, bytes(frame.data()));
    EXPECT_FALSE(dir.entries().empty());  // the temporary file exists while writing
  }
  EXPECT_TRUE(dir.entries().empty());
  {
    // commit() refuses a datacube with frames missing, and nothing is left behind.
    EmdWriter w(dir / "incomplete.h5");
    w.add_root("r", Calibration{});
    w.add_datacube("r", "datacube", {2, 2, 3, 3}, DType::u8, Calibration{});
    std::vector<std::uint8_t> frames(3 * 9, 1);
    w.write_frames("r", "datacube", 0, 3, bytes(frames.data()));
    expect_error<InvalidArgument>([&] { w.commit(); }, "incomplete.h5", "3 of its 4 frames");
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Emd, WriterRejectsInvalidRequests) {
  TempDir dir;
  EmdWriter w(dir / "bad.h5");
  Calibration cal;
  EXPECT_THROW(w.add_datacube("nope", "datacube", {1, 1, 2, 2}, DType::u8, cal), InvalidArgument);
  w.add_root("r", cal);
  EXPECT_THROW(w.add_root("r", cal), InvalidArgument);
  EXPECT_THROW(w.add_root("a/b", cal), InvalidArgument);
  EXPECT_THROW(w.add_datacube("r", "cube", {1, 2, 2}, DType::u8, cal), InvalidArgument);
  EXPECT_THROW(w.add_datacube("r", "cube", {1, 0, 2, 2}, DType::u8, cal), InvalidArgument);
  w.add_datacube("r", "cube", {1, 2, 2, 2}, DType::u8, cal);
  EXPECT_THROW(w.add_datacube("r", "cube", {1, 2, 2, 2}, DType::u8, cal), InvalidArgument);
  std::vector<std::uint8_t> frames(3 * 4);
  expect_error<InvalidArgument>([&] { w.write_frames("r", "cube", 1, 2, bytes(frames.data())); }, "bad.h5",
                                "frames [1, 3)");
  EXPECT_THROW(w.write_frames("r", "cube", -1, 1, bytes(frames.data())), InvalidArgument);
  EXPECT_THROW(w.write_frames("r", "other", 0, 1, bytes(frames.data())), InvalidArgument);
  EXPECT_THROW(w.add_metadata("r", "calibration", Metadata::object()), InvalidArgument);
  EXPECT_THROW(w.add_metadata("r", "md", Metadata::array()), InvalidArgument);
  Metadata objects;
  objects["objects"] = Metadata::array({Metadata{{"a", 1}}});  // arrays of dicts have no EMD form
  EXPECT_THROW(w.add_metadata("r", "md2", objects), InvalidArgument);
  Result r;
  r.name = "img";
  r.data = Array(DType::f32, {2, 2});
  r.axes = {Axis{}};  // one axis for 2D data
  EXPECT_THROW(w.add_array("r", r, "RealSlice"), InvalidArgument);
  w.write_frames("r", "cube", 0, 2, bytes(frames.data()));
  w.commit();
  EXPECT_THROW(w.add_root("late", cal), InvalidArgument);
  EXPECT_TRUE(fs::exists(dir / "bad.h5"));
}

TEST(Emd, ReadsConcurrentlyFromThreads) {
  TempDir dir;
  const fs::path path = dir / "threads.h5";
  {
    EmdWriter w(path);
    w.add_root("r", Calibration{});
    w.add_datacube("r", "datacube", {8, 8, 5, 6}, DType::u16, Calibration{});
    const auto frames = make_frames<std::uint16_t>(0, 64, 30, u16_value);
    w.write_frames("r", "datacube", 0, 64, bytes(frames.data()));
    w.commit();
  }
  auto src = open_emd(path);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep) {
        const std::int64_t first = (t * 7 + rep * 3) % 60, count = 1 + (t + rep) % 4;
        std::vector<std::uint16_t> buf(static_cast<std::size_t>(count * 30));
        src->read(first, count, reinterpret_cast<std::byte*>(buf.data()));
        if (buf != make_frames<std::uint16_t>(first, count, 30, u16_value)) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Emd, ChunkedDataAndUnsupportedTypes) {
  TempDir dir;
  const fs::path path = dir / "chunked.h5";
  write_small_emd(path);
  replace_cube_data(path, H5T_STD_U16LE, {1, 3, 4, 5});  // one chunk = one scan row of 3 frames
  {
    auto src = open_emd(path);
    EXPECT_EQ(src->preferred_block_frames(), 3);
    std::vector<std::uint16_t> all(120);
    src->read(0, 6, reinterpret_cast<std::byte*>(all.data()));
    for (int i = 0; i < 120; ++i) EXPECT_EQ(all[i], i);
  }
  replace_cube_data(path, H5T_STD_U16BE, {2, 1, 4, 5});  // two scan rows per chunk, big-endian
  {
    auto src = open_emd(path);
    EXPECT_EQ(src->preferred_block_frames(), 6);
    std::vector<std::uint16_t> frames(2 * 20);
    src->read(2, 2, reinterpret_cast<std::byte*>(frames.data()));
    for (int i = 0; i < 40; ++i) EXPECT_EQ(frames[i], 40 + i);
  }
  replace_cube_data(path, H5T_STD_U16LE, {1, 1, 4, 5}, 40000);  // an unregistered filter id: no plugin has it
  expect_error<FormatError>([&] { open_emd(path); }, path.string(), "filter 40000");
  expect_error<FormatError>([&] { read_emd_array(path, "r/datacube"); }, path.string(), "filter 40000");
  replace_cube_data(path, H5T_STD_I64LE);
  expect_error<FormatError>([&] { open_emd(path); }, path.string(), "int64");
  expect_error<FormatError>([&] { read_emd_array(path, "r/datacube"); }, path.string(), "int64");
  const auto nodes = list_emd_nodes(path);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_FALSE(nodes[0].dtype_supported);
  EXPECT_EQ(nodes[0].type_name, "int64");
}

TEST(Emd, RealPy4dstemFile) {
  const fs::path path = fs::path(SCANDIFF_SHARED_DATA) / "hdf5" / "py4DSTEM_size2x3x4x5.h5";
  if (!fs::exists(path)) GTEST_SKIP() << "shared test data not found: " << path;
  EXPECT_TRUE(is_hdf5_file(path));
  const auto nodes = list_emd_nodes(path);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].path, "/datacube_root/datacube");
  EXPECT_EQ(nodes[0].python_class, "DataCube");

  auto src = open_emd(path);
  const DatasetInfo& info = src->info();
  EXPECT_EQ(info.shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(info.dtype, DType::f32);
  EXPECT_EQ(info.calibration.scan_pixel_size, 0.126796875);
  EXPECT_EQ(info.calibration.scan_units, "nm");
  EXPECT_EQ(info.calibration.detector_pixel_size, 0.044251566616087125);
  EXPECT_EQ(info.calibration.detector_units, "A^-1");
  EXPECT_FALSE(info.calibration.qr_flip);
  EXPECT_FALSE(info.calibration.origin_qx_px.has_value());
  EXPECT_FALSE(info.calibration.ellipse.has_value());
  EXPECT_TRUE(info.metadata.empty());

  std::vector<float> frames(6 * 20);
  src->read(0, 6, reinterpret_cast<std::byte*>(frames.data()));
  // The Source and the whole-array reader agree byte for byte.
  const Result whole = read_emd_array(path, "datacube_root/datacube");
  ASSERT_EQ(whole.data.nbytes(), frames.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(whole.data.bytes(), frames.data(), whole.data.nbytes()), 0);
  // Values as h5py reads them: data[0,0,0,0], data[1,2,3,4], data[0,1,2,3] and the total.
  EXPECT_EQ(frames[0], 472.5212f);
  EXPECT_EQ(frames[5 * 20 + 3 * 5 + 4], 772.6739f);
  EXPECT_EQ(frames[1 * 20 + 2 * 5 + 3], -10.970058f);
  double sum = 0;
  for (float v : frames) sum += v;
  EXPECT_NEAR(sum, 28255.876245498657, 1e-6);
  // Reading frames one by one gives the same as one block.
  for (std::int64_t f = 0; f < 6; ++f) {
    std::vector<float> one(20);
    src->read(f, 1, reinterpret_cast<std::byte*>(one.data()));
    EXPECT_EQ(std::memcmp(one.data(), frames.data() + f * 20, 80), 0) << "frame " << f;
  }
  // The py4DSTEM dims: Rx/Ry in nm, Qx/Qy in A^-1, starting at 0.
  ASSERT_EQ(whole.axes.size(), 4u);
  EXPECT_EQ(whole.axes[0].name, "Rx");
  EXPECT_EQ(whole.axes[0].step, 0.126796875);
  EXPECT_EQ(whole.axes[3].name, "Qy");
  EXPECT_EQ(whole.axes[3].units, "A^-1");
  EXPECT_EQ(whole.axes[3].step, 0.044251566616087125);
  // Its calibration dictionary, with emdfile's variable-length byte-string `type` attributes.
  const Metadata c = read_emd_metadata(path, "datacube_root/metadatabundle/calibration");
  EXPECT_EQ(c["_target_paths"], Metadata::array({"/datacube"}));
  EXPECT_EQ(c["_root_treepath"], "");
  EXPECT_EQ(c["QR_flip"], false);
}

TEST(Emd, MalformedInputThrowsNamingTheFile) {
  TempDir dir;
  const fs::path missing = dir / "missing.h5";
  const fs::path folder = dir / "folder.h5";
  fs::create_directory(folder);
  const fs::path text = dir / "notes.h5";
  std::ofstream(text) << "this is not an HDF5 file, just some text that is long enough to scan\n";
  const fs::path plain = dir / "plain.h5";  // valid HDF5, not EMD
  {
    hid_t f = H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
  }
  const fs::path truncated = dir / "truncated.h5";
  {
    EmdWriter w(truncated);
    w.add_root("r", Calibration{});
    w.add_datacube("r", "datacube", {4, 4, 16, 16}, DType::u16, Calibration{});
    const auto frames = make_frames<std::uint16_t>(0, 16, 256, u16_value);
    w.write_frames("r", "datacube", 0, 16, bytes(frames.data()));
    w.commit();
  }
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  const fs::path no4d = dir / "no4d.h5";
  {
    EmdWriter w(no4d);
    w.add_root("r", Calibration{});
    Result r;
    r.name = "image";
    r.data = Array(DType::f32, {3, 3});
    w.add_array("r", r, "RealSlice");
    w.commit();
  }
  EXPECT_FALSE(is_hdf5_file(missing));
  EXPECT_FALSE(is_hdf5_file(folder));
  EXPECT_FALSE(is_hdf5_file(text));
  EXPECT_TRUE(is_hdf5_file(plain));

  struct Case {
    fs::path path;
    bool io_error;
    std::string phrase;
  };
  const std::vector<Case> cases = {
      {missing, true, "no such file"},
      {folder, true, "folder"},
      {text, false, "is not an HDF5 file (expected an EMD 1.0 .h5/.emd file)"},
      {truncated, false, "truncated"},
      {plain, false, "not EMD 1.0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path.string());
    const std::string name = c.path.string();
    if (c.io_error) {
      expect_error<IoError>([&] { open_emd(c.path); }, name, c.phrase);
      expect_error<IoError>([&] { list_emd_nodes(c.path); }, name, c.phrase);
      expect_error<IoError>([&] { read_emd_array(c.path, "r/datacube"); }, name, c.phrase);
      expect_error<IoError>([&] { read_emd_metadata(c.path, "r/metadatabundle/x"); }, name, c.phrase);
      expect_error<IoError>([&] { read_emd_calibration(c.path, "r"); }, name, c.phrase);
    } else {
      expect_error<FormatError>([&] { open_emd(c.path); }, name, c.phrase);
      expect_error<FormatError>([&] { list_emd_nodes(c.path); }, name, c.phrase);
      expect_error<FormatError>([&] { read_emd_array(c.path, "r/datacube"); }, name, c.phrase);
      expect_error<FormatError>([&] { read_emd_metadata(c.path, "r/metadatabundle/x"); }, name, c.phrase);
      expect_error<FormatError>([&] { read_emd_calibration(c.path, "r"); }, name, c.phrase);
    }
  }
  // A valid EMD file without a 4D array, and paths that do not exist.
  expect_error<FormatError>([&] { open_emd(no4d); }, no4d.string(), "no 4D array");
  expect_error<FormatError>([&] { open_emd(no4d, "r/image"); }, no4d.string(), "expected a 4D");
  expect_error<FormatError>([&] { open_emd(no4d, "r/nothing"); }, no4d.string(), "r/nothing");
  expect_error<FormatError>([&] { read_emd_array(no4d, "r/nothing/deeper"); }, no4d.string(), "r/nothing");
  expect_error<FormatError>([&] { read_emd_array(no4d, "r/metadatabundle"); }, no4d.string(), "not an EMD array");
  expect_error<FormatError>([&] { read_emd_metadata(no4d, "r/metadatabundle/x"); }, no4d.string(), "x");
  expect_error<FormatError>([&] { read_emd_calibration(no4d, "other_root"); }, no4d.string(), "other_root");
  // The writer refuses a target in a missing folder.
  expect_error<IoError>([&] { EmdWriter w(dir / "no_such_dir" / "x.h5"); }, "x.h5");
}

TEST(Emd, UserBlockHdf5IsRecognised) {
  TempDir dir;
  const fs::path path = dir / "userblock.h5";
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_userblock(fcpl, 1024);
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
  H5Fclose(f);
  H5Pclose(fcpl);
  EXPECT_TRUE(is_hdf5_file(path));
  expect_error<FormatError>([&] { list_emd_nodes(path); }, path.string(), "not EMD 1.0");
}
