// Virtual detectors and images: every detector mode against a direct computation of its mask,
// calibrated units and origin-relative geometry, many detectors in one sweep against separate
// passes, and shift_center (integer roll and bilinear) against the shifted masks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "scandiff/stem/detector_geometry.hpp"
#include "scandiff/stem/virtual_image.hpp"
#include "scandiff/stem/virtual_images.hpp"
#include "stem_test_util.hpp"

using namespace scandiff;

namespace {

using Mask = std::function<double(std::int64_t i, std::int64_t j)>;

// VI[y, x] = Σ_ij scan[y, x, i, j] · mask(i, j), directly.
std::vector<double> direct_image(const Array& scan, const Mask& mask) {
  std::vector<double> out;
  for (std::int64_t y = 0; y < scan.shape(0); ++y)
    for (std::int64_t x = 0; x < scan.shape(1); ++x) {
      double s = 0;
      for (std::int64_t i = 0; i < scan.shape(2); ++i)
        for (std::int64_t j = 0; j < scan.shape(3); ++j) s += test::at(scan, y, x, i, j) * mask(i, j);
      out.push_back(s);
    }
  return out;
}

void expect_image(const Array& image, const std::vector<double>& expected, double rel, const std::string& what) {
  ASSERT_EQ(image.size(), static_cast<std::int64_t>(expected.size())) << what;
  const double* p = image.data<double>();
  for (std::size_t k = 0; k < expected.size(); ++k)
    ASSERT_NEAR(p[k], expected[k], rel * std::max(1.0, std::abs(expected[k]))) << what << " at position " << k;
}

Array image_of(const Array& scan, stem::Detector d, const Calibration& cal = {},
               stem::CenterShift shift = stem::CenterShift::none) {
  stem::VirtualImage vi("vi", std::move(d), shift);
  test::run_on(scan, {&vi}, cal);
  return vi.image();
}

Mask circle(double cy, double cx, double r) {
  return [=](std::int64_t i, std::int64_t j) {
    const double dy = static_cast<double>(i) - cy, dx = static_cast<double>(j) - cx;
    return dy * dy + dx * dx < r * r ? 1.0 : 0.0;
  };
}

Mask annulus(double cy, double cx, double a, double b) {
  return [=](std::int64_t i, std::int64_t j) {
    const double dy = static_cast<double>(i) - cy, dx = static_cast<double>(j) - cx, d2 = dy * dy + dx * dx;
    return a * a < d2 && d2 < b * b ? 1.0 : 0.0;
  };
}

constexpr std::int64_t SY = 4, SX = 5, FY = 20, FX = 24;

}  // namespace

TEST(VirtualDetectors, EveryModeMatchesItsDirectMask) {
  for (int kind = 0; kind < 2; ++kind) {
    const Array scan = kind == 0 ? test::random_scan<std::uint16_t>(SY, SX, FY, FX, 11)
                                 : test::random_scan<float>(SY, SX, FY, FX, 12);
    const double rel = kind == 0 ? 0 : 1e-12;
    // point: int() truncation toward zero.
    expect_image(image_of(scan, stem::Detector::point(FY, FX, 7.9, 11.2)),
                 direct_image(scan, [](auto i, auto j) { return i == 7 && j == 11 ? 1.0 : 0.0; }), rel, "point");
    // circle and annulus: strict inequalities; the radius 5 circle on a pixel centre leaves out d = 5.
    expect_image(image_of(scan, stem::Detector::circle(FY, FX, 9.5, 11.2, 5.3)), direct_image(scan, circle(9.5, 11.2, 5.3)),
                 rel, "circle");
    expect_image(image_of(scan, stem::Detector::circle(FY, FX, 10, 12, 5)), direct_image(scan, circle(10, 12, 5)), rel,
                 "circle on pixel centre");
    expect_image(image_of(scan, stem::Detector::annulus(FY, FX, 9.5, 11.2, 3, 8.7)),
                 direct_image(scan, annulus(9.5, 11.2, 3, 8.7)), rel, "annulus");
    expect_image(image_of(scan, stem::Detector::annulus(FY, FX, 10, 12, 3, 5)), direct_image(scan, annulus(10, 12, 3, 5)),
                 rel, "annulus with radii on pixel centres");
    // rectangle: numpy rounding (halves to even), end-exclusive: rows 2..11, columns 6..19.
    expect_image(image_of(scan, stem::Detector::rectangle(FY, FX, 2.5, 12.4, 5.5, 20.4)),
                 direct_image(scan, [](auto i, auto j) { return i >= 2 && i < 12 && j >= 6 && j < 20 ? 1.0 : 0.0; }),
                 rel, "rectangle");
    // mask: weights used as they are.
    Array m(DType::f64, {FY, FX});
    std::mt19937 rng(5);
    for (std::int64_t k = 0; k < m.size(); ++k) m.data<double>()[k] = (rng() % 3 == 0) ? 0.0 : static_cast<double>(rng() % 1000) / 97.0;
    const auto mv = m.view<const double, 2>();
    expect_image(image_of(scan, stem::Detector::from_mask(m)), direct_image(scan, [&](auto i, auto j) { return mv(i, j); }),
                 1e-12, "mask");
  }
}

