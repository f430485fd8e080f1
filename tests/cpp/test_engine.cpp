// Engine: one pass feeds many analyses; results do not depend on the thread count;
// the memory budget is enforced; cancellation stops within one block.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "scandiff/engine/run.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/stem/virtual_diffraction.hpp"
#include "scandiff/stem/virtual_image.hpp"

using namespace scandiff;

namespace {

template <class T>
Array random_scan(std::int64_t sy, std::int64_t sx, std::int64_t fy, std::int64_t fx, unsigned seed) {
  Array a(dtype_v<T>, {sy, sx, fy, fx});
  std::mt19937 rng(seed);
  T* p = a.data<T>();
  for (std::int64_t i = 0; i < a.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      p[i] = static_cast<T>(std::uniform_real_distribution<double>(0, 1000)(rng)) / static_cast<T>(7);
    else
      p[i] = static_cast<T>(rng() % 4000);
  }
  return a;
}

bool bitwise_equal(const Array& a, const Array& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

struct Outputs {
  Array mean, max, bf;
};

Outputs run_with_threads(io::Source& src, int threads, std::int64_t block_frames = 0) {
  stem::VirtualDiffraction vd;
  const auto& info = src.info();
  stem::VirtualImage bf("bf", stem::Detector::circle(info.frame_y, info.frame_x, 7.5, 8.0, 5.0));
  engine::Analysis* list[] = {&vd, &bf};
  engine::RunOptions o;
  o.threads = threads;
  o.block_frames = block_frames;
  engine::run(src, list, o);
  return {vd.mean(), vd.max(), bf.image()};
}

}  // namespace

TEST(Engine, ResultsMatchADirectComputation) {
  Array data = random_scan<std::uint16_t>(5, 7, 16, 16, 1);
  io::MemorySource src(data);
  Outputs out = run_with_threads(src, 2, 3);
  auto v = data.view<std::uint16_t, 4>();
  auto mean = out.mean.view<double, 2>();
  auto max = out.max.view<double, 2>();
  auto bf = out.bf.view<double, 2>();
  for (int qy = 0; qy < 16; ++qy)
    for (int qx = 0; qx < 16; ++qx) {
      double s = 0, m = 0;
      for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 7; ++x) {
          s += v(y, x, qy, qx);
          m = std::max<double>(m, v(y, x, qy, qx));
        }
      EXPECT_DOUBLE_EQ(mean(qy, qx), s / 35.0);
      EXPECT_EQ(max(qy, qx), m);
    }
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) {
      double s = 0;
      for (int qy = 0; qy < 16; ++qy)
        for (int qx = 0; qx < 16; ++qx)
          if ((qy - 7.5) * (qy - 7.5) + (qx - 8.0) * (qx - 8.0) < 25.0) s += v(y, x, qy, qx);
      EXPECT_EQ(bf(y, x), s);
    }
}

TEST(Engine, BitIdenticalFor1_2_8Threads) {
  for (int kind = 0; kind < 2; ++kind) {
    // float32 data: the summation order matters, so this checks the fixed merge order.
    Array data = kind == 0 ? random_scan<std::uint16_t>(16, 16, 24, 24, 2) : random_scan<float>(16, 16, 24, 24, 3);
    io::MemorySource src(data);
    Outputs one = run_with_threads(src, 1, 5);
    for (int t : {2, 8}) {
      Outputs many = run_with_threads(src, t, 5);
      EXPECT_TRUE(bitwise_equal(one.mean, many.mean)) << t << " threads, dtype " << name_of(data.dtype());
      EXPECT_TRUE(bitwise_equal(one.max, many.max)) << t << " threads";
      EXPECT_TRUE(bitwise_equal(one.bf, many.bf)) << t << " threads";
    }
    // Automatic block size depends only on frame size and budget, never on threads.
    Outputs a = run_with_threads(src, 1), b = run_with_threads(src, 8);
    EXPECT_TRUE(bitwise_equal(a.mean, b.mean));
  }
}

