#include "scandiff/sxdm/frameset_scan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/io/image_series.hpp"
#include "scandiff/io/mda.hpp"
#include "scandiff/io/open.hpp"

namespace scandiff::sxdm {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

fs::path resolve(const fs::path& base, const fs::path& p) { return p.is_absolute() || base.empty() ? p : base / p; }

// ------------------------------------------------------------------ positions table

struct TableRow {
  std::string frame;
  double x = 0, y = 0;
  std::optional<double> theta;
};

std::vector<std::string> split_fields(const std::string& line, bool comma) {
  std::vector<std::string> out;
  if (comma) {
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) {
      const auto b = f.find_first_not_of(" \t\r");
      const auto e = f.find_last_not_of(" \t\r");
      out.push_back(b == std::string::npos ? std::string() : f.substr(b, e - b + 1));
    }
  } else {
    std::istringstream ss(line);
    std::string f;
    while (ss >> f) out.push_back(f);
  }
  return out;
}

double parse_number(const std::string& text, const fs::path& path, std::size_t line, const char* column) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw FormatError(fmt::format("{}: line {}: column {} must be a finite number, got '{}'", path.string(), line,
                                column, text));
}

std::vector<TableRow> read_positions_table(const fs::path& path) {
  io::require_readable_file(path);
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("{}: cannot open the positions table", path.string()));
  std::string line;
  std::size_t line_no = 0;
  int col_frame = -1, col_x = -1, col_y = -1, col_theta = -1;
  std::size_t columns = 0;
  bool comma = false, have_header = false;
  std::vector<TableRow> rows;
  while (std::getline(in, line)) {
    ++line_no;
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    if (!have_header) {
      comma = line.find(',') != std::string::npos;
      const auto names = split_fields(line, comma);
      for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string n = lower(names[i]);
        const int c = static_cast<int>(i);
        if (n == "frame" || n == "file" || n == "index" || n == "image") col_frame = c;
        else if (n == "x") col_x = c;
        else if (n == "y") col_y = c;
        else if (n == "theta" || n == "θ") col_theta = c;
      }
      if (col_frame < 0 || col_x < 0 || col_y < 0)
        throw FormatError(fmt::format("{}: line {}: the header must name the columns frame (or file/index), x, y "
                                      "and optionally theta; got '{}'",
                                      path.string(), line_no, line));
      columns = names.size();
      have_header = true;
      continue;
    }
    const auto f = split_fields(line, comma);
    if (f.size() != columns)
      throw FormatError(fmt::format("{}: line {}: {} fields, the header has {}", path.string(), line_no, f.size(),
                                    columns));
    TableRow r;
    r.frame = f[static_cast<std::size_t>(col_frame)];
    r.x = parse_number(f[static_cast<std::size_t>(col_x)], path, line_no, "x");
    r.y = parse_number(f[static_cast<std::size_t>(col_y)], path, line_no, "y");
    if (col_theta >= 0) r.theta = parse_number(f[static_cast<std::size_t>(col_theta)], path, line_no, "theta");
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw FormatError(fmt::format("{}: no positions (expected a header line and one line per frame)", path.string()));
  return rows;
}

// Grid line index of each value: sorted distinct values closer than `tol` are one line.
std::vector<std::int64_t> grid_lines(const std::vector<double>& v, std::optional<double> tolerance,
                                     std::int64_t& count) {
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  double tol = 0;
  if (tolerance) {
    tol = *tolerance;
  } else {
    for (std::size_t i = 1; i < s.size(); ++i) tol = std::max(tol, s[i] - s[i - 1]);
    tol *= 0.25;
  }
  std::vector<double> starts;  // first value of each line
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i == 0 || s[i] - s[i - 1] > tol) starts.push_back(s[i]);
  count = static_cast<std::int64_t>(starts.size());
  std::vector<std::int64_t> idx(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    idx[i] = static_cast<std::int64_t>(std::upper_bound(starts.begin(), starts.end(), v[i]) - starts.begin()) - 1;
  return idx;
}

