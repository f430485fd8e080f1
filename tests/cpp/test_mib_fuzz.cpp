// Deterministic fuzzing of the MIB readers (the libFuzzer target in tests/fuzz explores
// further when built with clang): 20 000 random mutations of real and synthetic frame
// headers must each parse into a header that keeps the parser's promises or throw a
// scandiff::Error; mutated whole files must open and read, or throw a scandiff::Error.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mib_test_util.hpp"
#include "mib_test_writer.hpp"
#include "scandiff/io/mib.hpp"

using namespace scandiff;
using namespace scandiff_test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> seed_headers() {
  std::vector<std::string> seeds;
  MibSpec u16;
  seeds.push_back(mib_header(u16, 1, 0.001, 50'000'000'000'000));
  MibSpec quad_raw;
  quad_raw.type = "R64";
  quad_raw.layout = "2x2";
  quad_raw.chips = 4;
  quad_raw.depth = 24;
  quad_raw.frame_y = quad_raw.frame_x = 512;
  quad_raw.header_bytes = 768;
  seeds.push_back(mib_header(quad_raw, 7, 0.01, 50'000'000'000'000));
  quad_raw.short_header = true;
  quad_raw.depth = 1;
  seeds.push_back(mib_header(quad_raw, 7, 0.01, 50'000'000'000'000));
  const fs::path data = fs::path(SCANDIFF_SHARED_DATA) / "mib";
  if (fs::is_directory(data))
    for (const auto& dir : fs::directory_iterator(data))
      for (const auto& f : fs::directory_iterator(dir.path()))
        if (f.path().extension() == ".mib") {
          std::ifstream in(f.path(), std::ios::binary);
          std::string head(1024, '\0');
          in.read(head.data(), 1024);
          head.resize(static_cast<std::size_t>(in.gcount()));
          seeds.push_back(head);
        }
  return seeds;
}

// One random edit of the kinds that break parsers: a byte, a digit, a comma, a cut, an
// insertion, a deletion, a duplicated field.
void mutate(std::string& s, std::mt19937& rng) {
  if (s.empty()) {
    s = "MQ1,";
    return;
  }
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::size_t at = pick(s.size());
  switch (pick(8)) {
    case 0: s[at] = static_cast<char>(pick(256)); break;
    case 1: s[at] = static_cast<char>('0' + pick(10)); break;
    case 2: s[at] = ','; break;
    case 3: s.resize(at); break;
    case 4: s.insert(at, 1, "0123456789,MQ1A \0xX-.:"[pick(22)]); break;
    case 5: s.erase(at, 1 + pick(8)); break;
    case 6: {
      const std::size_t comma = s.find(',', at);
      if (comma != std::string::npos) s.insert(comma, s.substr(at, std::min<std::size_t>(12, comma - at)));
      break;
    }
    default: s.replace(at, std::min<std::size_t>(4, s.size() - at), "9999"); break;
  }
}

}  // namespace

TEST(MibFuzz, TwentyThousandHeaderMutations) {
  const auto seeds = seed_headers();
  std::mt19937 rng(20240521);
  int parsed = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string h = seeds[static_cast<std::size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) mutate(h, rng);
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(h.data()), h.size());
    try {
      const io::MibFrameHeader p = io::parse_mib_header(bytes, "mutant", static_cast<int>(rng() % 2) * 12);
      ASSERT_LE(p.header_bytes, h.size());
      ASSERT_GT(p.frame_y, 0);
      ASSERT_GT(p.frame_x, 0);
      ASSERT_LE(p.frame_y * p.frame_x, io::mib_max_frame_pixels);
      ASSERT_GT(p.data_bytes, 0u);
      (void)p.to_metadata().dump();
      ++parsed;
    } catch (const Error&) {
      ++refused;
    } catch (const std::exception& e) {
      FAIL() << "mutant " << i << " threw a non-scandiff exception: " << e.what();
    }
  }
  RecordProperty("parsed", parsed);
  RecordProperty("refused", refused);
  EXPECT_EQ(parsed + refused, 20000);
  EXPECT_GT(parsed, 100);   // the mutations are not all fatal: the parser is exercised past the checks
  EXPECT_GT(refused, 1000);
}

TEST(MibFuzz, MutatedFilesOpenAndReadOrFailCleanly) {
  MibSpec spec;
  spec.type = "U16";
  spec.frame_y = 16;
  spec.frame_x = 256;
  TempDir dir("mib_fuzz_files");
  write_mib(dir / "seed.mib", spec, random_frames(4, 16 * 256, 12, 1));
  std::string seed;
  {
    std::ifstream in(dir / "seed.mib", std::ios::binary);
    seed.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::mt19937 rng(7);
  int opened = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bytes = seed;
    // Mutate inside one of the four frame headers (pixels are opaque to the reader).
    std::string header = bytes.substr((i % 4) * spec.frame_bytes(), spec.header_bytes);
    mutate(header, rng);
    header.resize(spec.header_bytes, '\0');
    bytes.replace((i % 4) * spec.frame_bytes(), spec.header_bytes, header);
    if (i % 10 == 0) bytes.resize(rng() % bytes.size());
    {
      std::ofstream out(dir / "m.mib", std::ios::binary);
      out << bytes;
    }
    CaptureLog quiet;
    try {
      io::MibSource src(dir / "m.mib");
      std::vector<std::byte> buf(src.info().total_bytes());
      src.read(0, src.info().frame_count(), buf.data());
      ++opened;
    } catch (const Error&) {
    }
  }
  RecordProperty("opened", opened);
  EXPECT_GT(opened, 10);
}
