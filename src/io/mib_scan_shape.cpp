// Scan shape of a Merlin acquisition (reference §8). The .mib carries none, so the rules
// below are tried in order and the first that applies wins; the choice and its reason are
// returned for info().metadata["scan_shape"].
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/mib.hpp"

namespace scandiff::io {

namespace {

constexpr double flyback_factor = 5.0;  // fly-back frames: exposure > 5 x the median

MibScanShape make_shape(std::int64_t y, std::int64_t x, std::int64_t first, std::int64_t stride, std::string source,
                        std::string reason, std::int64_t frames) {
  MibScanShape s;
  s.scan_y = y;
  s.scan_x = x;
  s.first_frame = first;
  s.line_stride = stride;
  s.source = std::move(source);
  s.details["reason"] = std::move(reason);
  const std::int64_t last = first + (y - 1) * stride + (x - 1);  // last acquisition frame used
  s.details["frames_skipped_at_start"] = first;
  s.details["frames_unused_at_end"] = frames - 1 - last;
  return s;
}

void warn_surplus(const MibScanShape& s, std::string_view where) {  // frames left after the last line
  const auto unused = s.details["frames_unused_at_end"].get<std::int64_t>();
  if (unused > 0)
    log_warning("{}: scan {}x{} ({}) leaves {} frame(s) at the end unused", where, s.scan_y, s.scan_x, s.source,
                unused);
}

double median(std::vector<double> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// Exposure fly-back rule (epsic STEM_flag_dict): the first frame of each line has an
// exposure > 5x the dwell (median). Lines are the spacing of those frames (the last spacing
// when irregular, starting past the last irregular line); the fly-back column is dropped.
std::optional<MibScanShape> detect_flyback(const std::vector<MibFrameTiming>& t, std::int64_t skip,
                                           std::int64_t frames, std::string& why_not, std::string_view where) {
  const auto n = frames - skip;
  std::vector<double> e(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) e[static_cast<std::size_t>(i)] = t[static_cast<std::size_t>(skip + i)].exposure_s;
  const double dwell = median(e);
  if (!(dwell > 0)) {
    why_not = "median exposure is 0";
    return std::nullopt;
  }
  std::vector<std::int64_t> flagged;
  std::int64_t typical = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double x = e[static_cast<std::size_t>(i)];
    if (x > flyback_factor * dwell) flagged.push_back(i);
    if (std::abs(x - dwell) <= 0.1 * dwell) ++typical;
  }
  if (flagged.size() < 2) {
    why_not = fmt::format("{} frame(s) with exposure > {}x the median {:.6g} s (need 2 or more)", flagged.size(),
                          flyback_factor, dwell);
    return std::nullopt;
  }
  const std::int64_t period = flagged.back() - flagged[flagged.size() - 2];
  std::size_t start_k = 0;  // the first fly-back frame of the regular run
  for (std::size_t k = flagged.size() - 1; k-- > 0;)
    if (flagged[k + 1] - flagged[k] != period) {
      start_k = k + 1;
      break;
    }
  const std::int64_t start = flagged[start_k];
  const std::int64_t lines = (n - start) / period;
  if (period < 2 || lines < 1) {
    why_not = fmt::format("fly-back frames every {} frame(s) leave no complete line", period);
    return std::nullopt;
  }
  if (static_cast<double>(typical) < 0.9 * static_cast<double>(n - static_cast<std::int64_t>(flagged.size())))
    log_warning("{}: only {} of {} frames have an exposure within 10% of the median {:.6g} s; fly-back detection may "
                "be unreliable (give --scan-shape to be sure)",
                where, typical, n, dwell);
  MibScanShape s = make_shape(lines, period - 1, skip + start + 1, period, "flyback",
                              fmt::format("frames with exposure > {}x the median {:.6g} s start each line every {} "
                                          "frames; the fly-back column is dropped",
                                          flyback_factor, dwell, period),
                              skip + n);
  s.details["median_exposure_s"] = dwell;
  s.details["flyback_frames"] = flagged.size();
  s.details["first_flyback_frame"] = skip + start;
  s.details["dropped_frames_per_line"] = 1;
  return s;
}

// Timestamp rule (rsciio, for pixel triggers): the first frame of a line arrives late, so
// the line length is 1 + the index of the first frame interval above the mean interval.
// Accepted only when every line start in the data is longer than every interval inside a
// line, and at least two lines result.
std::optional<MibScanShape> detect_timestamp_lines(const std::vector<MibFrameTiming>& t, std::int64_t skip,
                                                   std::int64_t frames, std::string& why_not) {
  const auto n = frames - skip;
  if (n < 4) {
    why_not = "fewer than 4 frames";
    return std::nullopt;
  }
  std::vector<std::int64_t> d(static_cast<std::size_t>(n - 1));
  long double sum = 0;
  for (std::int64_t i = 0; i + 1 < n; ++i) {
    const auto a = static_cast<std::size_t>(skip + i);
    d[static_cast<std::size_t>(i)] = t[a + 1].timestamp_ns - t[a].timestamp_ns;
    if (d[static_cast<std::size_t>(i)] < 0) {
      why_not = fmt::format("timestamps go backwards at frame {}", skip + i + 1);
      return std::nullopt;
    }
    sum += static_cast<long double>(d[static_cast<std::size_t>(i)]);
  }
  const long double mean = sum / static_cast<long double>(n - 1);
  const auto above = std::find_if(d.begin(), d.end(), [&](std::int64_t v) { return static_cast<long double>(v) > mean; });
  if (above == d.end()) {
    why_not = "all frame intervals are equal";
    return std::nullopt;
  }
  const std::int64_t line = (above - d.begin()) + 1;
  const std::int64_t lines = n / line;
  if (line < 2 || lines < 2) {
    why_not = fmt::format("a late frame after {} frames does not repeat", line);
    return std::nullopt;
  }
  std::int64_t min_start = INT64_MAX, max_inside = 0;
  for (std::int64_t i = 0; i + 1 < n; ++i) {
    const std::int64_t v = d[static_cast<std::size_t>(i)];
    if ((i + 1) % line == 0)
      min_start = std::min(min_start, v);
    else
      max_inside = std::max(max_inside, v);
  }
  if (min_start <= max_inside) {
    why_not = fmt::format("the intervals after every {} frames are not all longer than those within a line", line);
    return std::nullopt;
  }
  MibScanShape s = make_shape(lines, line, skip, line, "timestamps",
                              fmt::format("the first frame of every {}-frame line arrives at least {} ns later than any "
                                          "frame within a line",
                                          line, min_start - max_inside),
                              skip + n);
  s.details["line_start_delay_ns"] = min_start - max_inside;
  return s;
}

}  // namespace

Metadata MibScanShape::to_metadata() const {
  Metadata m;
  m["shape"] = {scan_y, scan_x};
  m["source"] = source;
  m["first_frame"] = first_frame;
  m["line_stride"] = line_stride;
  for (const auto& [k, v] : details.items()) m[k] = v;
  return m;
}

MibScanShape decide_mib_scan_shape(std::int64_t frames, const MibOptions& o, const MibAcquisitionHeader* hdr,
                                   const std::function<std::vector<MibFrameTiming>()>& timings,
                                   std::string_view where) {
  if (frames <= 0) throw FormatError(fmt::format("{}: no complete frame", where));
  if (o.skip_frames < 0 || o.skip_frames >= frames)
    throw InvalidArgument(fmt::format("{}: --skip-frames {} must be in [0, {}) for an acquisition of {} frames", where,
                                      o.skip_frames, frames, frames));
  const std::int64_t skip = o.skip_frames, n = frames - skip;
  const std::string after_skip = skip ? fmt::format(" ({} after skipping {})", n, skip) : "";
  Metadata rejected = Metadata::array();  // rules that were tried and why they did not apply

  // 1. The user's shape.
  if (o.scan_shape) {
    const auto [y, x] = *o.scan_shape;
    if (y <= 0 || x <= 0)
      throw InvalidArgument(fmt::format("--scan-shape {},{}: both extents must be positive", y, x));
    if (o.flyback == MibFlyback::on)
      throw InvalidArgument("--scan-shape and --flyback on exclude each other: a given shape is used as it is");
    if (y * x > n)
      throw InvalidArgument(fmt::format("{}: --scan-shape {},{} needs {} frames, but the acquisition has {}{}", where,
                                        y, x, y * x, frames, after_skip));
    auto s = make_shape(y, x, skip, x, "user", "given by the user", frames);
    warn_surplus(s, where);
    return s;
  }

  // 2. .hdr ScanX/ScanY (software >= 1.5).
  if (o.flyback != MibFlyback::on && hdr && hdr->scan_x && hdr->scan_y) {
    const std::int64_t sx = *hdr->scan_x, sy = *hdr->scan_y;
    if (sx * sy <= n) {
      auto s = make_shape(sy, sx, skip, sx, "hdr ScanX/ScanY", fmt::format("{} ScanX {}, ScanY {}", hdr->path, sx, sy),
                          frames);
      warn_surplus(s, where);
      return s;
    }
    if (n / sx >= 1) {
      log_warning("{}: .hdr ScanX {} x ScanY {} needs {} frames but the acquisition has {}{}: keeping the {} complete "
                  "line(s) (interrupted scan?)",
                  where, sx, sy, sx * sy, frames, after_skip, n / sx);
      return make_shape(n / sx, sx, skip, sx, "hdr ScanX/ScanY",
                        fmt::format("{} ScanX {}, ScanY {}; only {} complete lines present", hdr->path, sx, sy, n / sx),
                        frames);
    }
    log_warning("{}: .hdr ScanX {} exceeds the {} frames present; ignoring ScanX/ScanY", where, sx, n);
    rejected.push_back(fmt::format("hdr ScanX {} exceeds the frame count", sx));
  }

  // 3. Exposure fly-back frames.
  std::vector<MibFrameTiming> t;
  auto load_timings = [&] {
    t = timings();
    if (static_cast<std::int64_t>(t.size()) != frames)
      throw Error(fmt::format("{}: {} frame timings for {} frames", where, t.size(), frames));
  };
  if (o.flyback != MibFlyback::off) {
    load_timings();
    std::string why_not;
    if (auto s = detect_flyback(t, skip, frames, why_not, where)) {
      warn_surplus(*s, where);
      if (!rejected.empty()) s->details["rules_tried"] = rejected;
      return *s;
    }
    if (o.flyback == MibFlyback::on)
      throw FormatError(fmt::format("{}: --flyback on, but no fly-back lines were found: {}", where, why_not));
    rejected.push_back("flyback: " + why_not);
  }

  // 4. Frames per trigger as the line length (line triggers only).
  const std::int64_t fpt = hdr && hdr->frames_per_trigger ? *hdr->frames_per_trigger : 0;
  if (fpt > 1 && fpt < n) {
    auto s = make_shape(n / fpt, fpt, skip, fpt, "frames per trigger",
                        fmt::format("{} Frames per Trigger {} taken as the line length", hdr->path, fpt), frames);
    warn_surplus(s, where);
    if (!rejected.empty()) s.details["rules_tried"] = rejected;
    return s;
  }
  if (fpt > 1) rejected.push_back(fmt::format("frames per trigger {}: a whole-scan trigger, not a line", fpt));

  // 5. Late line starts in the timestamps (pixel triggers: FpT 1 or unknown).
  if (fpt <= 1) {
    if (t.empty()) load_timings();
    std::string why_not;
    if (auto s = detect_timestamp_lines(t, skip, frames, why_not)) {
      warn_surplus(*s, where);
      if (!rejected.empty()) s->details["rules_tried"] = rejected;
      return *s;
    }
    rejected.push_back("timestamps: " + why_not);
  }

  // 6. Nothing known: one line of frames.
  log_warning("{}: scan shape unknown (no .hdr ScanX/ScanY, no fly-back frames, no line trigger, no line-start "
              "delay): reading {} frames as a 1 x {} scan; give --scan-shape Y,X",
              where, n, n);
  auto s = make_shape(1, n, skip, n, "flat", "no rule applied", frames);
  s.details["rules_tried"] = rejected;
  return s;
}

}  // namespace scandiff::io