bool is_integer_text(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

ScanLayout layout_from_table(const ScanSpec& spec) {
  const fs::path path = resolve(spec.base, spec.positions);
  const auto rows = read_positions_table(path);
  std::vector<double> xs, ys;
  for (const auto& r : rows) {
    xs.push_back(r.x);
    ys.push_back(r.y);
  }
  ScanLayout l;
  const auto ix = grid_lines(xs, spec.tolerance, l.cols);
  const auto iy = grid_lines(ys, spec.tolerance, l.rows);
  if (l.rows * l.cols != static_cast<std::int64_t>(rows.size()))
    throw InvalidArgument(fmt::format("{}: the {} positions are not a full raster: {} distinct y x {} distinct x "
                                      "(set \"tolerance\" if read-back jitter splits grid lines)",
                                      path.string(), rows.size(), l.rows, l.cols));
  const auto n = static_cast<std::size_t>(l.count());
  l.x.assign(n, 0);
  l.y.assign(n, 0);
  std::vector<char> filled(n, 0);
  const bool numbered = std::all_of(rows.begin(), rows.end(), [](const TableRow& r) { return is_integer_text(r.frame); });
  if (numbered) l.frame_number.assign(n, -1);
  else l.frame_file.assign(n, {});
  double theta_sum = 0;
  std::size_t theta_n = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto k = static_cast<std::size_t>(iy[i] * l.cols + ix[i]);
    if (filled[k])
      throw InvalidArgument(fmt::format("{}: two frames at the same grid position (x {}, y {}): '{}'", path.string(),
                                        rows[i].x, rows[i].y, rows[i].frame));
    filled[k] = 1;
    l.x[k] = rows[i].x;
    l.y[k] = rows[i].y;
    if (numbered) l.frame_number[k] = std::stoll(rows[i].frame);
    else l.frame_file[k] = rows[i].frame;
    if (rows[i].theta) {
      theta_sum += *rows[i].theta;
      ++theta_n;
    }
  }
  if (theta_n) l.theta = theta_sum / static_cast<double>(theta_n);
  return l;
}

// ------------------------------------------------------------------ MDA

const io::MdaDetector& find_channel(const io::MdaDimension& dim, const std::string& wanted, const fs::path& path,
                                    const char* what) {
  if (wanted.empty()) {
    const io::MdaDetector* found = nullptr;
    for (const auto& d : dim.detectors)
      if (lower(d.name).find("filenumber") != std::string::npos) {
        if (found)
          throw InvalidArgument(fmt::format("{}: several channels look like frame numbers ({} and {}); name one "
                                            "with \"frame_channel\"",
                                            path.string(), found->name, d.name));
        found = &d;
      }
    if (!found)
      throw InvalidArgument(fmt::format("{}: no detector channel named *FileNumber*; name the {} channel "
                                        "(\"D10\", a PV name or a description)",
                                        path.string(), what));
    return *found;
  }
  const std::string w = lower(wanted);
  for (const auto& d : dim.detectors) {
    if (w == lower(fmt::format("D{:02d}", d.number + 1)) || w == lower(d.name) || (!d.description.empty() && w == lower(d.description)))
      return d;
  }
  throw InvalidArgument(fmt::format("{}: no detector channel '{}' for the {} (give D01..D{:02d}, a PV name or a "
                                    "description; `scandiff info` lists them)",
                                    path.string(), wanted, what, dim.detectors.size()));
}

const Array& channel_values(const io::MdaDimension& dim, const io::MdaDetector& det) {
  for (std::size_t i = 0; i < dim.detectors.size(); ++i)
    if (&dim.detectors[i] == &det) return dim.values.at(i);
  throw InvalidArgument("MDA channel not in its dimension");
}

