#include <gtest/gtest.h>

#include "scandiff/core/array.hpp"

using namespace scandiff;

TEST(Array, OwnedIsZeroFilledAndContiguous) {
  Array a(DType::u16, {2, 3, 4, 5});
  EXPECT_EQ(a.size(), 120);
  EXPECT_EQ(a.nbytes(), 240u);
  EXPECT_TRUE(a.is_contiguous());
  auto v = a.view<std::uint16_t, 4>();
  for (std::int64_t i = 0; i < a.size(); ++i) EXPECT_EQ(v.data()[i], 0);
  v(1, 2, 3, 4) = 7;
  EXPECT_EQ(a.data<std::uint16_t>()[119], 7);
}

TEST(Array, BorrowedStridedViewAndCopy) {
  // A 3x4 float matrix viewed transposed (4x3) through byte strides.
  std::vector<float> m(12);
  for (int i = 0; i < 12; ++i) m[i] = static_cast<float>(i);
  auto t = Array::borrow(m.data(), DType::f32, {4, 3}, {4, 16});
  EXPECT_FALSE(t.is_contiguous());
  auto v = t.view<float, 2>();
  EXPECT_EQ(v(1, 2), 9.0f);  // element (2,1) of the original
  Array c = t.copy();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.data<float>()[1 * 3 + 2], 9.0f);
  Array d = t.astype(DType::f64);
  EXPECT_EQ((d.view<double, 2>()(3, 0)), 3.0);
}

TEST(Array, CheckedViewsNameTheMismatch) {
  Array a(DType::f32, {2, 2});
  EXPECT_THROW((a.view<double, 2>()), InvalidArgument);
  EXPECT_THROW((a.view<float, 3>()), InvalidArgument);
  EXPECT_THROW(Array(DType::u8, {-1, 2}), InvalidArgument);
}

TEST(Array, NdViewSliceIsAFrame) {
  std::vector<std::uint16_t> d(2 * 3 * 4);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint16_t>(i);
  NdView<const std::uint16_t, 3> stack(d.data(), {2, 3, 4});
  auto f1 = stack[1];
  EXPECT_EQ(f1(0, 0), 12);
  EXPECT_EQ(f1(2, 3), 23);
  EXPECT_TRUE(f1.is_contiguous());
}

TEST(DType, ParseAndNames) {
  EXPECT_EQ(parse_dtype("uint16"), DType::u16);
  EXPECT_EQ(parse_dtype("f32"), DType::f32);
  EXPECT_EQ(name_of(DType::i32), "int32");
  EXPECT_THROW(parse_dtype("complex64", "--dtype"), InvalidArgument);
  try {
    parse_dtype("bogus", "--dtype");
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("--dtype"), std::string::npos);
  }
}