TEST(VirtualDetectors, PointOutsideTheFrameIsRefused) {
  EXPECT_THROW(stem::Detector::point(FY, FX, 20.0, 3.0), InvalidArgument);
  EXPECT_THROW(stem::Detector::point(FY, FX, -1.0, 3.0), InvalidArgument);
  EXPECT_NO_THROW(stem::Detector::point(FY, FX, -0.5, 3.0));  // int(-0.5) == 0, as in py4DSTEM
}

TEST(DetectorGeometry, ParsesShapesAndAliases) {
  auto g = stem::parse_detector_geometry("annulus:63.5,63.5,20,60", "--detector");
  EXPECT_EQ(g.shape, stem::DetectorShape::annulus);
  EXPECT_EQ(g.values, (std::vector<double>{63.5, 63.5, 20, 60}));
  EXPECT_EQ(stem::parse_detector_geometry("circular:1,2,3", "d").shape, stem::DetectorShape::circle);
  EXPECT_EQ(stem::parse_detector_geometry("square:0,4,0,4", "d").shape, stem::DetectorShape::rectangle);
  EXPECT_EQ(stem::parse_detector_geometry("point: 1 , 2", "d").values, (std::vector<double>{1, 2}));
  for (const char* bad : {"circle:1,2", "annulus:1,2,3,4,5", "ring:1,2,3", "circle:1,x,3", "circle", "circle:1,,3",
                          "circle:1,2,nan"}) {
    try {
      stem::parse_detector_geometry(bad, "--detector");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("--detector"), std::string::npos) << e.what();
    }
  }
}

TEST(DetectorGeometry, CalibratedUnitsAndOriginRelativePositions) {
  io::DatasetInfo info;
  info.path = "test.h5";
  info.scan_y = 3;
  info.scan_x = 4;
  info.frame_y = 40;
  info.frame_x = 48;
  info.calibration.detector_units = "A^-1";
  info.calibration.detector_pixel_size = 0.02;
  auto same_weights = [](const stem::Detector& a, const stem::Detector& b) {
    const Array wa = a.weights(), wb = b.weights();
    return std::memcmp(wa.bytes(), wb.bytes(), wa.nbytes()) == 0;
  };
  // Å⁻¹: every number divided by the pixel size.
  stem::DetectorGeometry g{stem::DetectorShape::annulus, {0.4, 0.5, 0.1, 0.3}, {}, stem::DetectorUnits::inv_A, false};
  EXPECT_TRUE(same_weights(stem::resolve_detector(g, info, "d"), stem::Detector::annulus(40, 48, 20, 25, 5, 15)));
  // Units that are not the calibration's are refused, naming both.
  g.units = stem::DetectorUnits::mrad;
  try {
    stem::resolve_detector(g, info, "--detector X");
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--detector X"), std::string::npos);
    EXPECT_NE(m.find("mrad"), std::string::npos);
    EXPECT_NE(m.find("A^-1"), std::string::npos);
  }
  info.calibration.detector_units = "mrad";
  info.calibration.detector_pixel_size = 0.5;
  g = {stem::DetectorShape::circle, {10, 12, 4}, {}, stem::DetectorUnits::mrad, false};
  EXPECT_TRUE(same_weights(stem::resolve_detector(g, info, "d"), stem::Detector::circle(40, 48, 20, 24, 8)));
  // Relative to the origin: needs one; the global origin, or the mean of the maps.
  g = {stem::DetectorShape::circle, {1, -2, 6}, {}, stem::DetectorUnits::pixels, true};
  EXPECT_THROW(stem::resolve_detector(g, info, "d"), InvalidArgument);
  info.calibration.origin_qy_px = 19.25;
  info.calibration.origin_qx_px = 23.5;
  EXPECT_TRUE(same_weights(stem::resolve_detector(g, info, "d"), stem::Detector::circle(40, 48, 20.25, 21.5, 6)));
  test::set_origin_maps(info.calibration, 3, 4, 18, 25, 3);
  const double my = test::map_mean(info.calibration.origin_qy_map), mx = test::map_mean(info.calibration.origin_qx_map);
  EXPECT_TRUE(same_weights(stem::resolve_detector(g, info, "d"), stem::Detector::circle(40, 48, my + 1, mx - 2, 6)));
  // Units first, then the origin in pixels (py4DSTEM adds the origin before dividing).
  g = {stem::DetectorShape::rectangle, {-1, 1, -2, 2}, {}, stem::DetectorUnits::mrad, true};
  EXPECT_TRUE(same_weights(stem::resolve_detector(g, info, "d"),
                           stem::Detector::rectangle(40, 48, my - 2, my + 2, mx - 4, mx + 4)));
  // Maps of the wrong shape are refused.
  info.scan_x = 5;
  EXPECT_THROW(stem::resolve_detector(g, info, "d"), InvalidArgument);
}

