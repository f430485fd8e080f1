#include "scandiff/io/image_mask.hpp"

#include <cmath>

#include <fmt/format.h>

#include "scandiff/io/image_file.hpp"

namespace scandiff::io {
namespace {

// Calls pred(value as double) for every element of a 2D image and stores 1 where it is true.
template <class Pred>
Array mask_where(const Array& image, Pred pred, std::string_view what) {
  if (image.rank() != 2)
    throw InvalidArgument(fmt::format("{}: image of shape {} is not 2D (qy, qx)", what, shape_string(image.shape())));
  const Array src = image.is_contiguous() ? image : image.copy();
  Array out(DType::u8, src.shape());
  auto* m = reinterpret_cast<std::uint8_t*>(out.bytes());
  visit_dtype(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* v = reinterpret_cast<const T*>(src.bytes());
    for (std::int64_t i = 0; i < src.size(); ++i) m[i] = pred(static_cast<double>(v[i])) ? 1 : 0;
  });
  return out;
}

}  // namespace

Array mask_from_image(const Array& image) {
  return mask_where(image, [](double v) { return v != 0; }, "mask");
}

Array read_mask(const std::filesystem::path& path) { return mask_from_image(read_image(path)); }

Array threshold_mask(const Array& image, std::optional<double> below, std::optional<double> above) {
  const double lo = below.value_or(-INFINITY), hi = above.value_or(INFINITY);
  return mask_where(image, [&](double v) { return std::isnan(v) || v < lo || v > hi; }, "threshold mask");
}

void merge_mask(Array& into, const Array& other) {
  if (into.shape() != other.shape() || into.dtype() != DType::u8 || other.dtype() != DType::u8 ||
      !into.is_contiguous() || !other.is_contiguous())
    throw InvalidArgument(fmt::format("masks of shapes {} and {} cannot be combined (expected equal uint8 shapes)",
                                      shape_string(into.shape()), shape_string(other.shape())));
  auto* a = reinterpret_cast<std::uint8_t*>(into.bytes());
  const auto* b = reinterpret_cast<const std::uint8_t*>(other.bytes());
  for (std::int64_t i = 0; i < into.size(); ++i) a[i] = (a[i] | b[i]) ? 1 : 0;
}

}  // namespace scandiff::io