ScanLayout layout_from_mda(const ScanSpec& spec) {
  const fs::path path = resolve(spec.base, spec.mda);
  const io::MdaFile mda = io::read_mda(path);
  if (mda.dims.empty()) throw FormatError(fmt::format("{}: no scan dimensions", path.string()));
  // The map's detectors live in the innermost map dimension: dims[1] for a 2D (or 3D) scan.
  const io::MdaDimension& inner = mda.dims.size() >= 2 ? mda.dims[1] : mda.dims[0];
  ScanLayout l;
  if (mda.dims.size() >= 2) {
    l.rows = inner.shape.at(0);
    l.cols = inner.shape.at(1);
  } else {
    l.rows = 1;
    l.cols = inner.shape.at(0);
  }
  if (l.rows < 1 || l.cols < 1) throw FormatError(fmt::format("{}: the scan acquired no points", path.string()));
  const auto n = static_cast<std::size_t>(l.count());
  l.x.assign(n, 0);
  l.y.assign(n, 0);
  // Positions: inner P1 (rows, cols) is x; outer P1 (rows) is y; indices when absent.
  const Array xin = inner.positions.empty() ? Array() : inner.positions[0].astype(DType::f64);
  const Array yout = mda.dims.size() >= 2 && !mda.dims[0].positions.empty() ? mda.dims[0].positions[0].astype(DType::f64) : Array();
  const double* xp = xin.empty() ? nullptr : xin.data<double>();
  const double* yp = yout.empty() ? nullptr : yout.data<double>();
  for (std::int64_t r = 0; r < l.rows; ++r)
    for (std::int64_t c = 0; c < l.cols; ++c) {
      const auto k = static_cast<std::size_t>(r * l.cols + c);
      l.x[k] = xp ? xp[k] : static_cast<double>(c);
      l.y[k] = yp ? yp[r] : static_cast<double>(r);
    }
  if (!inner.positioners.empty()) {
    std::string u = inner.positioners[0].units;
    if (u == "\xC2\xB5m" || u == "um" || u == "microns") u = "um";
    l.position_units = u;
  }
  const io::MdaDetector& fc = find_channel(inner, spec.frame_channel, path, "frame numbers");
  const Array fv = channel_values(inner, fc).astype(DType::f64);
  const double* f = fv.data<double>();
  l.frame_number.assign(n, -1);
  for (std::size_t k = 0; k < n; ++k) {
    const double v = f[k];
    if (!std::isfinite(v) || v != std::floor(v) || v < 0 || v >= 16777216.0)
      throw FormatError(fmt::format("{}: channel {} at position (ry {}, rx {}) holds {}, not a frame number (an "
                                    "integer below 2^24, exact in the file's float32)",
                                    path.string(), fc.name, k / static_cast<std::size_t>(l.cols),
                                    k % static_cast<std::size_t>(l.cols), v));
    l.frame_number[k] = static_cast<std::int64_t>(v);
  }
  if (!spec.theta_channel.empty()) {
    const io::MdaDetector& tc = find_channel(inner, spec.theta_channel, path, "sample theta");
    const Array tv = channel_values(inner, tc).astype(DType::f64);
    double s = 0;
    for (std::size_t k = 0; k < n; ++k) s += tv.data<double>()[k];
    l.theta = s / static_cast<double>(n);
  }
  return l;
}

template <class T>
std::vector<T> permute(const std::vector<T>& v, std::int64_t rows, std::int64_t cols, ScanOrientation o) {
  if (v.empty()) return v;
  std::vector<T> out(v.size());
  const bool fr = o == ScanOrientation::flip_rows || o == ScanOrientation::rotate_180;
  const bool fc = o == ScanOrientation::flip_cols || o == ScanOrientation::rotate_180;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t sr = fr ? rows - 1 - r : r, sc = fc ? cols - 1 - c : c;
      out[static_cast<std::size_t>(r * cols + c)] = v[static_cast<std::size_t>(sr * cols + sc)];
    }
  return out;
}

// ------------------------------------------------------------------ frames

// Numbered files of a folder: the number at the end of each file's stem -> path.
std::map<std::int64_t, fs::path> index_folder(const fs::path& folder) {
  std::map<std::int64_t, fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string stem = it->path().stem().string();
    std::size_t b = stem.size();
    while (b > 0 && std::isdigit(static_cast<unsigned char>(stem[b - 1]))) --b;
    if (b == stem.size() || stem.size() - b > 15) continue;
    out.emplace(std::stoll(stem.substr(b)), it->path());
  }
  if (ec) throw IoError(fmt::format("{}: cannot list the image folder: {}", folder.string(), ec.message()));
  return out;
}

fs::path format_pattern(const fs::path& base, const std::string& images, std::int64_t number) {
  try {
    return resolve(base, fmt::format(fmt::runtime(images), number));
  } catch (const fmt::format_error& e) {
    throw InvalidArgument(fmt::format("images pattern '{}': {} (expected one integer field such as {{}} or {{:06d}})",
                                      images, e.what()));
  }
}

bool is_folder_spec(const fs::path& base, const std::string& images) {
  return images.find('{') == std::string::npos && fs::is_directory(resolve(base, images));
}

void require_frame(const fs::path& p, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) throw IoError(fmt::format("{}: {}: no such frame file", p.string(), what));
}

