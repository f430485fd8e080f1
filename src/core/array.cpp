#include "scandiff/core/array.hpp"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace scandiff {

std::string shape_string(std::span<const std::int64_t> shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

std::vector<std::int64_t> contiguous_byte_strides(const Shape& shape, std::size_t elem_size) {
  std::vector<std::int64_t> st(shape.size());
  auto s = static_cast<std::int64_t>(elem_size);
  for (std::size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

static void check_shape(const Shape& shape) {
  for (auto n : shape)
    if (n < 0) throw InvalidArgument(fmt::format("array shape {} has a negative extent", shape_string(shape)));
}

Array::Array(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  check_shape(shape_);
  strides_ = contiguous_byte_strides(shape_, size_of(dtype_));
  const std::size_t n = nbytes();
  auto* p = new std::byte[n == 0 ? 1 : n]();
  owner_ = std::shared_ptr<void>(p, [](void* q) { delete[] static_cast<std::byte*>(q); });
  data_ = p;
}

Array Array::borrow(void* data, DType dtype, Shape shape, std::vector<std::int64_t> byte_strides) {
  return adopt(nullptr, data, dtype, std::move(shape), std::move(byte_strides));
}

Array Array::adopt(std::shared_ptr<void> owner, void* data, DType dtype, Shape shape,
                   std::vector<std::int64_t> byte_strides) {
  check_shape(shape);
  if (!byte_strides.empty() && byte_strides.size() != shape.size())
    throw InvalidArgument(fmt::format("array strides have {} entries for a rank-{} shape", byte_strides.size(),
                                      shape.size()));
  Array a;
  a.dtype_ = dtype;
  a.strides_ = byte_strides.empty() ? contiguous_byte_strides(shape, size_of(dtype)) : std::move(byte_strides);
  a.shape_ = std::move(shape);
  a.owner_ = std::move(owner);
  a.data_ = static_cast<std::byte*>(data);
  return a;
}

bool Array::is_contiguous() const {
  auto c = contiguous_byte_strides(shape_, size_of(dtype_));
  for (std::size_t i = 0; i < shape_.size(); ++i)
    if (shape_[i] != 1 && c[i] != strides_[i]) return false;
  return true;
}

void Array::check_view(DType want, std::size_t rank, std::size_t) const {
  if (want != dtype_)
    throw InvalidArgument(fmt::format("array holds {}, but {} was requested", name_of(dtype_), name_of(want)));
  if (rank != shape_.size())
    throw InvalidArgument(fmt::format("array has rank {} (shape {}), but rank {} was requested", shape_.size(),
                                      shape_string(shape_), rank));
}

// Visits every element position of `a` in C order, calling f(byte offset, linear index).
template <class F>
static void for_each_offset(const Array& a, F&& f) {
  const auto n = a.size();
  if (n == 0) return;
  const auto r = a.rank();
  std::vector<std::int64_t> idx(r, 0);
  std::int64_t off = 0;
  for (std::int64_t lin = 0; lin < n; ++lin) {
    f(off, lin);
    for (std::size_t k = r; k-- > 0;) {
      off += a.byte_strides()[k];
      if (++idx[k] < a.shape()[k]) break;
      off -= a.byte_strides()[k] * a.shape()[k];
      idx[k] = 0;
    }
  }
}

Array Array::copy() const {
  Array out(dtype_, shape_);
  if (is_contiguous()) {
    if (nbytes() > 0) std::memcpy(out.data_, data_, nbytes());
    return out;
  }
  const auto es = size_of(dtype_);
  for_each_offset(*this, [&](std::int64_t off, std::int64_t lin) {
    std::memcpy(out.data_ + lin * static_cast<std::int64_t>(es), data_ + off, es);
  });
  return out;
}

Array Array::astype(DType to) const {
  Array out(to, shape_);
  visit_dtype(dtype_, [&](auto from_tag) {
    using From = decltype(from_tag);
    visit_dtype(to, [&](auto to_tag) {
      using To = decltype(to_tag);
      auto* dst = reinterpret_cast<To*>(out.data_);
      for_each_offset(*this, [&](std::int64_t off, std::int64_t lin) {
        From v;
        std::memcpy(&v, data_ + off, sizeof(From));
        dst[lin] = static_cast<To>(v);
      });
    });
  });
  return out;
}

}  // namespace scandiff
