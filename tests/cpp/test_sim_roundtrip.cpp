// The simulator's frames and ground truth survive the EMD writer and reader exactly.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "scandiff/engine/run.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/sim/simulated_source.hpp"

using namespace scandiff;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir(const char* name) {
  fs::path d = fs::temp_directory_path() / fs::path(std::string("scandiff_test_") + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(SimRoundTrip, FramesAndGroundTruthThroughEmd) {
  const fs::path dir = temp_dir("sim_roundtrip");
  sim::CrystalScanParams p;
  p.scan_y = 5;
  p.scan_x = 7;
  p.frame_y = 48;
  p.frame_x = 40;
  p.g1_px = {9, 2};
  p.g2_px = {-2, 8};
  p.disk_radius_px = 2.5;
  p.strain.exx.bump = 0.02;
  p.strain.rotation_rad.wave = 0.01;
  p.descan_per_rx_px = {0.1, -0.05};
  p.ellipse = {1.05, 0.3};
  p.noise = sim::Noise::poisson;
  p.seed = 11;
  sim::SimulatedSource source(p);

  const fs::path data = dir / "scan.h5";
  {
    io::EmdWriter writer(data);
    writer.add_root("datacube_root", source.info().calibration);
    writer.add_datacube("datacube_root", "datacube", source.info().shape(), source.info().dtype,
                        source.info().calibration);
    io::EmdDataCubeSink sink(writer, "datacube_root", "datacube");
    engine::WriteFrames write(sink);
    engine::Analysis* list[] = {&write};
    engine::RunOptions o;
    o.block_frames = 4;  // blocks that straddle scan rows
    o.threads = 2;
    engine::run(source, list, o);
    for (const Result& r : source.generator().ground_truth()) writer.add_array("datacube_root", r, "RealSlice");
    writer.add_metadata("datacube_root", "simulation", source.generator().parameters());
    writer.commit();
  }

  // Frames: what the EMD source reads equals what the simulator renders.
  auto emd = io::open_emd(data);
  ASSERT_EQ(emd->info().shape(), source.info().shape());
  ASSERT_EQ(emd->info().dtype, DType::u16);
  const std::size_t bytes = source.info().total_bytes();
  std::vector<std::byte> a(bytes), b(bytes);
  emd->read(0, emd->info().frame_count(), a.data());
  source.read(0, source.info().frame_count(), b.data());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), bytes), 0);

  // Ground truth maps, exactly.
  for (const Result& truth : source.generator().ground_truth()) {
    const Result back = io::read_emd_array(data, "datacube_root/" + truth.name);
    ASSERT_EQ(back.data.shape(), truth.data.shape()) << truth.name;
    ASSERT_EQ(back.data.dtype(), truth.data.dtype()) << truth.name;
    EXPECT_EQ(std::memcmp(back.data.bytes(), truth.data.bytes(), truth.data.nbytes()), 0) << truth.name;
    EXPECT_EQ(back.units, truth.units) << truth.name;
  }
  // Parameters, as JSON.
  EXPECT_EQ(io::read_emd_metadata(data, "datacube_root/metadatabundle/simulation"), source.generator().parameters());
  // Calibration: origin and ellipse as the simulator declared them.
  const Calibration cal = io::read_emd_calibration(data, "datacube_root");
  ASSERT_TRUE(cal.origin_qx_px && cal.ellipse);
  EXPECT_DOUBLE_EQ(*cal.origin_qx_px, *source.info().calibration.origin_qx_px);
  EXPECT_NEAR(cal.ellipse->theta_rad, 0.3, 1e-12);
  fs::remove_all(dir);
}
