// Beam-stop mask (py4DSTEM get_beamstop_mask): a synthetic shadow with an arm to the edge, a hot
// pixel inside the shadow and a dead pixel outside it.
#include <gtest/gtest.h>

#include "scandiff/stem/beamstop.hpp"

using namespace scandiff;

namespace {

bool in_shadow(int y, int x) {
  const bool disk = (y - 32) * (y - 32) + (x - 32) * (x - 32) <= 64;
  const bool arm = y >= 30 && y <= 33 && x <= 32;
  return disk || arm;
}

}  // namespace

TEST(Beamstop, ShadowArmAndMarginAreBlocked) {
  Array pattern(DType::f64, {64, 64});
  auto v = pattern.view<double, 2>();
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) v(y, x) = in_shadow(y, x) ? 1.0 : 100.0 + (x % 3);
  v(32, 32) = 500;  // a hot pixel in the shadow: still beam stop
  v(10, 40) = 0;    // a dead pixel in the pattern: not beam stop
  const Array mask = stem::beamstop_mask(pattern, {.threshold = 0.25, .margin_px = 2});
  auto m = mask.view<const std::uint8_t, 2>();
  // Expected: within distance < 2 of the shadow or of the frame border.
  int blocked = 0;
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      bool near = false;
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if (yy < 0 || yy > 63 || xx < 0 || xx > 63 || dy * dy + dx * dx >= 4) continue;
          near |= in_shadow(yy, xx) || yy == 0 || yy == 63 || xx == 0 || xx == 63;
        }
      ASSERT_EQ(m(y, x), near ? 1 : 0) << y << ", " << x;
      blocked += m(y, x);
    }
  EXPECT_EQ(m(32, 32), 1);
  EXPECT_EQ(m(10, 40), 0);
  // py4DSTEM's steps run with scipy (binary_fill_holes, distance_transform_edt) on this pattern
  // give the same expectation, 894 blocked pixels.
  EXPECT_EQ(blocked, 894);

  // Without the edges, the border is usable far from the shadow; margin 0 blocks nothing.
  const Array open = stem::beamstop_mask(pattern, {.threshold = 0.25, .margin_px = 2, .include_edges = false});
  EXPECT_EQ((open.view<const std::uint8_t, 2>()(0, 63)), 0);
  EXPECT_EQ((open.view<const std::uint8_t, 2>()(31, 0)), 1);  // the arm reaches the edge
  const Array none = stem::beamstop_mask(pattern, {.threshold = 0.25, .margin_px = 0});
  for (std::int64_t i = 0; i < none.size(); ++i) ASSERT_EQ(none.data<std::uint8_t>()[i], 0);
  EXPECT_THROW(stem::beamstop_mask(pattern, {.threshold = 1.5}), InvalidArgument);
  EXPECT_THROW(stem::beamstop_mask(Array(DType::f64, {3})), InvalidArgument);
}
