#include "scandiff/io/scan_subset.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::io {

namespace {

// Rows begin, begin + step, ... < end of a (rows, cols) float64 map, and likewise columns.
Array subset_map(const Array& map, std::int64_t ry0, std::int64_t ny, std::int64_t rx0, std::int64_t nx,
                 std::int64_t step) {
  if (map.empty()) return map;
  const Array src = map.astype(DType::f64);
  auto in = src.view<const double, 2>();
  Array out(DType::f64, {ny, nx});
  auto o = out.view<double, 2>();
  for (std::int64_t i = 0; i < ny; ++i)
    for (std::int64_t j = 0; j < nx; ++j) o(i, j) = in(ry0 + i * step, rx0 + j * step);
  return out;
}

}  // namespace

ScanSubset::ScanSubset(std::shared_ptr<Source> inner, std::int64_t ry_begin, std::int64_t ry_end,
                       std::int64_t rx_begin, std::int64_t rx_end, std::int64_t step)
    : inner_(std::move(inner)), ry0_(ry_begin), rx0_(rx_begin), step_(step) {
  if (!inner_) throw InvalidArgument("scan subset: no source given");
  const DatasetInfo& in = inner_->info();
  if (step < 1) throw InvalidArgument(fmt::format("scan subset: step must be >= 1 (got {})", step));
  if (ry_begin < 0 || ry_begin >= ry_end || ry_end > in.scan_y)
    throw InvalidArgument(fmt::format("scan subset: rows [{}, {}) must satisfy 0 <= begin < end <= {} (scan rows of {})",
                                      ry_begin, ry_end, in.scan_y, in.path));
  if (rx_begin < 0 || rx_begin >= rx_end || rx_end > in.scan_x)
    throw InvalidArgument(fmt::format(
        "scan subset: columns [{}, {}) must satisfy 0 <= begin < end <= {} (scan columns of {})", rx_begin, rx_end,
        in.scan_x, in.path));
  info_ = in;
  info_.scan_y = (ry_end - ry_begin + step - 1) / step;
  info_.scan_x = (rx_end - rx_begin + step - 1) / step;
  info_.calibration.scan_pixel_size = in.calibration.scan_pixel_size * static_cast<double>(step);
  info_.calibration.origin_qy_map = subset_map(in.calibration.origin_qy_map, ry0_, info_.scan_y, rx0_, info_.scan_x, step);
  info_.calibration.origin_qx_map = subset_map(in.calibration.origin_qx_map, ry0_, info_.scan_y, rx0_, info_.scan_x, step);
  if (!info_.metadata.is_object()) info_.metadata = Metadata::object();
  info_.metadata["scan_subset"] = {{"ry_begin", ry_begin}, {"ry_end", ry_end}, {"rx_begin", rx_begin},
                                   {"rx_end", rx_end},     {"step", step},     {"inner_scan", {in.scan_y, in.scan_x}}};
  info_.validate();
}

std::int64_t ScanSubset::inner_frame(std::int64_t i) const {
  const std::int64_t ry = i / info_.scan_x, rx = i % info_.scan_x;
  return (ry0_ + ry * step_) * inner_->info().scan_x + rx0_ + rx * step_;
}

void ScanSubset::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  const std::size_t frame_bytes = info_.frame_bytes();
  std::int64_t i = first;
  while (i < first + count) {
    // The longest run of output frames that are consecutive inner frames.
    const std::int64_t start = inner_frame(i);
    std::int64_t n = 1;
    while (i + n < first + count && inner_frame(i + n) == start + n) ++n;
    inner_->read(start, n, dst);
    dst += static_cast<std::size_t>(n) * frame_bytes;
    i += n;
  }
}

}  // namespace scandiff::io