TEST(VirtualImages, ManyDetectorsInOneSweepEqualSeparatePasses) {
  for (int kind = 0; kind < 3; ++kind) {
    const Array scan = kind == 0   ? test::random_scan<std::uint16_t>(6, 7, 32, 30, 21)
                       : kind == 1 ? test::random_scan<float>(6, 7, 32, 30, 22)
                                   : test::random_scan<std::uint8_t>(6, 7, 32, 30, 23);
    Array m(DType::f64, {32, 30});
    for (std::int64_t k = 0; k < m.size(); ++k) m.data<double>()[k] = std::sin(0.37 * static_cast<double>(k));
    std::vector<stem::NamedDetector> dets{
        {"bf", stem::Detector::circle(32, 30, 15.5, 14.5, 6)},
        {"adf", stem::Detector::annulus(32, 30, 15.5, 14.5, 5, 14)},  // overlaps bf
        {"maadf", stem::Detector::annulus(32, 30, 15.5, 14.5, 9, 20)},
        {"rect", stem::Detector::rectangle(32, 30, 0, 10, 3, 29)},
        {"pt", stem::Detector::point(32, 30, 16, 15)},
        {"mask", stem::Detector::from_mask(m)},  // smooth weights: evaluated as a dense dot product
    };
    stem::VirtualImages all(dets);
    test::run_on(scan, {&all}, {}, 1, 4);
    stem::VirtualImages all_threads(dets);
    test::run_on(scan, {&all_threads}, {}, 3, 2);
    for (std::size_t d = 0; d < dets.size(); ++d) {
      const Array w = dets[d].detector.weights();
      const auto wv = w.view<const double, 2>();
      expect_image(all.image(d), direct_image(scan, [&](auto i, auto j) { return wv(i, j); }), 1e-12, dets[d].name);
      const Array single = image_of(scan, dets[d].detector);
      const Array& many = all.image(d);
      if (dets[d].name != "mask") {
        // Uniform weights: the same exact sums, bit for bit.
        EXPECT_EQ(std::memcmp(single.bytes(), many.bytes(), single.nbytes()), 0) << dets[d].name;
      } else {
        for (std::int64_t k = 0; k < single.size(); ++k)
          EXPECT_NEAR(single.data<double>()[k], many.data<double>()[k], 1e-9 * std::abs(single.data<double>()[k]));
      }
      EXPECT_EQ(std::memcmp(many.bytes(), all_threads.image(d).bytes(), many.nbytes()), 0) << dets[d].name;
    }
    const auto results = all.results();
    ASSERT_EQ(results.size(), dets.size());
    EXPECT_EQ(results[1].name, "adf");
    EXPECT_EQ(results[1].provenance["detector"]["shape"], "annulus");
  }
}

TEST(VirtualImages, RefusesDuplicateNamesAndOtherFrameShapes) {
  std::vector<stem::NamedDetector> dup{{"a", stem::Detector::circle(8, 8, 4, 4, 2)},
                                       {"a", stem::Detector::circle(8, 8, 4, 4, 3)}};
  EXPECT_THROW(stem::VirtualImages{dup}, InvalidArgument);
  std::vector<stem::NamedDetector> shapes{{"a", stem::Detector::circle(8, 8, 4, 4, 2)},
                                          {"b", stem::Detector::circle(8, 9, 4, 4, 3)}};
  EXPECT_THROW(stem::VirtualImages{shapes}, InvalidArgument);
  const Array scan = test::random_scan<std::uint8_t>(2, 2, 9, 9, 1);
  stem::VirtualImage vi("a", stem::Detector::circle(8, 8, 4, 4, 2));
  EXPECT_THROW(test::run_on(scan, {&vi}), InvalidArgument);
  // shift_center needs an origin.
  stem::VirtualImage shifted("a", stem::Detector::circle(9, 9, 4, 4, 2), stem::CenterShift::integer);
  EXPECT_THROW(test::run_on(scan, {&shifted}), InvalidArgument);
}

