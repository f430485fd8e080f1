#include "scandiff/io/image_series.hpp"

#include <algorithm>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "scandiff/io/edf.hpp"
#include "scandiff/io/image_file.hpp"
#include "scandiff/io/tiff.hpp"

namespace scandiff::io {
namespace fs = std::filesystem;

namespace {

struct SeriesFile {
  fs::path path;
  ImageFormat format = ImageFormat::tiff;
  std::int64_t first_frame = 0;  // index of its first frame in the series
  std::int64_t frames = 1;
  std::vector<EdfFrame> edf;     // EDF: where each frame's data lies
};

class ImageSeriesSource final : public Source {
 public:
  ImageSeriesSource(const std::vector<fs::path>& paths, const ImageSeriesOptions& options) {
    if (paths.empty()) throw InvalidArgument("image series: no files given");
    std::int64_t total = 0;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      SeriesFile f;
      f.path = paths[i];
      const auto format = detect_image_format(f.path);
      if (!format) {
        (void)read_image_file_info(f.path);  // throws the precise IoError/FormatError
        throw FormatError(fmt::format("{}: not a recognised image", f.path.string()));
      }
      f.format = *format;
      if (i == 0) {
        const ImageFileInfo first = read_image_file_info(f.path);
        info_.frame_y = first.rows;
        info_.frame_x = first.cols;
        info_.dtype = first.dtype;
      }
      if (f.format == ImageFormat::edf) {
        f.edf = read_edf_frames(f.path);
        f.frames = static_cast<std::int64_t>(f.edf.size());
      } else if (f.format == ImageFormat::tiff) {
        f.frames = read_tiff_pages(f.path).pages;
      }
      f.first_frame = total;
      total += f.frames;
      files_.push_back(std::move(f));
    }
    info_.path = paths.front().string();
    info_.format = paths.size() == 1 ? std::string(name_of(files_.front().format)) : "image-series";
    Metadata shape_note;
    if (options.scan_shape) {
      const auto [sy, sx] = *options.scan_shape;
      if (sy < 1 || sx < 1 || sy * sx != total)
        throw InvalidArgument(fmt::format("{}: scan shape {}x{} does not hold the {} frames of the image series",
                                          info_.path, sy, sx, total));
      info_.scan_y = sy;
      info_.scan_x = sx;
      shape_note = {{"source", "option"}, {"reason", fmt::format("{} x {} given", sy, sx)}};
    } else {
      info_.scan_y = 1;
      info_.scan_x = total;
      shape_note = {{"source", "default"}, {"reason", fmt::format("{} frame(s) as one row", total)}};
    }
    info_.metadata["scan_shape"] = shape_note;
    Metadata list = Metadata::array();
    for (const auto& f : files_) list.push_back(f.path.filename().string());
    info_.metadata["image_series"] = {{"files", files_.size()}, {"frames", total}, {"names", list}};
    if (files_.size() == 1 && files_.front().format == ImageFormat::edf)
      info_.metadata["edf_header"] = files_.front().edf.front().header.keys;
    info_.validate();
  }

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override {
    check_range(first, count);
    for (std::int64_t k = 0; k < count; ++k) {
      const std::int64_t frame = first + k;
      // The last file whose first frame is at or before `frame`.
      const auto it = std::upper_bound(files_.begin(), files_.end(), frame,
                                       [](std::int64_t v, const SeriesFile& f) { return v < f.first_frame; }) -
                      1;
      const std::int64_t local = frame - it->first_frame;
      const Array a = it->format == ImageFormat::edf ? read_edf_frame(it->path, it->edf[static_cast<std::size_t>(local)])
                                                     : read_image_frame(it->path, local);
      if (a.shape(0) != info_.frame_y || a.shape(1) != info_.frame_x || a.dtype() != info_.dtype)
        throw FormatError(fmt::format("{}: frame {} is {}x{} {}, but the series starts with {}x{} {} frames",
                                      it->path.string(), local, a.shape(0), a.shape(1), name_of(a.dtype()),
                                      info_.frame_y, info_.frame_x, name_of(info_.dtype)));
      std::memcpy(dst + static_cast<std::size_t>(k) * info_.frame_bytes(), a.bytes(), info_.frame_bytes());
    }
  }

 private:
  std::vector<SeriesFile> files_;
};

// The stem without its trailing digits: "img_0012" -> "img_".
std::string series_prefix(const fs::path& p) {
  std::string stem = p.stem().string();
  while (!stem.empty() && stem.back() >= '0' && stem.back() <= '9') stem.pop_back();
  return stem;
}

}  // namespace

std::unique_ptr<Source> open_image_series(const std::vector<fs::path>& files, const ImageSeriesOptions& options) {
  if (options.series && files.size() == 1)
    return std::make_unique<ImageSeriesSource>(image_series_files(files.front()), options);
  return std::make_unique<ImageSeriesSource>(files, options);
}

std::vector<fs::path> image_series_files(const fs::path& path) {
  const std::string prefix = series_prefix(path);
  if (prefix == path.stem().string()) return {path};  // no number, no series
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::vector<std::pair<std::string, fs::path>> found;  // (digits, path)
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != path.extension() || !it->is_regular_file(ec)) continue;
    const std::string stem = p.stem().string();
    if (stem.size() <= prefix.size() || stem.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = stem.substr(prefix.size());
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      found.emplace_back(digits, p);
  }
  // Numeric order: shorter digit strings first (unpadded numbers), then lexicographic.
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    const auto strip = [](const std::string& s) { return s.substr(std::min(s.find_first_not_of('0'), s.size())); };
    const std::string x = strip(a.first), y = strip(b.first);
    return x.size() != y.size() ? x.size() < y.size() : x != y ? x < y : a.first < b.first;
  });
  std::vector<fs::path> out;
  for (auto& [digits, p] : found) out.push_back(std::move(p));
  if (out.empty()) out.push_back(path);
  return out;
}

}  // namespace scandiff::io
