#include "scandiff/engine/frame_stage.hpp"

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::engine {

namespace {

// map[i] <- (map[i] - shift) / scale, as a new float64 array (the input may be shared).
Array map_origin(const Array& map, double shift, double scale) {
  if (map.empty()) return map;
  Array out = map.astype(DType::f64);
  double* p = out.data<double>();
  for (std::int64_t i = 0; i < out.size(); ++i) p[i] = (p[i] - shift) / scale;
  return out;
}

}  // namespace

Calibration map_detector_pixels(const Calibration& cal, double shift_qy_px, double shift_qx_px, double scale) {
  if (!(scale > 0)) throw InvalidArgument(fmt::format("detector pixel mapping: scale must be > 0 (got {})", scale));
  Calibration out = cal;
  out.detector_pixel_size = cal.detector_pixel_size * scale;
  if (cal.origin_qy_px) out.origin_qy_px = (*cal.origin_qy_px - shift_qy_px) / scale;
  if (cal.origin_qx_px) out.origin_qx_px = (*cal.origin_qx_px - shift_qx_px) / scale;
  out.origin_qy_map = map_origin(cal.origin_qy_map, shift_qy_px, scale);
  out.origin_qx_map = map_origin(cal.origin_qx_map, shift_qx_px, scale);
  if (cal.ellipse) {
    out.ellipse->a_px = cal.ellipse->a_px / scale;
    out.ellipse->b_px = cal.ellipse->b_px / scale;
  }
  return out;
}

io::DatasetInfo prepare_stages(const io::DatasetInfo& info, std::span<FrameStage* const> stages) {
  io::DatasetInfo cur = info;
  for (FrameStage* s : stages) {
    if (!s) throw InvalidArgument("engine: a null frame stage was given");
    io::DatasetInfo next = s->prepare(cur);
    if (next.scan_y != cur.scan_y || next.scan_x != cur.scan_x)
      throw Error(fmt::format("frame stage {}: changed the scan shape (internal error)", s->name()));
    next.validate();
    if (!next.metadata.is_object()) next.metadata = Metadata::object();
    if (!next.metadata.contains("preparation")) next.metadata["preparation"] = Metadata::array();
    next.metadata["preparation"].push_back({{"stage", s->name()}, {"parameters", s->parameters()}});
    cur = std::move(next);
  }
  return cur;
}

}  // namespace scandiff::engine
