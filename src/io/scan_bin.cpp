#include "scandiff/io/scan_bin.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io {

namespace {

// The mean of each k×k block of a (rows, cols) map (float64), remainder dropped.
Array bin_map(const Array& map, std::int64_t ny, std::int64_t nx, std::int64_t k) {
  if (map.empty()) return map;
  const Array src = map.astype(DType::f64);
  auto in = src.view<const double, 2>();
  Array out(DType::f64, {ny, nx});
  auto o = out.view<double, 2>();
  const double norm = 1.0 / static_cast<double>(k * k);
  for (std::int64_t i = 0; i < ny; ++i)
    for (std::int64_t j = 0; j < nx; ++j) {
      double s = 0;
      for (std::int64_t a = 0; a < k; ++a)
        for (std::int64_t b = 0; b < k; ++b) s += in(i * k + a, j * k + b);
      o(i, j) = s * norm;
    }
  return out;
}

// Adds `frames` consecutive frames of `src` (each `pixels` long) into the accumulators of
// consecutive output frames, k inner frames per output frame: acc[f / k] += src[f].
template <class In, class Acc>
void add_rows(const In* src, Acc* acc, std::int64_t frames, std::int64_t k, std::int64_t pixels) {
  for (std::int64_t f = 0; f < frames; ++f) {
    const In* s = src + f * pixels;
    Acc* a = acc + (f / k) * pixels;
    for (std::int64_t p = 0; p < pixels; ++p) a[p] += static_cast<Acc>(s[p]);
  }
}

}  // namespace

ScanBin::ScanBin(std::shared_ptr<Source> inner, std::int64_t factor) : inner_(std::move(inner)), k_(factor) {
  if (!inner_) throw InvalidArgument("scan bin: no source given");
  const DatasetInfo& in = inner_->info();
  if (factor < 1 || factor > 256)
    throw InvalidArgument(fmt::format("scan bin: factor must be 1..256 (got {})", factor));
  if (factor > in.scan_y || factor > in.scan_x)
    throw InvalidArgument(fmt::format("scan bin: factor {} is larger than the {}x{} scan of {}", factor, in.scan_y,
                                      in.scan_x, in.path));
  info_ = in;
  info_.scan_y = in.scan_y / k_;
  info_.scan_x = in.scan_x / k_;
  info_.dtype = sum_dtype(in.dtype);
  info_.calibration.scan_pixel_size = in.calibration.scan_pixel_size * static_cast<double>(k_);
  info_.calibration.origin_qy_map = bin_map(in.calibration.origin_qy_map, info_.scan_y, info_.scan_x, k_);
  info_.calibration.origin_qx_map = bin_map(in.calibration.origin_qx_map, info_.scan_y, info_.scan_x, k_);
  if (!info_.metadata.is_object()) info_.metadata = Metadata::object();
  info_.metadata["scan_bin"] = {{"factor", k_}, {"reduction", "sum"}, {"inner_scan", {in.scan_y, in.scan_x}}};
  info_.validate();
}

void ScanBin::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  const DatasetInfo& in = inner_->info();
  const std::int64_t pixels = info_.frame_pixels();
  const std::size_t in_frame_bytes = in.frame_bytes();
  // Output frames per inner read: k inner frames each, at most ~8 MiB of inner data.
  const std::int64_t chunk =
      std::max<std::int64_t>(1, static_cast<std::int64_t>((std::size_t{8} << 20) / (in_frame_bytes * k_)));
  std::vector<std::byte> scratch;

  visit_dtype(in.dtype, [&](auto tag) {
    using In = decltype(tag);
    // Exact accumulator: uint32 for 8/16-bit data (sum_dtype), float64 otherwise.
    using Acc = std::conditional_t<(sizeof(In) <= 2 && std::is_integral_v<In>), std::uint32_t, double>;
    std::vector<Acc> acc;
    std::int64_t i = first;
    while (i < first + count) {
      // A run of output frames in one output row, at most `chunk` long.
      const std::int64_t row = i / info_.scan_x, col = i % info_.scan_x;
      const std::int64_t n = std::min({chunk, first + count - i, info_.scan_x - col});
      acc.assign(static_cast<std::size_t>(n * pixels), Acc{0});
      scratch.resize(static_cast<std::size_t>(n * k_) * in_frame_bytes);
      for (std::int64_t a = 0; a < k_; ++a) {
        const std::int64_t inner_first = (row * k_ + a) * in.scan_x + col * k_;
        inner_->read(inner_first, n * k_, scratch.data());
        add_rows(reinterpret_cast<const In*>(scratch.data()), acc.data(), n * k_, k_, pixels);
      }
      visit_dtype(info_.dtype, [&](auto out_tag) {
        using Out = decltype(out_tag);
        Out* out = reinterpret_cast<Out*>(dst) + (i - first) * pixels;
        std::transform(acc.begin(), acc.end(), out, [](Acc v) { return static_cast<Out>(v); });
      });
      i += n;
    }
  });
}

}  // namespace scandiff::io
