// FFTW planning rigor and wisdom files (analysis/fft_planning.hpp). The transform sizes here are
// used by no other test, so the wisdom these tests leave in the process changes no other plan.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <string>
#include <vector>

#include "scandiff/analysis/fft.hpp"
#include "scandiff/analysis/fft_planning.hpp"
#include "scandiff/core/error.hpp"
#include "temp_dir.hpp"

namespace sa = scandiff::analysis;

namespace {

// Restores the default planning when a test ends.
struct PlanningGuard {
  ~PlanningGuard() { sa::set_fft_planning(sa::FftPlanning::estimate); }
};

std::vector<std::complex<double>> spectrum_of(const std::vector<double>& image, std::int64_t ny, std::int64_t nx) {
  sa::RealFft2D fft(ny, nx);
  std::vector<std::complex<double>> s(static_cast<std::size_t>(fft.spectrum_size()));
  fft.forward(image.data(), s.data());
  return s;
}

}  // namespace

TEST(FftPlanning, NamesParseAndBadNamesAreRefused) {
  for (const char* name : {"estimate", "measure", "patient"})
    EXPECT_EQ(sa::fft_planning_name(sa::parse_fft_planning(name)), name);
  try {
    sa::parse_fft_planning("exhaustive");
    FAIL() << "accepted an unknown planning";
  } catch (const scandiff::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'exhaustive'"), std::string::npos) << e.what();
  }
}

TEST(FftPlanning, MeasuredPlansGiveTheEstimatedTransformToRounding) {
  PlanningGuard guard;
  const std::int64_t ny = 30, nx = 22;
  std::vector<double> image(static_cast<std::size_t>(ny * nx));
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = std::sin(0.37 * static_cast<double>(i)) + 0.01 * static_cast<double>(i % 7);
  ASSERT_EQ(sa::fft_planning(), sa::FftPlanning::estimate);
  const auto estimated = spectrum_of(image, ny, nx);
  sa::set_fft_planning(sa::FftPlanning::measure);
  EXPECT_EQ(sa::fft_planning(), sa::FftPlanning::measure);
  const auto measured = spectrum_of(image, ny, nx);
  ASSERT_EQ(estimated.size(), measured.size());
  double scale = 0;
  for (const auto& v : estimated) scale = std::max(scale, std::abs(v));
  for (std::size_t k = 0; k < estimated.size(); ++k) EXPECT_NEAR(std::abs(measured[k] - estimated[k]), 0, 1e-13 * scale);
}

TEST(FftPlanning, WisdomRoundTripsThroughAFile) {
  PlanningGuard guard;
  sa::set_fft_planning(sa::FftPlanning::measure);
  { sa::RealFft2D fft(26, 18); }  // measured: now in the process's wisdom
  scandiff_test::TempDir dir("fft_wisdom");
  const auto path = dir / "plans.wisdom";
  sa::export_fftw_wisdom(path);
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("(fftw-3", 0), 0u) << first;
  EXPECT_TRUE(sa::import_fftw_wisdom(path));
  EXPECT_FALSE(sa::import_fftw_wisdom(dir / "no-such.wisdom"));
}

TEST(FftPlanning, AFileThatIsNotWisdomIsRefusedByName) {
  scandiff_test::TempDir dir("fft_wisdom_bad");
  const auto path = dir / "garbage.wisdom";
  std::ofstream(path) << "(not wisdom at all";
  try {
    sa::import_fftw_wisdom(path);
    FAIL() << "imported garbage";
  } catch (const scandiff::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.wisdom"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sa::export_fftw_wisdom(dir.path / "missing-folder" / "x.wisdom"), scandiff::IoError);
}
