// Slow: a 2 GiB simulated file streamed with a 64 MiB budget keeps the peak resident set
// under the budget plus a fixed overhead. The peak is measured for the pass alone by
// resetting the high-water mark (/proc/self/clear_refs) just before it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scandiff/engine/run.hpp"
#include "scandiff/engine/write_frames.hpp"
#include "scandiff/io/raw_source.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/sim/simulated_source.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"

using namespace scandiff;

namespace {

// A field of /proc/self/status in bytes (e.g. "VmRSS", "VmHWM"), or -1.
long long status_bytes(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1)) * 1024;
  }
  return -1;
}

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f);
}

}  // namespace

TEST(SlowMemoryBudget, TwoGiBFileWith64MiBBudget) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "scandiff_budget_2GiB.raw";
  sim::CrystalScanParams p;
  p.scan_y = 128;
  p.scan_x = 128;
  p.frame_y = 256;
  p.frame_x = 256;  // 128 x 128 x 256 x 256 x 2 B = 2 GiB
  p.g1_px = {40, 8};
  p.g2_px = {-12, 38};
  p.max_g_px = 120;
  p.disk_radius_px = 6;
  p.noise = sim::Noise::none;
  sim::SimulatedSource simulated(p);
  ASSERT_EQ(simulated.info().total_bytes(), std::size_t{2} << 30);
  {
    io::RawWriter writer(path, simulated.info());
    engine::WriteFrames write(writer);
    engine::Analysis* list[] = {&write};
    engine::RunOptions o;
    o.memory_budget = std::size_t{256} << 20;
    engine::run(simulated, list, o);
    writer.commit();
  }

  io::RawLayout layout{128, 128, 256, 256, DType::u16, 0, false};
  io::RawSource source(path, layout);
  stem::VirtualDiffraction diffraction;
  stem::VirtualImage bf("bf", stem::Detector::circle(256, 256, 127.5, 127.5, 10));
  engine::Analysis* list[] = {&diffraction, &bf};
  engine::RunOptions o;
  o.memory_budget = std::size_t{64} << 20;
  o.threads = 2;

  if (!reset_peak_rss()) GTEST_SKIP() << "/proc/self/clear_refs is not writable here: cannot measure the peak RSS";
  const long long before = status_bytes("VmRSS");
  const auto stats = engine::run(source, list, o);
  const long long peak = status_bytes("VmHWM");
  std::filesystem::remove(path);

  ASSERT_GT(before, 0);
  const long long growth = peak - before;
  const long long overhead = 16ll << 20;  // thread stacks, allocator arenas, TBB
  std::printf("[ memory ] 2 GiB file, budget 64 MiB: peak RSS %.1f MiB (baseline %.1f MiB, growth %.1f MiB), "
              "%lld blocks of %lld frames, %lld in flight, %.2f s\n",
              static_cast<double>(peak) / (1 << 20), static_cast<double>(before) / (1 << 20),
              static_cast<double>(growth) / (1 << 20), static_cast<long long>(stats.blocks),
              static_cast<long long>(stats.block_frames), static_cast<long long>(stats.blocks_in_flight),
              stats.seconds);
  EXPECT_EQ(stats.frames, 128 * 128);
  EXPECT_LT(growth, static_cast<long long>(o.memory_budget) + overhead);
  // The pass really read the data: the mean pattern's total equals the image sum's scale.
  double mean_total = 0;
  for (std::int64_t i = 0; i < diffraction.mean().size(); ++i) mean_total += diffraction.mean().data<double>()[i];
  EXPECT_GT(mean_total, 0);
}