TEST(Engine, BudgetTooSmallNamesMemoryOption) {
  Array data = random_scan<std::uint16_t>(4, 4, 64, 64, 4);
  io::MemorySource src(data);
  stem::VirtualDiffraction vd;
  engine::Analysis* list[] = {&vd};
  engine::RunOptions o;
  o.memory_budget = 40000;  // less than the mean + max outputs (2 x 32 KiB)
  try {
    engine::run(src, list, o);
    FAIL() << "expected BudgetError";
  } catch (const BudgetError& e) {
    EXPECT_NE(std::string(e.what()).find("--memory"), std::string::npos) << e.what();
  }
}

TEST(Engine, SmallBudgetStillComputesTheSameResult) {
  Array data = random_scan<std::uint16_t>(8, 8, 32, 32, 5);
  io::MemorySource src(data);
  stem::VirtualDiffraction big, small;
  engine::Analysis* a[] = {&big};
  engine::Analysis* b[] = {&small};
  engine::run(src, a, {});
  engine::RunOptions o;
  o.memory_budget = 2 * 32 * 32 * 8 + 5 * (32 * 32 * 2 + 2 * 32 * 32 * 8);  // outputs + a few one-frame slots
  const auto stats = engine::run(src, b, o);
  // Everything the pass holds fits the budget: outputs + slots x (block + partials).
  const std::size_t frame = 32 * 32 * 2, partial = 2 * 32 * 32 * 8, outputs = 2 * 32 * 32 * 8;
  EXPECT_LE(outputs + static_cast<std::size_t>(stats.blocks_in_flight) *
                          (static_cast<std::size_t>(stats.block_frames) * frame + partial),
            o.memory_budget);
  EXPECT_LT(stats.block_frames, 64);
  EXPECT_TRUE(bitwise_equal(big.mean(), small.mean()));  // integer data: exact sums in any order
}

