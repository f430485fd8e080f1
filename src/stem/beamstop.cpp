#include "scandiff/stem/beamstop.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::stem {

namespace {

// scipy.ndimage.binary_fill_holes: set every 0-pixel not 4-connected to the border to 1.
void fill_holes(std::vector<std::uint8_t>& x, std::int64_t ny, std::int64_t nx) {
  std::vector<std::uint8_t> outside(x.size(), 0);
  std::vector<std::int64_t> stack;
  auto seed = [&](std::int64_t y, std::int64_t c) {
    const auto p = static_cast<std::size_t>(y * nx + c);
    if (!x[p] && !outside[p]) {
      outside[p] = 1;
      stack.push_back(y * nx + c);
    }
  };
  for (std::int64_t c = 0; c < nx; ++c) {
    seed(0, c);
    seed(ny - 1, c);
  }
  for (std::int64_t y = 0; y < ny; ++y) {
    seed(y, 0);
    seed(y, nx - 1);
  }
  while (!stack.empty()) {
    const std::int64_t p = stack.back();
    stack.pop_back();
    const std::int64_t y = p / nx, c = p % nx;
    if (y > 0) seed(y - 1, c);
    if (y + 1 < ny) seed(y + 1, c);
    if (c > 0) seed(y, c - 1);
    if (c + 1 < nx) seed(y, c + 1);
  }
  for (std::size_t p = 0; p < x.size(); ++p) x[p] = outside[p] ? 0 : 1;
}

}  // namespace

Array beamstop_mask(const Array& pattern, const BeamstopOptions& o) {
  if (pattern.rank() != 2 || pattern.size() == 0)
    throw InvalidArgument(fmt::format("beam stop: expected a 2D pattern (got shape {})", shape_string(pattern.shape())));
  if (!(o.threshold >= 0 && o.threshold <= 1))
    throw InvalidArgument(fmt::format("beam stop: threshold must be a quantile in [0, 1] (got {})", o.threshold));
  if (!(o.margin_px >= 0)) throw InvalidArgument(fmt::format("beam stop: margin_px must be >= 0 (got {})", o.margin_px));
  const Array im = pattern.astype(DType::f64);
  const double* v = im.data<double>();
  const std::int64_t ny = im.shape(0), nx = im.shape(1), n = im.size();
  std::vector<double> sorted(v, v + n);
  std::sort(sorted.begin(), sorted.end());
  const auto index = std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(std::nearbyint(static_cast<double>(n) * o.threshold)));
  const double level = sorted[static_cast<std::size_t>(index)];

  std::vector<std::uint8_t> bright(static_cast<std::size_t>(n));
  for (std::int64_t p = 0; p < n; ++p) bright[static_cast<std::size_t>(p)] = v[p] >= level;
  for (auto& b : bright) b = !b;
  fill_holes(bright, ny, nx);
  for (auto& b : bright) b = !b;
  fill_holes(bright, ny, nx);
  if (o.include_edges) {
    for (std::int64_t c = 0; c < nx; ++c) bright[static_cast<std::size_t>(c)] = bright[static_cast<std::size_t>((ny - 1) * nx + c)] = 0;
    for (std::int64_t y = 0; y < ny; ++y) bright[static_cast<std::size_t>(y * nx)] = bright[static_cast<std::size_t>(y * nx + nx - 1)] = 0;
  }
  // Blocked: a non-bright pixel within distance < margin (itself at distance 0).
  Array mask(DType::u8, {ny, nx});
  std::uint8_t* m = mask.data<std::uint8_t>();
  const auto reach = static_cast<std::int64_t>(std::ceil(o.margin_px));
  const double margin2 = o.margin_px * o.margin_px;
  for (std::int64_t y = 0; y < ny; ++y)
    for (std::int64_t c = 0; c < nx; ++c) {
      bool blocked = false;
      for (std::int64_t dy = -reach; dy <= reach && !blocked; ++dy)
        for (std::int64_t dx = -reach; dx <= reach && !blocked; ++dx) {
          const std::int64_t yy = y + dy, xx = c + dx;
          if (yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
          if (!bright[static_cast<std::size_t>(yy * nx + xx)] && static_cast<double>(dy * dy + dx * dx) < margin2) blocked = true;
        }
      m[y * nx + c] = blocked;
    }
  return mask;
}

}  // namespace scandiff::stem