// Frames of another Source in a given order: frame i is inner frame index[i].
class ReorderedSource final : public io::Source {
 public:
  // An empty `index` is the identity.
  ReorderedSource(std::shared_ptr<io::Source> inner, std::vector<std::int64_t> index, std::int64_t rows,
                  std::int64_t cols)
      : inner_(std::move(inner)), index_(std::move(index)) {
    if (index_.empty())
      for (std::int64_t i = 0; i < rows * cols; ++i) index_.push_back(i);
    info_ = inner_->info();
    info_.scan_y = rows;
    info_.scan_x = cols;
    info_.calibration.origin_qy_map = Array();
    info_.calibration.origin_qx_map = Array();
  }
  void read(std::int64_t first, std::int64_t count, std::byte* dst) override {
    check_range(first, count);
    std::int64_t i = first;
    while (i < first + count) {  // runs of consecutive inner frames in one read
      const std::int64_t start = index_[static_cast<std::size_t>(i)];
      std::int64_t n = 1;
      while (i + n < first + count && index_[static_cast<std::size_t>(i + n)] == start + n) ++n;
      inner_->read(start, n, dst);
      dst += static_cast<std::size_t>(n) * info_.frame_bytes();
      i += n;
    }
  }
  std::int64_t preferred_block_frames() const override { return info_.scan_x; }
  io::DatasetInfo& mutable_info() { return info_; }

 private:
  std::shared_ptr<io::Source> inner_;
  std::vector<std::int64_t> index_;
};

std::string position_text(std::size_t k, std::int64_t cols) {
  return fmt::format("scan position (ry {}, rx {})", static_cast<std::int64_t>(k) / cols,
                     static_cast<std::int64_t>(k) % cols);
}

}  // namespace

ScanOrientation parse_scan_orientation(const std::string& text) {
  const std::string t = lower(text);
  if (t == "file" || t.empty()) return ScanOrientation::file;
  if (t == "flip_rows" || t == "sxdm") return ScanOrientation::flip_rows;
  if (t == "flip_cols") return ScanOrientation::flip_cols;
  if (t == "rotate_180") return ScanOrientation::rotate_180;
  throw InvalidArgument(fmt::format("orientation '{}': expected file, flip_rows (alias sxdm), flip_cols or rotate_180", text));
}

std::string name_of(ScanOrientation o) {
  switch (o) {
    case ScanOrientation::flip_rows: return "flip_rows";
    case ScanOrientation::flip_cols: return "flip_cols";
    case ScanOrientation::rotate_180: return "rotate_180";
    default: return "file";
  }
}

ScanLayout read_scan_layout(const ScanSpec& spec) {
  if (spec.mda.empty() == spec.positions.empty())
    throw InvalidArgument("SXDM scan: give exactly one of \"mda\" (an APS MDA scan record) and \"positions\" (a table)");
  ScanLayout l = spec.mda.empty() ? layout_from_table(spec) : layout_from_mda(spec);
  l.x = permute(l.x, l.rows, l.cols, spec.orientation);
  l.y = permute(l.y, l.rows, l.cols, spec.orientation);
  l.frame_number = permute(l.frame_number, l.rows, l.cols, spec.orientation);
  l.frame_file = permute(l.frame_file, l.rows, l.cols, spec.orientation);
  return l;
}

Array read_mda_channel_map(const ScanSpec& spec, const std::string& channel) {
  if (spec.mda.empty()) throw InvalidArgument("an MDA channel map needs a scan with an \"mda\" record");
  if (channel.empty()) throw InvalidArgument("MDA channel map: no channel named");
  const fs::path path = resolve(spec.base, spec.mda);
  const io::MdaFile mda = io::read_mda(path);
  if (mda.dims.empty()) throw FormatError(fmt::format("{}: no scan dimensions", path.string()));
  const io::MdaDimension& inner = mda.dims.size() >= 2 ? mda.dims[1] : mda.dims[0];
  const Array v = channel_values(inner, find_channel(inner, channel, path, "map")).astype(DType::f64);
  const std::int64_t rows = mda.dims.size() >= 2 ? inner.shape.at(0) : 1;
  const std::int64_t cols = mda.dims.size() >= 2 ? inner.shape.at(1) : inner.shape.at(0);
  const std::vector<double> flat(v.data<double>(), v.data<double>() + rows * cols);
  const std::vector<double> oriented = permute(flat, rows, cols, spec.orientation);
  Array out(DType::f64, {rows, cols});
  std::copy(oriented.begin(), oriented.end(), out.data<double>());
  return out;
}

fs::path locate_frame(const fs::path& base, const std::string& images, std::int64_t number) {
  if (is_folder_spec(base, images)) {
    const auto index = index_folder(resolve(base, images));
    const auto it = index.find(number);
    if (it == index.end())
      throw IoError(fmt::format("{}: no file whose name ends in frame number {}", resolve(base, images).string(), number));
    return it->second;
  }
  const fs::path p = format_pattern(base, images, number);
  require_frame(p, fmt::format("frame number {}", number));
  return p;
}

