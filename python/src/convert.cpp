// Conversions between library types and Python objects: arrays (without copying), metadata.
#include <string>
#include <vector>

#include <nanobind/stl/string.h>

#include "bindings.hpp"

namespace scandiff::python {

namespace {

nb::dlpack::dtype dlpack_of(DType t) {
  switch (t) {
    case DType::u8: return nb::dtype<std::uint8_t>();
    case DType::u16: return nb::dtype<std::uint16_t>();
    case DType::u32: return nb::dtype<std::uint32_t>();
    case DType::i32: return nb::dtype<std::int32_t>();
    case DType::f32: return nb::dtype<float>();
    case DType::f64: return nb::dtype<double>();
  }
  throw InvalidArgument("unknown dtype");
}

DType dtype_of_dlpack(nb::dlpack::dtype d) {
  using C = nb::dlpack::dtype_code;
  if (d.lanes == 1) {
    if (d.code == static_cast<std::uint8_t>(C::UInt)) {
      if (d.bits == 8) return DType::u8;
      if (d.bits == 16) return DType::u16;
      if (d.bits == 32) return DType::u32;
    } else if (d.code == static_cast<std::uint8_t>(C::Int) && d.bits == 32) {
      return DType::i32;
    } else if (d.code == static_cast<std::uint8_t>(C::Float)) {
      if (d.bits == 32) return DType::f32;
      if (d.bits == 64) return DType::f64;
    }
  }
  throw nb::type_error("array element type not supported: expected uint8, uint16, uint32, int32, float32 or float64");
}

}  // namespace

nb::object to_numpy(const Array& array) {
  if (array.empty()) return nb::none();
  auto* keep = new Array(array);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Array*>(p); });
  std::vector<std::size_t> shape(array.shape().begin(), array.shape().end());
  std::vector<std::int64_t> strides;
  const auto elem = static_cast<std::int64_t>(size_of(array.dtype()));
  for (std::int64_t s : array.byte_strides()) strides.push_back(s / elem);
  nb::ndarray<nb::numpy> out(array.bytes(), shape.size(), shape.data(), owner, strides.data(), dlpack_of(array.dtype()));
  return nb::cast(out, nb::rv_policy::reference);
}

Array borrow_array(const nb::ndarray<nb::ro, nb::device::cpu>& data) {
  const DType dtype = dtype_of_dlpack(data.dtype());
  Shape shape;
  std::vector<std::int64_t> strides;
  const auto elem = static_cast<std::int64_t>(size_of(dtype));
  for (std::size_t i = 0; i < data.ndim(); ++i) {
    shape.push_back(static_cast<std::int64_t>(data.shape(i)));
    strides.push_back(data.stride(i) * elem);
  }
  return Array::borrow(const_cast<void*>(data.data()), dtype, shape, strides);
}

Array copy_array(nb::handle object) {
  nb::object np = nb::module_::import_("numpy");
  nb::object arr = np.attr("ascontiguousarray")(object);
  return borrow_array(nb::cast<nb::ndarray<nb::ro, nb::device::cpu>>(arr)).copy();
}

nb::object to_python(const Metadata& j) {
  switch (j.type()) {
    case Metadata::value_t::null: return nb::none();
    case Metadata::value_t::boolean: return nb::bool_(j.get<bool>());
    case Metadata::value_t::number_integer: return nb::int_(j.get<std::int64_t>());
    case Metadata::value_t::number_unsigned: return nb::int_(j.get<std::uint64_t>());
    case Metadata::value_t::number_float: return nb::float_(j.get<double>());
    case Metadata::value_t::string: return nb::str(j.get_ref<const std::string&>().c_str());
    case Metadata::value_t::array: {
      nb::list out;
      for (const auto& v : j) out.append(to_python(v));
      return out;
    }
    case Metadata::value_t::object: {
      nb::dict out;
      for (const auto& [k, v] : j.items()) out[nb::str(k.c_str())] = to_python(v);
      return out;
    }
    default: return nb::none();
  }
}

Metadata from_python(nb::handle h) {
  if (h.is_none()) return nullptr;
  if (nb::isinstance<nb::bool_>(h)) return nb::cast<bool>(h);
  if (nb::isinstance<nb::int_>(h)) return nb::cast<std::int64_t>(h);
  if (nb::isinstance<nb::float_>(h)) return nb::cast<double>(h);
  if (nb::isinstance<nb::str>(h)) return nb::cast<std::string>(h);
  if (nb::isinstance<nb::dict>(h)) {
    Metadata out = Metadata::object();
    for (auto [k, v] : nb::borrow<nb::dict>(h)) out[nb::cast<std::string>(nb::str(k))] = from_python(v);
    return out;
  }
  if (nb::isinstance<nb::list>(h) || nb::isinstance<nb::tuple>(h)) {
    Metadata out = Metadata::array();
    for (nb::handle v : h) out.push_back(from_python(v));
    return out;
  }
  if (nb::hasattr(h, "tolist")) return from_python(h.attr("tolist")());  // numpy arrays and scalars
  throw nb::type_error(("metadata value of unsupported type " +
                        nb::cast<std::string>(nb::str(h.type().attr("__name__")))).c_str());
}

}  // namespace scandiff::python
