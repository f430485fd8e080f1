// HyperSpy (.hspy) writer and reader, chunking and compression filters, the Dectris NeXus
// reader, and their answers to bad input.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "mib_test_util.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/io/dectris.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/hdf5_storage.hpp"
#include "scandiff/io/hspy.hpp"
#include "scandiff/io/open.hpp"

namespace fs = std::filesystem;
using namespace scandiff;
using namespace scandiff::io;
using scandiff_test::TempDir;

namespace {

DatasetInfo small_layout(DType dtype = DType::u16) {
  DatasetInfo info;
  info.path = "<test>";
  info.scan_y = 3;
  info.scan_x = 5;
  info.frame_y = 6;
  info.frame_x = 7;
  info.dtype = dtype;
  info.calibration.scan_pixel_size = 0.25;
  info.calibration.scan_units = "nm";
  info.calibration.detector_pixel_size = 0.0125;
  info.calibration.detector_units = "A^-1";
  return info;
}

// Frame f, pixel p: a value that differs everywhere and fits in 16 bits.
std::vector<std::uint16_t> pattern(const DatasetInfo& info) {
  std::vector<std::uint16_t> v(static_cast<std::size_t>(info.frame_count() * info.frame_pixels()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>((i * 7919) % 65521);
  return v;
}

std::vector<std::uint16_t> read_all(Source& src) {
  const auto& info = src.info();
  std::vector<std::uint16_t> out(static_cast<std::size_t>(info.frame_count() * info.frame_pixels()));
  src.read(0, info.frame_count(), reinterpret_cast<std::byte*>(out.data()));
  return out;
}

// Writes the test pattern as a HyperSpy file in blocks of `block` frames.
void write_hspy(const fs::path& path, const DatasetInfo& info, const Hdf5Storage& storage, std::int64_t block = 4) {
  const auto values = pattern(info);
  HspyWriter w(path, info, storage);
  for (std::int64_t f = 0; f < info.frame_count(); f += block) {
    const std::int64_t n = std::min(block, info.frame_count() - f);
    w.write_frames(f, n, reinterpret_cast<const std::byte*>(values.data() + f * info.frame_pixels()));
  }
  w.add_original_metadata("test", {{"a", 1}, {"b", {{"c", "text"}, {"d", nullptr}}}, {"e", {1, 2, 3}}});
  w.commit();
}

template <class E, class F>
void expect_error(F&& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    FAIL() << "wrong exception type: " << e.what();
  }
}

}  // namespace

TEST(Hdf5Layouts, HspyRoundTripEveryStorage) {
  TempDir dir("hspy_roundtrip");
  const DatasetInfo info = small_layout();
  const auto expected = pattern(info);
  struct Case {
    std::string name;
    Hdf5Storage storage;
  };
  std::vector<Case> cases = {{"contiguous", {}},
                             {"frame", {1, Hdf5Compression::none, 0}},
                             {"row", {1000, Hdf5Compression::none, 0}},
                             {"gzip3", {3, Hdf5Compression::gzip, 6}}};
  for (auto c : {Hdf5Compression::lz4, Hdf5Compression::bitshuffle_lz4, Hdf5Compression::blosc}) {
    if (hdf5_filter_available(hdf5_filter_id(c)))
      cases.push_back({std::string(name_of(c)), {1, c, 0}});
    else
      ADD_FAILURE() << "HDF5 filter " << hdf5_filter_id(c) << " (" << name_of(c)
                    << ") is not available: scripts/install-deps installs its plugin";
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path path = dir / (c.name + ".hspy");
    write_hspy(path, info, c.storage, 4);  // blocks of 4 frames cut chunks of 3 and rows of 5
    EXPECT_TRUE(is_hspy_file(path));
    EXPECT_FALSE(is_dectris_file(path));
    auto src = open(path);
    EXPECT_EQ(src->info().format, "hyperspy");
    EXPECT_EQ(src->info().shape(), info.shape());
    EXPECT_EQ(src->info().dtype, DType::u16);
    EXPECT_DOUBLE_EQ(src->info().calibration.scan_pixel_size, 0.25);
    EXPECT_EQ(src->info().calibration.scan_units, "nm");
    EXPECT_DOUBLE_EQ(src->info().calibration.detector_pixel_size, 0.0125);
    EXPECT_EQ(src->info().calibration.detector_units, "A^-1");
    EXPECT_EQ(src->info().metadata.at("hyperspy").at("experiment"), "/Experiments/__unnamed__");
    EXPECT_EQ(read_all(*src), expected);
    // A range across segments of chunks.
    std::vector<std::uint16_t> part(static_cast<std::size_t>(6 * info.frame_pixels()));
    src->read(4, 6, reinterpret_cast<std::byte*>(part.data()));
    EXPECT_TRUE(std::equal(part.begin(), part.end(), expected.begin() + 4 * info.frame_pixels()));
    if (c.storage.chunked()) {
      EXPECT_EQ(src->preferred_block_frames(), c.storage.frames_per_chunk(info.scan_x));
    }
  }
}

TEST(Hdf5Layouts, EmdDatacubeCompressed) {
  TempDir dir("emd_compressed");
  const DatasetInfo info = small_layout();
  const auto values = pattern(info);
  const fs::path path = dir / "cube.h5";
  {
    EmdWriter w(path);
    w.add_root("r", info.calibration);
    w.add_datacube("r", "datacube", info.shape(), info.dtype, info.calibration, {2, Hdf5Compression::gzip, 1});
    w.write_frames("r", "datacube", 0, info.frame_count(), reinterpret_cast<const std::byte*>(values.data()));
    w.commit();
  }
  auto src = open(path);
  EXPECT_EQ(src->info().format, "emd");
  EXPECT_EQ(src->preferred_block_frames(), 2);
  EXPECT_EQ(read_all(*src), values);
}

TEST(Hdf5Layouts, StorageOptionsChecked) {
  EXPECT_EQ(parse_hdf5_compression("bslz4", "--compression"), Hdf5Compression::bitshuffle_lz4);
  expect_error<InvalidArgument>([] { parse_hdf5_compression("zstd", "--compression"); }, {"--compression", "zstd"});
  EXPECT_EQ((Hdf5Storage{0, Hdf5Compression::gzip, 0}).frames_per_chunk(10), 1);
  EXPECT_EQ((Hdf5Storage{99, Hdf5Compression::none, 0}).frames_per_chunk(10), 10);
  EXPECT_EQ((Hdf5Storage{}).describe(10), "contiguous");
  EXPECT_EQ((Hdf5Storage{1, Hdf5Compression::gzip, 0}).describe(10), "chunks of 1 frame, gzip level 4");
  TempDir dir("storage_checked");
  const DatasetInfo info = small_layout();
  expect_error<InvalidArgument>([&] { HspyWriter w(dir / "x.hspy", info, {1, Hdf5Compression::gzip, 12}); },
                                {"level 12", "1..9"});
  EXPECT_FALSE(fs::exists(dir / "x.hspy"));
  EXPECT_FALSE(hdf5_filter_available(40000));
}

TEST(Hdf5Layouts, HspyWriterRefusesMissingFrames) {
  TempDir dir("hspy_missing");
  const DatasetInfo info = small_layout();
  const auto values = pattern(info);
  {
    HspyWriter w(dir / "x.hspy", info);
    w.write_frames(0, 3, reinterpret_cast<const std::byte*>(values.data()));
    expect_error<InvalidArgument>([&] { w.commit(); }, {"only 3 of the signal's 15 frames"});
    expect_error<InvalidArgument>([&] { w.write_frames(14, 2, reinterpret_cast<const std::byte*>(values.data())); },
                                  {"frames [14, 16)", "15 frames"});
  }
  EXPECT_TRUE(fs::is_empty(dir.path));  // the temporary file is gone
}

namespace {

// A hand-made HyperSpy-like file: /Experiments/<name>/data of `shape` with optional axis groups.
void make_hspy(const fs::path& path, const std::vector<hsize_t>& shape, bool with_format = true,
               int navigate_wrong_axis = -1) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  if (with_format) {
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    hid_t a = H5Acreate2(f, "file_format", t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, "HyperSpy");
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(s);
  }
  hid_t g = H5Gcreate2(f, "/Experiments", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t e = H5Gcreate2(g, "sig", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (!shape.empty()) {
    hid_t space = H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr);
    hid_t d = H5Dcreate2(e, "data", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t n = 1;
    for (auto s : shape) n *= s;
    std::vector<std::uint8_t> v(n);
    for (hsize_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i);
    H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Sclose(space);
    for (std::size_t i = 0; i < shape.size(); ++i) {
      hid_t ax = H5Gcreate2(e, ("axis-" + std::to_string(i)).c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      hid_t s = H5Screate(H5S_SCALAR);
      const int axis = static_cast<int>(i);
      const std::int8_t nav = (axis < static_cast<int>(shape.size()) - 2) != (axis == navigate_wrong_axis);
      hid_t a = H5Acreate2(ax, "navigate", H5T_NATIVE_INT8, s, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, H5T_NATIVE_INT8, &nav);
      H5Aclose(a);
      H5Sclose(s);
      H5Gclose(ax);
    }
  }
  H5Gclose(e);
  H5Gclose(g);
  H5Fclose(f);
}

}  // namespace

TEST(Hdf5Layouts, HspyBadInput) {
  TempDir dir("hspy_bad");
  const fs::path two_d = dir / "two_d.hspy";
  make_hspy(two_d, {4, 5});
  expect_error<FormatError>([&] { open(two_d); }, {two_d.string(), "no 3D or 4D signal", "/Experiments/sig (4, 5)"});
  expect_error<FormatError>([&] { open_hspy(two_d, {"sig", std::nullopt}); }, {"2-dimensional", "expected a 4D"});
  const fs::path no_data = dir / "no_data.hspy";
  make_hspy(no_data, {});
  expect_error<FormatError>([&] { open(no_data); }, {no_data.string(), "no 3D or 4D signal", "no data"});
  expect_error<FormatError>([&] { open_hspy(no_data, {"other", std::nullopt}); }, {"no HyperSpy experiment 'other'"});
  const fs::path nav = dir / "nav.hspy";
  make_hspy(nav, {2, 3, 4, 5}, true, 2);
  expect_error<FormatError>([&] { open(nav); }, {"axis-2", "navigate = true"});

  // A 3D stack: 1 x N by default, or the scan shape given.
  const fs::path stack = dir / "stack.hspy";
  make_hspy(stack, {6, 4, 5}, false);  // no file_format attribute: /Experiments suffices
  {
    auto src = open(stack);
    EXPECT_EQ(src->info().shape(), (Shape{1, 6, 4, 5}));
    OpenOptions o;
    o.stack_scan_shape = std::pair<std::int64_t, std::int64_t>{2, 3};
    auto shaped = open(stack, o);
    EXPECT_EQ(shaped->info().shape(), (Shape{2, 3, 4, 5}));
    std::vector<std::uint8_t> frame(20);
    shaped->read(5, 1, reinterpret_cast<std::byte*>(frame.data()));
    EXPECT_EQ(frame[0], static_cast<std::uint8_t>(100));
    o.stack_scan_shape = std::pair<std::int64_t, std::int64_t>{3, 3};
    expect_error<InvalidArgument>([&] { open(stack, o); }, {"3 x 3 needs 9 frames", "holds 6"});
  }

  // Truncated: the data cannot be in the file.
  const DatasetInfo info = small_layout();
  const fs::path good = dir / "good.hspy";
  write_hspy(good, info, {});
  const fs::path cut = dir / "cut.hspy";
  fs::copy_file(good, cut);
  fs::resize_file(cut, fs::file_size(good) - 600);
  try {
    auto src = open(cut);
    read_all(*src);
    FAIL() << "a truncated file was read";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(cut.string()), std::string::npos) << e.what();
  }
}

namespace {

// A Dectris-like acquisition: <name>_master.h5 with links data_000001.. to <name>_data_00000k.h5
// files of `frames_per_file` frames of 4 x 3 uint32 (value = global frame * 100 + pixel).
void make_dectris(const fs::path& dir, const std::string& name, const std::vector<hsize_t>& frames_per_file,
                  bool gzip = true, int data_rank = 3) {
  std::uint32_t frame = 0;
  hid_t master = H5Fcreate((dir / (name + "_master.h5")).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t entry = H5Gcreate2(master, "/entry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t mdata = H5Gcreate2(entry, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  for (std::size_t k = 0; k < frames_per_file.size(); ++k) {
    const std::string data_name = name + "_data_00000" + std::to_string(k + 1) + ".h5";
    hid_t f = H5Fcreate((dir / data_name).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "/entry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t gd = H5Gcreate2(g, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = frames_per_file[k];
    const hsize_t dims[3] = {n, 4, 3};
    hid_t space = H5Screate_simple(data_rank, data_rank == 3 ? dims : dims + 1, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (gzip && data_rank == 3) {
      const hsize_t chunk[3] = {1, 4, 3};
      H5Pset_chunk(dcpl, 3, chunk);
      H5Pset_deflate(dcpl, 4);
    }
    hid_t d = H5Dcreate2(gd, "data", H5T_STD_U32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    std::vector<std::uint32_t> v(n * 12);
    for (hsize_t i = 0; i < n * 12; ++i) v[i] = static_cast<std::uint32_t>((frame + i / 12) * 100 + i % 12);
    frame += static_cast<std::uint32_t>(n);
    H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(gd);
    H5Gclose(g);
    H5Fclose(f);
    char link[32];
    std::snprintf(link, sizeof link, "data_%06zu", k + 1);
    H5Lcreate_external(data_name.c_str(), "/entry/data/data", mdata, link, H5P_DEFAULT, H5P_DEFAULT);
  }
  H5Gclose(mdata);
  H5Gclose(entry);
  H5Fclose(master);
}

}  // namespace

TEST(Hdf5Layouts, DectrisMasterAndDataFiles) {
  TempDir dir("dectris");
  make_dectris(dir.path, "scan", {4, 4, 1});  // 9 frames: a 3 x 3 square
  const fs::path master = dir / "scan_master.h5";
  EXPECT_TRUE(is_dectris_file(master));
  EXPECT_FALSE(is_hspy_file(master));
  auto src = open(master);
  EXPECT_EQ(src->info().format, "dectris");
  EXPECT_EQ(src->info().shape(), (Shape{3, 3, 4, 3}));
  EXPECT_EQ(src->info().dtype, DType::u32);
  EXPECT_EQ(src->info().metadata.at("scan_shape").at("source"), "square");
  std::vector<std::uint32_t> all(9 * 12);
  src->read(0, 9, reinterpret_cast<std::byte*>(all.data()));
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], (i / 12) * 100 + i % 12) << i;
  std::vector<std::uint32_t> across(3 * 12);  // frames 3..5 span the first two data files
  src->read(3, 3, reinterpret_cast<std::byte*>(across.data()));
  EXPECT_EQ(across[0], 300u);
  EXPECT_EQ(across[12], 400u);

  // Opened from another working folder: the links resolve beside the master.
  const fs::path cwd = fs::current_path();
  fs::current_path(fs::temp_directory_path());
  EXPECT_NO_THROW(open_dectris(fs::relative(master, fs::temp_directory_path()).lexically_normal()));
  fs::current_path(cwd);

  OpenOptions o;
  o.stack_scan_shape = std::pair<std::int64_t, std::int64_t>{2, 4};
  EXPECT_EQ(open(master, o)->info().shape(), (Shape{2, 4, 4, 3}));  // one frame left over
  o.stack_scan_shape = std::pair<std::int64_t, std::int64_t>{2, 5};
  expect_error<InvalidArgument>([&] { open(master, o); }, {"2 x 5 needs 10 frames", "holds 9"});

  // A data file names its master.
  expect_error<FormatError>([&] { open(dir / "scan_data_000001.h5"); }, {"Dectris data file", "scan_master.h5"});
  // Not a square, no scan metadata: 1 x N.
  make_dectris(dir.path, "flat", {2, 3});
  EXPECT_EQ(open(dir / "flat_master.h5")->info().shape(), (Shape{1, 5, 4, 3}));
}

TEST(Hdf5Layouts, DectrisBadInput) {
  TempDir dir("dectris_bad");
  make_dectris(dir.path, "gone", {2, 2});
  fs::remove(dir / "gone_data_000002.h5");
  expect_error<IoError>([&] { open(dir / "gone_master.h5"); }, {"data_000002", "gone_data_000002.h5", "missing"});
  make_dectris(dir.path, "rank", {2}, false, 2);
  expect_error<FormatError>([&] { open(dir / "rank_master.h5"); }, {"2-dimensional", "expected a 3D"});
  make_dectris(dir.path, "cut", {4}, false);
  fs::resize_file(dir / "cut_data_000001.h5", fs::file_size(dir / "cut_data_000001.h5") - 100);
  expect_error<FormatError>([&] { open(dir / "cut_master.h5"); }, {"cut"});
}

TEST(Hdf5Layouts, RealArinaAcquisition) {
  const fs::path master = fs::path(SCANDIFF_SHARED_DATA) / "hdf5" / "arina" / "test_00_master.h5";
  if (!fs::exists(master)) GTEST_SKIP() << "shared test data not found: " << master;
  if (!hdf5_filter_available(32008)) {
    ADD_FAILURE() << "bitshuffle filter 32008 not available (install the Debian package bitshuffle)";
    return;
  }
  auto src = open(master);
  const auto& info = src->info();
  EXPECT_EQ(info.format, "dectris");
  EXPECT_EQ(info.shape(), (Shape{4, 4, 192, 192}));  // NumPixelsY x NumPixelsX of test_00.h5
  EXPECT_EQ(info.dtype, DType::u32);
  EXPECT_EQ(info.metadata.at("scan_shape").at("source"), "scan metadata");
  EXPECT_EQ(info.metadata.at("dectris").at("description"), "Dectris ARINA CZT");
  EXPECT_EQ(info.calibration.radiation, Radiation::electron);
  ASSERT_TRUE(info.calibration.beam_energy_eV.has_value());
  EXPECT_DOUBLE_EQ(*info.calibration.beam_energy_eV, 300000.0);
  std::vector<std::uint32_t> all(static_cast<std::size_t>(16 * 192 * 192), 7);
  src->read(0, 16, reinterpret_cast<std::byte*>(all.data()));
  std::uint64_t total = 0;
  for (auto v : all) total += v;
  EXPECT_EQ(total, 0u);  // the public sample is a dark acquisition (h5py + hdf5plugin agree)
}

TEST(Hdf5Layouts, ContiguousFramesAreWrittenFromManyThreadsInAnyOrder) {
  TempDir dir("direct_frames");
  const DatasetInfo info = small_layout();
  const auto values = pattern(info);
  auto frame = [&](std::int64_t f) {
    return reinterpret_cast<const std::byte*>(values.data() + f * info.frame_pixels());
  };
  const fs::path hspy = dir / "threads.hspy", emd = dir / "threads.h5";
  {
    HspyWriter h(hspy, info);
    EmdWriter e(emd);
    e.add_root("r", info.calibration);
    e.add_datacube("r", "datacube", info.shape(), info.dtype, info.calibration);
    ASSERT_TRUE(h.concurrent());
    ASSERT_TRUE(e.concurrent_frames("r", "datacube"));
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        for (std::int64_t f = info.frame_count() - 1 - t; f >= 0; f -= 3) {  // backwards, interleaved
          h.write_frames(f, 1, frame(f));
          e.write_frames("r", "datacube", f, 1, frame(f));
        }
      });
    for (auto& t : threads) t.join();
    h.commit();
    e.commit();
  }
  EXPECT_EQ(read_all(*open(hspy)), values);
  EXPECT_EQ(read_all(*open(emd)), values);
  // Chunked storage goes through HDF5, in order.
  HspyWriter chunked(dir / "chunked.hspy", info, {1, Hdf5Compression::none, 0});
  EXPECT_FALSE(chunked.concurrent());
}
