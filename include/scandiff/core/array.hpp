// Strided N-d array views and a type-erased array over owned or borrowed memory.
//
// Axis order follows C order: a 4D scan is (ry, rx, qy, qx), a frame (qy, qx).
// NdView strides are in elements; Array strides are in bytes (like numpy).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "scandiff/core/dtype.hpp"
#include "scandiff/core/error.hpp"

namespace scandiff {

using Shape = std::vector<std::int64_t>;

// Number of elements of a shape (1 for rank 0).
inline std::int64_t element_count(std::span<const std::int64_t> shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}
// "(2, 3, 4)" for messages.
std::string shape_string(std::span<const std::int64_t> shape);

// A non-owning view of a rank-`Rank` array of T with element strides.
template <class T, std::size_t Rank>
class NdView {
 public:
  using Index = std::array<std::int64_t, Rank>;

  NdView() = default;
  NdView(T* data, const Index& shape, const Index& strides) : data_(data), shape_(shape), strides_(strides) {}
  // C-contiguous view.
  NdView(T* data, const Index& shape) : data_(data), shape_(shape) {
    std::int64_t s = 1;
    for (std::size_t i = Rank; i-- > 0;) {
      strides_[i] = s;
      s *= shape_[i];
    }
  }
  // A view of const T from a view of T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T>>>
  NdView(const NdView<U, Rank>& other) : data_(other.data()), shape_(other.shape()), strides_(other.strides()) {}

  T* data() const { return data_; }
  const Index& shape() const { return shape_; }
  const Index& strides() const { return strides_; }
  std::int64_t shape(std::size_t axis) const { return shape_[axis]; }
  std::int64_t size() const { return element_count(shape_); }
  bool empty() const { return size() == 0; }

  bool is_contiguous() const {
    std::int64_t s = 1;
    for (std::size_t i = Rank; i-- > 0;) {
      if (shape_[i] != 1 && strides_[i] != s) return false;
      s *= shape_[i];
    }
    return true;
  }

  template <class... I>
  T& operator()(I... idx) const {
    static_assert(sizeof...(I) == Rank, "index count must equal the rank");
    const std::array<std::int64_t, Rank> i{static_cast<std::int64_t>(idx)...};
    std::int64_t off = 0;
    for (std::size_t k = 0; k < Rank; ++k) off += i[k] * strides_[k];
    return data_[off];
  }

  // The (Rank-1)-d slice at index i of axis 0, e.g. one frame of a frame stack.
  NdView<T, Rank - 1> operator[](std::int64_t i) const
    requires(Rank > 1)
  {
    std::array<std::int64_t, Rank - 1> sh, st;
    for (std::size_t k = 1; k < Rank; ++k) {
      sh[k - 1] = shape_[k];
      st[k - 1] = strides_[k];
    }
    return {data_ + i * strides_[0], sh, st};
  }

 private:
  T* data_ = nullptr;
  Index shape_{};
  Index strides_{};
};

// A type-erased, dynamically ranked array. Owns its memory (C-contiguous, zero-filled)
// or borrows someone else's (any byte strides); copies share ownership.
class Array {
 public:
  Array() = default;
  // Allocates a zero-filled C-contiguous array.
  Array(DType dtype, Shape shape);
  // Borrows memory the caller keeps alive. `byte_strides` empty means C-contiguous.
  static Array borrow(void* data, DType dtype, Shape shape, std::vector<std::int64_t> byte_strides = {});
  // Wraps memory owned by `owner` (kept alive as long as any copy of the Array).
  static Array adopt(std::shared_ptr<void> owner, void* data, DType dtype, Shape shape,
                     std::vector<std::int64_t> byte_strides = {});

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t shape(std::size_t axis) const { return shape_.at(axis); }
  const std::vector<std::int64_t>& byte_strides() const { return strides_; }
  std::size_t rank() const { return shape_.size(); }
  std::int64_t size() const { return element_count(shape_); }
  std::size_t nbytes() const { return static_cast<std::size_t>(size()) * size_of(dtype_); }
  bool is_contiguous() const;
  bool empty() const { return data_ == nullptr; }
  std::byte* bytes() const { return data_; }

  // Checked typed view: throws InvalidArgument unless dtype is T and rank is Rank.
  template <class T, std::size_t Rank>
  NdView<T, Rank> view() const {
    check_view(dtype_v<T>, Rank, sizeof(T));
    std::array<std::int64_t, Rank> sh, st;
    for (std::size_t k = 0; k < Rank; ++k) {
      sh[k] = shape_[k];
      st[k] = strides_[k] / static_cast<std::int64_t>(sizeof(T));
    }
    return {reinterpret_cast<T*>(data_), sh, st};
  }
  // Pointer to contiguous data of type T; throws if dtype differs or the array is strided.
  template <class T>
  T* data() const {
    check_view(dtype_v<T>, rank(), sizeof(T));
    if (!is_contiguous()) throw InvalidArgument("array is not contiguous");
    return reinterpret_cast<T*>(data_);
  }

  // A C-contiguous deep copy (owning).
  Array copy() const;
  // A deep copy converted to `to` (values cast with static_cast, no scaling).
  Array astype(DType to) const;

 private:
  void check_view(DType want, std::size_t rank, std::size_t elem) const;

  DType dtype_ = DType::f64;
  Shape shape_;
  std::vector<std::int64_t> strides_;
  std::shared_ptr<void> owner_;
  std::byte* data_ = nullptr;
};

// C-contiguous byte strides of a shape.
std::vector<std::int64_t> contiguous_byte_strides(const Shape& shape, std::size_t elem_size);

}  // namespace scandiff