std::unique_ptr<io::Source> open_scan(const ScanSpec& spec) {
  const ScanLayout l = read_scan_layout(spec);
  const fs::path record = resolve(spec.base, spec.mda.empty() ? spec.positions : spec.mda);
  const fs::path table_dir = record.parent_path();
  const auto n = static_cast<std::size_t>(l.count());
  std::shared_ptr<io::Source> src;
  std::vector<std::int64_t> stack_index;  // stack: raster position -> stack frame
  if (!l.frame_file.empty()) {
    std::vector<fs::path> files(n);
    for (std::size_t k = 0; k < n; ++k) {
      files[k] = resolve(table_dir, l.frame_file[k]);
      require_frame(files[k], position_text(k, l.cols));
    }
    src = io::open_image_series(files, {std::pair{l.rows, l.cols}, false});
  } else if (!spec.images.empty()) {
    std::vector<fs::path> files(n);
    if (is_folder_spec(spec.base, spec.images)) {
      const fs::path folder = resolve(spec.base, spec.images);
      const auto index = index_folder(folder);
      for (std::size_t k = 0; k < n; ++k) {
        const auto it = index.find(l.frame_number[k]);
        if (it == index.end())
          throw IoError(fmt::format("{}: no file whose name ends in frame number {} ({} of {})", folder.string(),
                                    l.frame_number[k], position_text(k, l.cols), record.string()));
        files[k] = it->second;
      }
    } else {
      for (std::size_t k = 0; k < n; ++k) {
        files[k] = format_pattern(spec.base, spec.images, l.frame_number[k]);
        require_frame(files[k], fmt::format("frame number {} ({} of {})", l.frame_number[k], position_text(k, l.cols),
                                            record.string()));
      }
    }
    src = io::open_image_series(files, {std::pair{l.rows, l.cols}, false});
  } else if (!spec.stack.empty()) {
    if (l.frame_number.empty())
      throw InvalidArgument(fmt::format("{}: with a \"stack\" the frame column must hold frame indices", record.string()));
    io::OpenOptions o;
    o.datapath = spec.datapath;
    std::shared_ptr<io::Source> inner = io::open(resolve(spec.base, spec.stack), o);
    for (std::size_t k = 0; k < n; ++k)
      if (l.frame_number[k] < 0 || l.frame_number[k] >= inner->info().frame_count())
        throw InvalidArgument(fmt::format("{}: frame index {} at {} is outside the stack {} ({} frames)",
                                          record.string(), l.frame_number[k], position_text(k, l.cols),
                                          resolve(spec.base, spec.stack).string(), inner->info().frame_count()));
    src = std::move(inner);
    stack_index = l.frame_number;
  } else {
    throw InvalidArgument(fmt::format("{}: the frames are numbered; give \"images\" (a pattern or folder) or \"stack\"",
                                      record.string()));
  }
  auto scan = std::make_unique<ReorderedSource>(std::move(src), std::move(stack_index), l.rows, l.cols);
  // The scan step as the calibration, when the positions are in a length unit.
  io::DatasetInfo& info = scan->mutable_info();
  if ((l.position_units == "um" || l.position_units == "nm") && l.cols > 1) {
    const double step = std::abs(l.x[1] - l.x[0]);
    if (step > 0) {
      info.calibration.scan_pixel_size = step;
      info.calibration.scan_units = l.position_units;
    }
  }
  Metadata m = {{"record", record.string()},
                {"rows", l.rows},
                {"cols", l.cols},
                {"orientation", name_of(spec.orientation)},
                {"x_first", l.x.front()},
                {"x_last", l.x.back()},
                {"y_first", l.y.front()},
                {"y_last", l.y.back()}};
  if (!l.frame_number.empty()) {
    m["first_frame_number"] = l.frame_number.front();
    m["last_frame_number"] = l.frame_number.back();
  }
  if (l.theta) m["theta"] = *l.theta;
  if (!info.metadata.is_object()) info.metadata = Metadata::object();
  info.metadata["scan_shape"] = {{"source", "sxdm positions"},
                                 {"reason", fmt::format("{} x {} raster of {}", l.rows, l.cols, record.filename().string())}};
  if (info.metadata.contains("image_series")) {  // the first and last file, not every name
    auto& series = info.metadata["image_series"];
    if (series.contains("names") && !series["names"].empty()) {
      series["first"] = series["names"].front();
      series["last"] = series["names"].back();
      series.erase("names");
    }
  }
  info.metadata["sxdm_scan"] = m;
  return scan;
}

}  // namespace scandiff::sxdm