TEST(VirtualImages, ShiftCenterRollsTheMaskByTheRoundedShift) {
  const Array scan = test::random_scan<std::uint16_t>(5, 6, 24, 22, 31);
  Calibration cal;
  test::set_origin_maps(cal, 5, 6, 11.3, 10.2, 7, 3.4);
  const double my = test::map_mean(cal.origin_qy_map), mx = test::map_mean(cal.origin_qx_map);
  // An annulus reaching past the edge for the larger shifts: the rolled mask wraps around.
  const stem::Detector det = stem::Detector::annulus(24, 22, 11.3, 10.2, 4, 12.5);
  const Array w = det.weights();
  const std::vector<double> weights(w.data<double>(), w.data<double>() + w.size());
  const Array image = image_of(scan, det, cal, stem::CenterShift::integer);
  for (std::int64_t y = 0; y < 5; ++y)
    for (std::int64_t x = 0; x < 6; ++x) {
      const std::int64_t k = y * 6 + x;
      const auto sy = static_cast<std::int64_t>(std::nearbyint(cal.origin_qy_map.data<double>()[k] - my));
      const auto sx = static_cast<std::int64_t>(std::nearbyint(cal.origin_qx_map.data<double>()[k] - mx));
      const auto rolled = test::roll(weights, 24, 22, sy, sx);
      double s = 0;
      for (std::int64_t i = 0; i < 24; ++i)
        for (std::int64_t j = 0; j < 22; ++j) s += test::at(scan, y, x, i, j) * rolled[static_cast<std::size_t>(i * 22 + j)];
      EXPECT_EQ(image.data<double>()[k], s) << "position " << y << "," << x << " shift " << sy << "," << sx;
    }
}

TEST(VirtualImages, SubpixelShiftCenterIsTheBilinearlyShiftedMask) {
  const Array scan = test::random_scan<float>(4, 5, 20, 18, 41);
  Calibration cal;
  test::set_origin_maps(cal, 4, 5, 9.6, 8.1, 9, 2.2);
  const double my = test::map_mean(cal.origin_qy_map), mx = test::map_mean(cal.origin_qx_map);
  const stem::Detector det = stem::Detector::circle(20, 18, 9.6, 8.1, 5.5);
  const Array w = det.weights();
  const std::vector<double> weights(w.data<double>(), w.data<double>() + w.size());
  const Array image = image_of(scan, det, cal, stem::CenterShift::subpixel);
  for (std::int64_t k = 0; k < 20; ++k) {
    const std::int64_t y = k / 5, x = k % 5;
    // py4DSTEM get_shifted_ar(mask, shift_y, shift_x, bilinear=True)
    const double ty = cal.origin_qy_map.data<double>()[k] - my, tx = cal.origin_qx_map.data<double>()[k] - mx;
    const auto fy = static_cast<std::int64_t>(std::floor(ty)), fx = static_cast<std::int64_t>(std::floor(tx));
    const double wy = ty - std::floor(ty), wx = tx - std::floor(tx);
    std::vector<double> m(weights.size(), 0.0);
    const auto a = test::roll(weights, 20, 18, fy, fx), b = test::roll(weights, 20, 18, fy + 1, fx),
               c = test::roll(weights, 20, 18, fy, fx + 1), d = test::roll(weights, 20, 18, fy + 1, fx + 1);
    for (std::size_t p = 0; p < m.size(); ++p)
      m[p] = a[p] * (1 - wy) * (1 - wx) + b[p] * wy * (1 - wx) + c[p] * (1 - wy) * wx + d[p] * wy * wx;
    double s = 0;
    for (std::int64_t i = 0; i < 20; ++i)
      for (std::int64_t j = 0; j < 18; ++j) s += test::at(scan, y, x, i, j) * m[static_cast<std::size_t>(i * 18 + j)];
    EXPECT_NEAR(image.data<double>()[k], s, 1e-11 * s) << "position " << k;
  }
  // No per-position maps: a global origin does not move the detector.
  Calibration global;
  global.origin_qy_px = 9.6;
  global.origin_qx_px = 8.1;
  const Array fixed = image_of(scan, det, global, stem::CenterShift::subpixel);
  const Array plain = image_of(scan, det);
  EXPECT_EQ(std::memcmp(fixed.bytes(), plain.bytes(), plain.nbytes()), 0);
}
