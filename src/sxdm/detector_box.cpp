#include "scandiff/sxdm/detector_box.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"

namespace scandiff::sxdm {

void DetectorBox::check_inside(std::int64_t frame_y, std::int64_t frame_x, std::string_view what) const {
  if (x0 < 0 || y0 < 0 || x1 > frame_x || y1 > frame_y || x0 >= x1 || y0 >= y1)
    throw InvalidArgument(fmt::format("{} {},{},{},{}: expected 0 <= x0 < x1 <= {} and 0 <= y0 < y1 <= {} (columns "
                                      "x0..x1-1, rows y0..y1-1 of the {}x{} frame)",
                                      what, x0, y0, x1, y1, frame_x, frame_y, frame_y, frame_x));
}

Metadata DetectorBox::to_json() const { return {{"x0", x0}, {"y0", y0}, {"x1", x1}, {"y1", y1}}; }

DetectorBox parse_detector_box(std::string_view text, std::string_view what) {
  std::vector<std::int64_t> v;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      throw InvalidArgument(fmt::format("{} '{}': expected four integers x0,y0,x1,y1 (columns x0..x1-1, rows "
                                        "y0..y1-1)",
                                        what, text));
    v.push_back(value);
    start = comma + 1;
  }
  if (v.size() != 4 || v[0] < 0 || v[1] < 0 || v[0] >= v[2] || v[1] >= v[3])
    throw InvalidArgument(fmt::format("{} '{}': expected four integers x0,y0,x1,y1 with 0 <= x0 < x1, 0 <= y0 < y1 "
                                      "(columns x0..x1-1, rows y0..y1-1)",
                                      what, text));
  return {v[0], v[1], v[2], v[3]};
}

}  // namespace scandiff::sxdm
