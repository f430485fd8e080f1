#include "scandiff/io/image_file.hpp"

#include <fmt/format.h>

#include "input_file.hpp"
#include "scandiff/io/cbf.hpp"
#include "scandiff/io/edf.hpp"
#include "scandiff/io/tiff.hpp"

namespace scandiff::io {
namespace {

ImageFormat require_image(const std::filesystem::path& path) {
  detail::readable_file_size(path, "image");
  const auto format = detect_image_format(path);
  if (!format)
    throw FormatError(fmt::format("{}: not a recognised image; expected TIFF, EDF (ESRF data format) or CBF "
                                  "(byte-offset compressed)",
                                  path.string()));
  return *format;
}

}  // namespace

std::string_view name_of(ImageFormat format) {
  switch (format) {
    case ImageFormat::tiff: return "tiff";
    case ImageFormat::edf: return "edf";
    case ImageFormat::cbf: return "cbf";
  }
  return "?";
}

std::optional<ImageFormat> detect_image_format(const std::filesystem::path& path) {
  std::vector<std::byte> head;
  try {
    head = detail::read_file_bytes(path, 0, 4, "image");
  } catch (const Error&) {
    return std::nullopt;
  }
  if (head.size() == 4) {
    const auto b = [&](int i) { return std::to_integer<unsigned char>(head[static_cast<std::size_t>(i)]); };
    if ((b(0) == 'I' && b(1) == 'I' && (b(2) == 42 || b(2) == 43) && b(3) == 0) ||
        (b(0) == 'M' && b(1) == 'M' && b(2) == 0 && (b(3) == 42 || b(3) == 43)))
      return ImageFormat::tiff;
  }
  if (is_cbf_file(path)) return ImageFormat::cbf;
  if (is_edf_file(path)) return ImageFormat::edf;
  return std::nullopt;
}

Array read_image_stack(const std::filesystem::path& path) {
  Array a;
  switch (require_image(path)) {
    case ImageFormat::tiff: a = read_tiff(path); break;
    case ImageFormat::edf: a = read_edf(path); break;
    case ImageFormat::cbf: a = read_cbf(path); break;
  }
  if (a.rank() == 3) return a;
  const Shape shape{1, a.shape(0), a.shape(1)};
  auto keep = std::make_shared<Array>(std::move(a));
  return Array::adopt(keep, keep->bytes(), keep->dtype(), shape);
}

Array read_image(const std::filesystem::path& path) {
  const ImageFileInfo info = read_image_file_info(path);
  if (info.frames != 1)
    throw InvalidArgument(fmt::format("{}: holds {} frames, expected a single image (read it as a stack or an image "
                                      "series)",
                                      path.string(), info.frames));
  return read_image_frame(path, 0);
}

ImageFileInfo read_image_file_info(const std::filesystem::path& path) {
  ImageFileInfo info;
  info.format = require_image(path);
  switch (info.format) {
    case ImageFormat::tiff: {
      const TiffPages p = read_tiff_pages(path);
      info.frames = p.pages;
      info.rows = p.height;
      info.cols = p.width;
      info.dtype = p.dtype;
      break;
    }
    case ImageFormat::edf: {
      const auto frames = read_edf_frames(path);
      info.frames = static_cast<std::int64_t>(frames.size());
      info.rows = frames[0].header.rows;
      info.cols = frames[0].header.cols;
      info.dtype = frames[0].header.dtype;
      break;
    }
    case ImageFormat::cbf: {
      const Array a = read_cbf(path);
      info.frames = 1;
      info.rows = a.shape(0);
      info.cols = a.shape(1);
      info.dtype = a.dtype();
      break;
    }
  }
  return info;
}

Array read_image_frame(const std::filesystem::path& path, std::int64_t frame) {
  const ImageFormat format = require_image(path);
  if (frame < 0) throw InvalidArgument(fmt::format("{}: frame index {} is negative", path.string(), frame));
  switch (format) {
    case ImageFormat::tiff: return read_tiff_page(path, frame);
    case ImageFormat::edf: {
      const auto frames = read_edf_frames(path);
      if (frame >= static_cast<std::int64_t>(frames.size()))
        throw InvalidArgument(fmt::format("{}: has {} frames, no frame {}", path.string(), frames.size(), frame));
      return read_edf_frame(path, frames[static_cast<std::size_t>(frame)]);
    }
    case ImageFormat::cbf:
      if (frame != 0) throw InvalidArgument(fmt::format("{}: a CBF file has one frame, no frame {}", path.string(), frame));
      return read_cbf(path);
  }
  throw FormatError(fmt::format("{}: unknown image format", path.string()));
}

}  // namespace scandiff::io
