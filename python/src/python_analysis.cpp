#include "python_analysis.hpp"

#include "scandiff/core/error.hpp"

namespace scandiff::python {

namespace {

nb::dlpack::dtype dlpack_of(DType t) {
  return visit_dtype(t, [](auto tag) { return nb::dtype<decltype(tag)>(); });
}

// A Partial holding one Python object; reset and destruction take the GIL (engine threads).
struct ObjectPartial final : engine::Partial {
  PyObject* value = nullptr;
  ~ObjectPartial() override { reset(); }
  void reset() override {
    if (!value) return;
    nb::gil_scoped_acquire gil;
    Py_CLEAR(value);
  }
  std::size_t bytes() const override { return 0; }
};

}  // namespace

nb::object frames_view(const engine::FrameBlock& block) {
  const std::size_t shape[3] = {static_cast<std::size_t>(block.count), static_cast<std::size_t>(block.frame_y),
                                static_cast<std::size_t>(block.frame_x)};
  nb::ndarray<nb::numpy, nb::ro> view(block.data, 3, shape, nb::handle(), nullptr, dlpack_of(block.dtype));
  return nb::cast(view, nb::rv_policy::reference);
}

void PythonAnalysis::fail(nb::python_error& error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_.emplace(error);
  }
  throw Error(name() + ": the Python function raised " + error.what());
}

void PythonAnalysis::rethrow_python_error() {
  std::optional<nb::python_error> e;
  {
    std::lock_guard lock(mutex_);
    if (error_) e.emplace(*error_);
    error_.reset();
  }
  if (e) throw *e;
}

FrameMap::FrameMap(nb::callable function, std::string name, std::vector<std::int64_t> value_shape, DType dtype,
                   bool per_block, std::string units)
    : function_(std::move(function)), name_(std::move(name)), units_(std::move(units)),
      value_shape_(std::move(value_shape)), dtype_(dtype), per_block_(per_block) {
  for (std::int64_t n : value_shape_)
    if (n <= 0) throw InvalidArgument(name_ + ": value_shape entries must be positive");
}

void FrameMap::prepare(const io::DatasetInfo& info) {
  info_ = info;
  Shape shape{info.scan_y, info.scan_x};
  shape.insert(shape.end(), value_shape_.begin(), value_shape_.end());
  output_ = Array(dtype_, shape);
}

void FrameMap::process(const engine::FrameBlock& block, engine::Partial*) {
  const std::int64_t per_frame = element_count(value_shape_);
  std::vector<std::size_t> shape{static_cast<std::size_t>(block.count)};
  for (std::int64_t n : value_shape_) shape.push_back(static_cast<std::size_t>(n));
  std::byte* out = output_.bytes() + block.first * per_frame * static_cast<std::int64_t>(size_of(dtype_));
  nb::gil_scoped_acquire gil;
  try {
    nb::ndarray<nb::numpy> out_view(out, shape.size(), shape.data(), nb::handle(), nullptr, dlpack_of(dtype_));
    nb::object target = nb::cast(out_view, nb::rv_policy::reference);
    nb::object frames = frames_view(block);
    if (per_block_) {
      target[nb::ellipsis()] = function_(frames, block.first);
    } else {
      nb::list values;  // one assignment per block: numpy converts the list in one go
      for (nb::handle frame : frames) values.append(function_(frame));
      target[nb::ellipsis()] = values;
    }
  } catch (nb::python_error& e) {
    fail(e);
  }
}

std::vector<Result> FrameMap::results() const {
  std::vector<Axis> axes = info_.scan_axes();
  for (std::size_t k = 0; k < value_shape_.size(); ++k) axes.push_back(Axis{"value" + std::to_string(k), 0, 1, ""});
  Metadata provenance{{"analysis", "python_function"}, {"per_block", per_block_}, {"input", info_.path}};
  return {Result{name_, output_, axes, units_, provenance}};
}

BlockReduce::BlockReduce(nb::callable function, nb::callable merge, nb::object finish, std::string name)
    : function_(std::move(function)), merge_(std::move(merge)), finish_(std::move(finish)), name_(std::move(name)) {}

void BlockReduce::prepare(const io::DatasetInfo&) {
  nb::gil_scoped_acquire gil;
  value_ = nb::none();
  failed_ = false;
}

std::unique_ptr<engine::Partial> BlockReduce::make_partial() const { return std::make_unique<ObjectPartial>(); }

void BlockReduce::process(const engine::FrameBlock& block, engine::Partial* partial) {
  auto* p = static_cast<ObjectPartial*>(partial);
  nb::gil_scoped_acquire gil;
  try {
    nb::object r = function_(frames_view(block), block.first);
    Py_XSETREF(p->value, r.release().ptr());
  } catch (nb::python_error& e) {
    fail(e);
  }
}

void BlockReduce::merge(const engine::Partial& partial) {
  const auto& p = static_cast<const ObjectPartial&>(partial);
  nb::gil_scoped_acquire gil;
  try {
    nb::handle v(p.value ? p.value : Py_None);
    if (value_.is_none()) value_ = nb::borrow(v);
    else value_ = merge_(value_, v);
  } catch (nb::python_error& e) {
    fail(e);
  }
}

void BlockReduce::finish() {
  nb::gil_scoped_acquire gil;
  try {
    if (!finish_.is_none()) value_ = finish_(value_);
  } catch (nb::python_error& e) {
    fail(e);
  }
}

}  // namespace scandiff::python
