#include "scandiff/engine/bin_q.hpp"

#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::engine {

namespace {

// Sums k×k blocks of each frame: accumulates in Acc (exact for the dtype), writes Out.
template <class In, class Acc, class Out>
void bin_frames(const In* src, Out* dst, std::int64_t count, std::int64_t ny, std::int64_t nx, std::int64_t k) {
  const std::int64_t oy = ny / k, ox = nx / k;
  std::vector<Acc> row(static_cast<std::size_t>(ox));
  for (std::int64_t f = 0; f < count; ++f) {
    const In* frame = src + f * ny * nx;
    for (std::int64_t i = 0; i < oy; ++i) {
      std::fill(row.begin(), row.end(), Acc{0});
      for (std::int64_t a = 0; a < k; ++a) {
        const In* line = frame + (i * k + a) * nx;
        for (std::int64_t j = 0; j < ox; ++j) {
          Acc s{0};
          for (std::int64_t b = 0; b < k; ++b) s += static_cast<Acc>(line[j * k + b]);
          row[static_cast<std::size_t>(j)] += s;
        }
      }
      for (std::int64_t j = 0; j < ox; ++j) dst[j] = static_cast<Out>(row[static_cast<std::size_t>(j)]);
      dst += ox;
    }
  }
}

}  // namespace

BinQ::BinQ(std::int64_t factor) : k_(factor) {
  if (factor < 1 || factor > 256) throw InvalidArgument(fmt::format("bin_q: factor must be 1..256 (got {})", factor));
}

io::DatasetInfo BinQ::prepare(const io::DatasetInfo& in) {
  if (in.frame_y < k_ || in.frame_x < k_)
    throw InvalidArgument(
        fmt::format("bin_q: factor {} is larger than the {}x{} frame", k_, in.frame_y, in.frame_x));
  io::DatasetInfo out = in;
  out.frame_y = in.frame_y / k_;
  out.frame_x = in.frame_x / k_;
  out.dtype = sum_dtype(in.dtype);
  const double shift = 0.5 * static_cast<double>(k_ - 1);
  out.calibration = map_detector_pixels(in.calibration, shift, shift, static_cast<double>(k_));
  return out;
}

void BinQ::apply(const FrameBlock& in, std::byte* out) const {
  visit_dtype(in.dtype, [&](auto tag) {
    using In = decltype(tag);
    const In* src = reinterpret_cast<const In*>(in.data);
    if constexpr (std::is_same_v<In, std::uint8_t> || std::is_same_v<In, std::uint16_t>)
      bin_frames<In, std::uint32_t>(src, reinterpret_cast<std::uint32_t*>(out), in.count, in.frame_y, in.frame_x, k_);
    else if constexpr (std::is_same_v<In, float>)
      bin_frames<In, double>(src, reinterpret_cast<float*>(out), in.count, in.frame_y, in.frame_x, k_);
    else
      bin_frames<In, double>(src, reinterpret_cast<double*>(out), in.count, in.frame_y, in.frame_x, k_);
  });
}

Metadata BinQ::parameters() const { return {{"factor", k_}, {"reduction", "sum"}}; }

}  // namespace scandiff::engine
