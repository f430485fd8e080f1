#include "scandiff/sxdm/background.hpp"

#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/image_file.hpp"

namespace scandiff::sxdm {

namespace {

// Adds the `count` frames at `src` (dtype t) to `acc` (frame_pixels doubles each).
void accumulate(const std::byte* src, DType t, std::int64_t count, std::int64_t pixels, std::vector<double>& acc) {
  visit_dtype(t, [&](auto tag) {
    using T = decltype(tag);
    const T* p = reinterpret_cast<const T*>(src);
    for (std::int64_t f = 0; f < count; ++f)
      for (std::int64_t i = 0; i < pixels; ++i) acc[static_cast<std::size_t>(i)] += static_cast<double>(p[f * pixels + i]);
  });
}

}  // namespace

Array edge_frame_background(io::Source& source, std::int64_t n, double multiplier) {
  if (n < 1) throw InvalidArgument(fmt::format("background: the number of edge frames must be >= 1 (got {})", n));
  const io::DatasetInfo& info = source.info();
  const std::int64_t total = info.frame_count();
  const std::int64_t head = std::min(n, total);
  const std::int64_t tail_first = std::max(head, total - n);  // no frame counted twice
  std::vector<double> acc(static_cast<std::size_t>(info.frame_pixels()), 0.0);
  std::vector<std::byte> buf(info.frame_bytes() * static_cast<std::size_t>(std::max<std::int64_t>(head, 1)));
  source.read(0, head, buf.data());
  accumulate(buf.data(), info.dtype, head, info.frame_pixels(), acc);
  const std::int64_t tail = total - tail_first;
  if (tail > 0) {
    buf.resize(info.frame_bytes() * static_cast<std::size_t>(tail));
    source.read(tail_first, tail, buf.data());
    accumulate(buf.data(), info.dtype, tail, info.frame_pixels(), acc);
  }
  const double scale = multiplier / static_cast<double>(head + tail);
  Array out(DType::f64, {info.frame_y, info.frame_x});
  double* o = out.data<double>();
  for (std::size_t i = 0; i < acc.size(); ++i) o[i] = acc[i] * scale;
  return out;
}

Array scan_background(io::Source& source, const BackgroundSpec& spec) {
  const io::DatasetInfo& info = source.info();
  switch (spec.kind) {
    case BackgroundSpec::Kind::edge_frames: return edge_frame_background(source, spec.frames, spec.multiplier);
    case BackgroundSpec::Kind::image: {
      if (spec.images.empty()) throw InvalidArgument("background: no image files given");
      Array sum(DType::f64, {info.frame_y, info.frame_x});
      std::fill_n(sum.data<double>(), sum.size(), 0.0);
      for (const auto& path : spec.images) {
        const Array img = io::read_image(path).astype(DType::f64);
        if (img.shape(0) != info.frame_y || img.shape(1) != info.frame_x)
          throw InvalidArgument(fmt::format("{}: background image is {}x{}, the frames of {} are {}x{}", path.string(),
                                            img.shape(0), img.shape(1), info.path, info.frame_y, info.frame_x));
        for (std::int64_t i = 0; i < sum.size(); ++i) sum.data<double>()[i] += img.data<double>()[i];
      }
      const double scale = spec.multiplier / static_cast<double>(spec.images.size());
      for (std::int64_t i = 0; i < sum.size(); ++i) sum.data<double>()[i] *= scale;
      return sum;
    }
    case BackgroundSpec::Kind::none: break;
  }
  Array zero(DType::f64, {info.frame_y, info.frame_x});
  std::fill_n(zero.data<double>(), zero.size(), 0.0);
  return zero;
}

BackgroundSubtracted::BackgroundSubtracted(std::shared_ptr<io::Source> inner, Array background)
    : inner_(std::move(inner)), background_(background.astype(DType::f64).copy()) {
  if (!inner_) throw InvalidArgument("background subtraction: no source given");
  info_ = inner_->info();
  if (background_.rank() != 2 || background_.shape(0) != info_.frame_y || background_.shape(1) != info_.frame_x)
    throw InvalidArgument(fmt::format("background subtraction: the background must be {}x{} like the frames of {}",
                                      info_.frame_y, info_.frame_x, info_.path));
  info_.dtype = DType::f32;
}

void BackgroundSubtracted::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  const io::DatasetInfo& in = inner_->info();
  const std::int64_t pixels = in.frame_pixels();
  const double* b = background_.data<double>();
  float* out = reinterpret_cast<float*>(dst);
  if (in.dtype == DType::f32) {  // read in place, subtract in place
    inner_->read(first, count, dst);
    for (std::int64_t f = 0; f < count; ++f)
      for (std::int64_t i = 0; i < pixels; ++i)
        out[f * pixels + i] = static_cast<float>(static_cast<double>(out[f * pixels + i]) - b[i]);
    return;
  }
  std::vector<std::byte> raw(in.frame_bytes());
  for (std::int64_t f = 0; f < count; ++f) {
    inner_->read(first + f, 1, raw.data());
    visit_dtype(in.dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* p = reinterpret_cast<const T*>(raw.data());
      for (std::int64_t i = 0; i < pixels; ++i)
        out[f * pixels + i] = static_cast<float>(static_cast<double>(p[i]) - b[i]);
    });
  }
}

}  // namespace scandiff::sxdm