namespace {
// Counts blocks, and how many began after the cancel token was set.
class SlowCounter : public engine::Analysis {
 public:
  explicit SlowCounter(const CancelToken& t) : token_(t) {}
  std::string name() const override { return "slow_counter"; }
  void prepare(const io::DatasetInfo&) override {}
  void process(const engine::FrameBlock&, engine::Partial*) override {
    if (token_.cancelled()) ++started_after_cancel;
    ++blocks;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::vector<Result> results() const override { return {}; }
  std::atomic<int> blocks{0}, started_after_cancel{0};

 private:
  const CancelToken& token_;
};
}  // namespace

TEST(Engine, CancelTokenStopsWithinOneBlockPerThread) {
  Array data = random_scan<std::uint8_t>(20, 20, 4, 4, 6);
  io::MemorySource src(data);
  for (int threads : {1, 4}) {
    CancelToken token;
    SlowCounter counter(token);
    engine::Analysis* list[] = {&counter};
    engine::RunOptions o;
    o.threads = threads;
    o.block_frames = 1;  // 400 blocks of 2 ms
    o.cancel = &token;
    std::thread canceller([&] {
      while (counter.blocks < 20) std::this_thread::yield();
      token.cancel();
    });
    EXPECT_THROW(engine::run(src, list, o), Cancelled);
    canceller.join();
    // A block that checked the flag just before it was set may still start: at most one per thread.
    EXPECT_LE(counter.started_after_cancel.load(), threads);
    EXPECT_LT(counter.blocks.load(), 20 + 2 * threads + 1);
  }
}

TEST(Engine, ProgressCallbackCanCancel) {
  Array data = random_scan<std::uint8_t>(10, 10, 4, 4, 7);
  io::MemorySource src(data);
  stem::VirtualDiffraction vd;
  engine::Analysis* list[] = {&vd};
  engine::RunOptions o;
  o.threads = 1;
  o.block_frames = 10;
  std::int64_t last = 0;
  int calls = 0;
  o.progress = [&](std::int64_t done, std::int64_t total, std::string_view) {
    EXPECT_EQ(total, 100);
    EXPECT_GT(done, last);
    last = done;
    return ++calls < 3;
  };
  EXPECT_THROW(engine::run(src, list, o), Cancelled);
  EXPECT_EQ(calls, 3);
}

TEST(Engine, ProgressReachesTotal) {
  Array data = random_scan<std::uint8_t>(3, 11, 4, 4, 8);
  io::MemorySource src(data);
  stem::VirtualDiffraction vd;
  engine::Analysis* list[] = {&vd};
  engine::RunOptions o;
  o.block_frames = 4;
  std::int64_t last = 0;
  o.progress = [&](std::int64_t done, std::int64_t, std::string_view) {
    last = done;
    return true;
  };
  const auto stats = engine::run(src, list, o);
  EXPECT_EQ(last, 33);
  EXPECT_EQ(stats.frames, 33);
  EXPECT_EQ(stats.blocks, 9);
}

TEST(Engine, ParseMemorySize) {
  EXPECT_EQ(engine::parse_memory_size("64M"), 64u << 20);
  EXPECT_EQ(engine::parse_memory_size("2G"), 2ull << 30);
  EXPECT_EQ(engine::parse_memory_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(engine::parse_memory_size("512KB"), 512u << 10);
  EXPECT_EQ(engine::parse_memory_size("1000"), 1000u);
  for (const char* bad : {"", "G", "-5M", "12Q", "0", "1e3"}) EXPECT_THROW(engine::parse_memory_size(bad), InvalidArgument) << bad;
  EXPECT_GE(engine::default_memory_budget(), 64u << 20);
}

TEST(VirtualDetector, MasksFollowPy4DSTEMDefinitions) {
  // circle: strict inequality; a radius-1 circle centred on a pixel holds only that pixel.
  auto c = stem::Detector::circle(5, 5, 2, 2, 1.0).weights();
  double sum = 0;
  for (int i = 0; i < 25; ++i) sum += c.data<double>()[i];
  EXPECT_EQ(sum, 1.0);
  // annulus 1 < d < 2 around (2, 2): d^2 in (1, 4): the 4 diagonal neighbours (d^2 = 2).
  auto a = stem::Detector::annulus(5, 5, 2, 2, 1.0, 2.0).weights();
  sum = 0;
  for (int i = 0; i < 25; ++i) sum += a.data<double>()[i];
  EXPECT_EQ(sum, 4.0);
  EXPECT_EQ((a.view<double, 2>()(1, 1)), 1.0);
  EXPECT_EQ((a.view<double, 2>()(2, 0)), 0.0);  // d = 2 exactly: excluded
  auto r = stem::Detector::rectangle(6, 6, 1, 3, 2, 5).weights();
  EXPECT_EQ((r.view<double, 2>()(1, 2)), 1.0);
  EXPECT_EQ((r.view<double, 2>()(3, 2)), 0.0);  // end exclusive
  EXPECT_THROW(stem::Detector::annulus(5, 5, 2, 2, 3, 2), InvalidArgument);
  EXPECT_THROW(stem::Detector::rectangle(6, 6, 0, 7, 0, 2), InvalidArgument);
}

TEST(VirtualDetector, WrongFrameShapeIsRejected) {
  Array data = random_scan<std::uint16_t>(2, 2, 8, 8, 9);
  io::MemorySource src(data);
  stem::VirtualImage vi("bf", stem::Detector::circle(16, 16, 8, 8, 3));
  engine::Analysis* list[] = {&vi};
  EXPECT_THROW(engine::run(src, list, {}), InvalidArgument);
}

namespace {
// A source that, like a .mib with headers between frames, can view one frame at a time only.
class SingleFrameViews : public io::MemorySource {
 public:
  using io::MemorySource::MemorySource;
  const std::byte* view(std::int64_t first, std::int64_t count) override {
    return count == 1 ? io::MemorySource::view(first, count) : nullptr;
  }
};
}  // namespace

TEST(Engine, SourceDecliningMultiFrameViewsFallsBackToRead) {
  const Array data = random_scan<std::uint16_t>(5, 7, 16, 16, 3);
  io::MemorySource plain(data);
  SingleFrameViews partial(data);
  const Outputs a = run_with_threads(plain, 2, 4), b = run_with_threads(partial, 2, 4);
  EXPECT_TRUE(bitwise_equal(a.mean, b.mean));
  EXPECT_TRUE(bitwise_equal(a.bf, b.bf));
  const Outputs c = run_with_threads(partial, 2, 1);  // one frame per block: views are used
  EXPECT_TRUE(bitwise_equal(a.mean, c.mean));
}
