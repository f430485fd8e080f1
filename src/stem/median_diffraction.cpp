#include "scandiff/stem/median_diffraction.hpp"

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/version.hpp"

namespace scandiff::stem {

namespace {

std::string mib(std::size_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

}  // namespace

std::size_t median_bytes_per_pixel(const io::DatasetInfo& info, const ScanWeights& positions) {
  const std::size_t value = positions.kind() == ScanWeights::Kind::weights ? sizeof(double) : size_of(info.dtype);
  return value * static_cast<std::size_t>(positions.count(info.frame_count()));
}

std::vector<std::pair<std::int64_t, std::int64_t>> median_tiles(const io::DatasetInfo& info,
                                                                const ScanWeights& positions, std::size_t bytes) {
  const std::size_t per_pixel = std::max<std::size_t>(1, median_bytes_per_pixel(info, positions));
  if (bytes < per_pixel)
    throw BudgetError(fmt::format("median diffraction: one detector pixel needs {} (every included position's value) "
                                  "but only {} is available; raise --memory",
                                  mib(per_pixel), mib(bytes)));
  const auto tile = static_cast<std::int64_t>(bytes / per_pixel);
  std::vector<std::pair<std::int64_t, std::int64_t>> tiles;
  for (std::int64_t b = 0; b < info.frame_pixels(); b += tile) tiles.emplace_back(b, std::min(info.frame_pixels(), b + tile));
  return tiles;
}

MedianDiffraction::MedianDiffraction(MedianOptions options, std::int64_t pixel_begin, std::int64_t pixel_end, Array out)
    : options_(std::move(options)), begin_(pixel_begin), end_(pixel_end), out_(std::move(out)) {
  if (options_.shift == CenterShift::subpixel)
    throw InvalidArgument("median diffraction: only an integer (rolled) origin shift is supported, not a subpixel one");
  if (!(0 <= begin_ && begin_ < end_)) throw InvalidArgument("median diffraction: empty detector pixel tile");
}

void MedianDiffraction::prepare(const io::DatasetInfo& info) {
  info_ = info;
  if (out_.rank() != 2 || out_.dtype() != DType::f64 || out_.shape(0) != info.frame_y || out_.shape(1) != info.frame_x)
    throw InvalidArgument(fmt::format("median diffraction: the output must be float64 ({}, {})", info.frame_y,
                                      info.frame_x));
  if (end_ > info.frame_pixels())
    throw InvalidArgument(fmt::format("median diffraction: pixel tile [{}, {}) exceeds the {} detector pixels", begin_,
                                      end_, info.frame_pixels()));
  options_.positions.check(info.scan_y, info.scan_x, "median diffraction");
  if (options_.shift == CenterShift::integer)
    origin_ = Origin::from_calibration(info.calibration, info.scan_y, info.scan_x, "median diffraction shift");
  ordinal_.assign(static_cast<std::size_t>(info.frame_count()), -1);
  included_ = 0;
  for (std::int64_t f = 0; f < info.frame_count(); ++f)
    if (options_.positions.included(f)) ordinal_[static_cast<std::size_t>(f)] = included_++;
  value_bytes_ = options_.positions.kind() == ScanWeights::Kind::weights ? sizeof(double) : size_of(info.dtype);
  // Uninitialised: every value is written by exactly one frame before it is read.
  values_bytes_ = static_cast<std::size_t>(end_ - begin_) * static_cast<std::size_t>(included_) * value_bytes_;
  values_.reset(new std::byte[values_bytes_]);
}

template <class V, class T>
void MedianDiffraction::gather(const engine::FrameBlock& block, const T* frames) {
  const std::int64_t H = block.frame_y, W = block.frame_x, n = block.frame_pixels();
  struct Src {
    const T* frame;
    std::int64_t ordinal, sy, sx;
    double w;
    const T* row;
  };
  std::vector<Src> src;
  for (std::int64_t f = 0; f < block.count; ++f) {
    const std::int64_t pos = block.first + f;
    const std::int64_t o = ordinal_[static_cast<std::size_t>(pos)];
    if (o < 0) continue;
    std::int64_t sy = 0, sx = 0;
    if (options_.shift == CenterShift::integer) {
      sy = static_cast<std::int64_t>(std::nearbyint(origin_.mean_qy_px() - origin_.qy_px(pos)));
      sx = static_cast<std::int64_t>(std::nearbyint(origin_.mean_qx_px() - origin_.qx_px(pos)));
    }
    sy = ((sy % H) + H) % H;
    sx = ((sx % W) + W) % W;
    src.push_back({frames + f * n, o, sy, sx, options_.positions.weight(pos), nullptr});
  }
  if (src.empty()) return;
  V* values = reinterpret_cast<V*>(values_.get());
  const auto count = static_cast<std::size_t>(included_);
  // Destination pixel (i, j) of the rolled pattern takes source pixel ((i − sy) mod H, (j − sx) mod W).
  for (std::int64_t i = begin_ / W; i <= (end_ - 1) / W; ++i) {
    const std::int64_t j0 = std::max(begin_ - i * W, std::int64_t{0});
    const std::int64_t j1 = std::min(end_ - i * W, W);
    for (Src& s : src) {
      std::int64_t r = i - s.sy;
      if (r < 0) r += H;
      s.row = s.frame + r * W;
    }
    for (std::int64_t j = j0; j < j1; ++j) {
      V* dst = values + static_cast<std::size_t>(i * W + j - begin_) * count;
      for (const Src& s : src) {
        std::int64_t c = j - s.sx;
        if (c < 0) c += W;
        if constexpr (std::is_same_v<V, T>)
          dst[s.ordinal] = s.row[c];
        else
          dst[s.ordinal] = s.w * static_cast<double>(s.row[c]);
      }
    }
  }
}

void MedianDiffraction::process(const engine::FrameBlock& block, engine::Partial*) {
  visit_dtype(block.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* frames = reinterpret_cast<const T*>(block.data);
    if (options_.positions.kind() == ScanWeights::Kind::weights)
      gather<double>(block, frames);
    else
      gather<T>(block, frames);
  });
}

template <class V>
void MedianDiffraction::select_medians() {
  V* values = reinterpret_cast<V*>(values_.get());
  const auto n = static_cast<std::size_t>(included_);
  double* out = out_.data<double>();
  auto body = [&](std::int64_t p) {
    V* v = values + static_cast<std::size_t>(p) * n;
    std::nth_element(v, v + n / 2, v + n);
    const double hi = static_cast<double>(v[n / 2]);
    // numpy.median: the middle value, or the mean of the two middle values for an even count.
    out[begin_ + p] = n % 2 ? hi : (static_cast<double>(*std::max_element(v, v + n / 2)) + hi) / 2;
  };
  const int threads = options_.threads > 0 ? options_.threads : tbb::this_task_arena::max_concurrency();
  tbb::task_arena arena(threads);
  arena.execute([&] { tbb::parallel_for(std::int64_t{0}, end_ - begin_, body); });
}

void MedianDiffraction::finish() {
  if (options_.positions.kind() == ScanWeights::Kind::weights)
    select_medians<double>();
  else
    visit_dtype(info_.dtype, [&](auto tag) { select_medians<decltype(tag)>(); });
  values_.reset();
  values_bytes_ = 0;
}

std::vector<Result> MedianDiffraction::results() const {
  Metadata prov{{"analysis", "median_diffraction"},
                {"positions", options_.positions.describe()},
                {"shift_center", std::string(name_of(options_.shift))},
                {"input", info_.path},
                {"scandiff_version", scandiff::version}};
  return {Result{"median_diffraction", out_, info_.detector_axes(), "counts", std::move(prov)}};
}

Result median_diffraction(io::Source& source, const MedianOptions& options, const engine::RunOptions& run) {
  const io::DatasetInfo& info = source.info();
  info.validate();
  options.positions.check(info.scan_y, info.scan_x, "median diffraction");
  const std::size_t budget = run.memory_budget > 0 ? run.memory_budget : engine::default_memory_budget();
  const auto tiles = median_tiles(info, options.positions, budget / 2);
  Array out(DType::f64, {info.frame_y, info.frame_x});
  const std::int64_t frames = info.frame_count();
  const auto passes = static_cast<std::int64_t>(tiles.size());
  MedianOptions o = options;
  if (o.threads == 0) o.threads = run.threads;
  std::vector<Result> results;
  for (std::int64_t k = 0; k < passes; ++k) {
    MedianDiffraction tile(o, tiles[static_cast<std::size_t>(k)].first, tiles[static_cast<std::size_t>(k)].second, out);
    engine::Analysis* list[] = {&tile};
    engine::RunOptions r = run;
    if (run.progress)
      r.progress = [&run, k, frames, passes](std::int64_t done, std::int64_t, std::string_view what) {
        return run.progress(k * frames + done, passes * frames, what);
      };
    engine::run(source, list, r);
    if (k + 1 == passes) results = tile.results();
  }
  results[0].provenance["passes"] = passes;
  return results[0];
}

}  // namespace scandiff::stem
