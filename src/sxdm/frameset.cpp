#include "scandiff/sxdm/frameset.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <tuple>
#include <utility>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scandiff/core/error.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/open.hpp"

namespace scandiff::sxdm {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uintmax_t max_manifest_bytes = 16u << 20;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open the frameset manifest", path.string()));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

json parse_manifest(const fs::path& path) {
  io::require_readable_file(path);
  std::error_code ec;
  if (fs::file_size(path, ec) > max_manifest_bytes)
    throw FormatError(fmt::format("{}: a frameset manifest is at most 16 MiB", path.string()));
  json j = json::parse(read_text(path), nullptr, false);
  if (j.is_discarded()) throw FormatError(fmt::format("{}: not valid JSON (expected an SXDM frameset manifest)", path.string()));
  if (!j.is_object() || !j.contains("sxdm_frameset"))
    throw FormatError(fmt::format("{}: not an SXDM frameset manifest (expected a JSON object with \"sxdm_frameset\": 1)",
                                  path.string()));
  return j;
}

[[noreturn]] void bad(const fs::path& path, const std::string& where, const std::string& what) {
  throw FormatError(fmt::format("{}: {}: {}", path.string(), where, what));
}

std::string get_string(const json& o, const char* key, const fs::path& path, const std::string& where) {
  if (!o.contains(key)) return {};
  if (!o[key].is_string()) bad(path, where, fmt::format("\"{}\" must be a string", key));
  return o[key].get<std::string>();
}

std::optional<double> get_number(const json& o, const char* key, const fs::path& path, const std::string& where) {
  if (!o.contains(key) || o[key].is_null()) return std::nullopt;
  if (!o[key].is_number()) bad(path, where, fmt::format("\"{}\" must be a number", key));
  const double v = o[key].get<double>();
  if (!std::isfinite(v)) bad(path, where, fmt::format("\"{}\" must be finite", key));
  return v;
}

BackgroundSpec parse_background(const json& j, const fs::path& path) {
  BackgroundSpec b;
  if (!j.contains("background")) return b;  // sxdm's default: 3 edge frames, multiplier 1
  const json& o = j["background"];
  if (o.is_null() || (o.is_string() && o.get<std::string>() == "none")) {
    b.kind = BackgroundSpec::Kind::none;
    return b;
  }
  if (!o.is_object())
    bad(path, "background", "expected \"none\" or an object {\"frames\": N, \"multiplier\": m} or {\"image\": file(s)}");
  if (const auto m = get_number(o, "multiplier", path, "background")) b.multiplier = *m;
  if (o.contains("image")) {  // one file or a list of files, averaged
    b.kind = BackgroundSpec::Kind::image;
    const json list = o["image"].is_array() ? o["image"] : json::array({o["image"]});
    for (const json& e : list) {
      if (!e.is_string() || e.get<std::string>().empty())
        bad(path, "background", "\"image\" must be a file name or a list of file names");
      const fs::path image = e.get<std::string>();
      b.images.push_back(image.is_absolute() ? image : path.parent_path() / image);
    }
    if (b.images.empty()) bad(path, "background", "\"image\" lists no file");
  } else if (const auto n = get_number(o, "frames", path, "background")) {
    if (*n < 1 || *n != std::floor(*n)) bad(path, "background", "\"frames\" must be an integer >= 1");
    b.frames = static_cast<std::int64_t>(*n);
  }
  return b;
}

std::int64_t applied(double shift) { return static_cast<std::int64_t>(std::llround(shift)); }

// The sum of members' frames at reference position p + member shift (zero out of field), float32.
class AlignedSum final : public io::Source {
 public:
  struct Member {
    std::shared_ptr<io::Source> source;  // float32 frames
    std::int64_t dy = 0, dx = 0;
  };

  AlignedSum(std::vector<Member> members, io::DatasetInfo info) : members_(std::move(members)) {
    info_ = std::move(info);
    info_.dtype = DType::f32;
    for (const auto& m : members_) {
      const auto& mi = m.source->info();
      if (mi.dtype != DType::f32) throw InvalidArgument("aligned sum: members must be float32");
      if (mi.frame_y != info_.frame_y || mi.frame_x != info_.frame_x)
        throw FormatError(fmt::format("{}: frames are {}x{}, the frameset's reference scan has {}x{}", mi.path,
                                      mi.frame_y, mi.frame_x, info_.frame_y, info_.frame_x));
    }
    info_.validate();
  }

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override {
    check_range(first, count);
    const std::int64_t pixels = info_.frame_pixels();
    float* out = reinterpret_cast<float*>(dst);
    // The first member to reach a frame is read straight into it; later ones are added.
    std::vector<char> written(static_cast<std::size_t>(count), 0);
    std::unique_ptr<float[]> tmp;
    std::int64_t tmp_frames = 0;
    for (const auto& m : members_) {
      const std::int64_t rows = m.source->info().scan_y, cols = m.source->info().scan_x;
      // One row of the block at a time: its in-field columns are consecutive inner frames.
      for (std::int64_t i = first; i < first + count;) {
        const std::int64_t ry = i / info_.scan_x, a = i % info_.scan_x;
        const std::int64_t b = std::min(info_.scan_x, a + (first + count - i));  // columns [a, b) of row ry
        const std::int64_t iy = ry + m.dy;
        const std::int64_t c0 = std::max(a, -m.dx), c1 = std::min(b, cols - m.dx);
        if (iy >= 0 && iy < rows && c0 < c1) {
          const std::int64_t n = c1 - c0, k0 = i - first + (c0 - a);  // output frames [k0, k0 + n)
          float* o = out + k0 * pixels;
          const auto w = written.begin() + k0;
          if (std::none_of(w, w + n, [](char x) { return x != 0; })) {
            m.source->read(iy * cols + c0 + m.dx, n, reinterpret_cast<std::byte*>(o));
          } else {
            if (tmp_frames < n) {
              tmp.reset(new float[static_cast<std::size_t>(n * pixels)]);
              tmp_frames = n;
            }
            m.source->read(iy * cols + c0 + m.dx, n, reinterpret_cast<std::byte*>(tmp.get()));
            for (std::int64_t f = 0; f < n; ++f) {
              float* of = o + f * pixels;
              const float* t = tmp.get() + f * pixels;
              if (w[f]) {
                for (std::int64_t q = 0; q < pixels; ++q) of[q] += t[q];
              } else {
                std::copy_n(t, pixels, of);
              }
            }
          }
          std::fill(w, w + n, char{1});
        }
        i += b - a;
      }
    }
    for (std::int64_t k = 0; k < count; ++k)  // out of field of every scan
      if (!written[static_cast<std::size_t>(k)]) std::fill_n(out + k * pixels, pixels, 0.0f);
  }
  std::int64_t preferred_block_frames() const override { return info_.scan_x; }

 private:
  std::vector<Member> members_;
};

// The reference scan's raster (rows, cols): the grid of every aligned source. From the positions
// alone, without opening the frames.
std::pair<std::int64_t, std::int64_t> reference_grid(const Frameset& f) {
  const ScanLayout l = read_scan_layout(f.scans.at(f.reference).spec);
  return {l.rows, l.cols};
}

Metadata describe(const Frameset& f, const std::vector<io::DatasetInfo>& scans) {
  Metadata list = Metadata::object();  // keyed by scan name, in manifest order (EMD stores objects)
  for (std::size_t i = 0; i < f.scans.size(); ++i) {
    const auto& s = f.scans[i];
    Metadata e = {{"name", s.name},
                  {"theta", s.theta},
                  {"shift", {{"dy", s.shift.dy}, {"dx", s.shift.dx}, {"manual", s.shift.manual}}},
                  {"applied_shift", {applied(s.shift.dy), applied(s.shift.dx)}}};
    if (i < scans.size()) {
      e["scan_shape"] = {scans[i].scan_y, scans[i].scan_x};
      e["frames"] = scans[i].frame_count();
      e["record"] = scans[i].metadata.value("sxdm_scan", Metadata::object()).value("record", "");
    }
    list[s.name] = e;
  }
  Metadata bg;
  switch (f.background.kind) {
    case BackgroundSpec::Kind::none: bg = "none"; break;
    case BackgroundSpec::Kind::edge_frames:
      bg = {{"frames", f.background.frames}, {"multiplier", f.background.multiplier}};
      break;
    case BackgroundSpec::Kind::image:
      bg = {{"images", f.background.images.size()}, {"first", f.background.images.front().string()},
            {"multiplier", f.background.multiplier}};
      break;
  }
  return {{"manifest", f.manifest.string()},
          {"name", f.name},
          {"reference", f.scans.at(f.reference).name},
          {"background", bg},
          {"scans", list}};
}

std::unique_ptr<io::Source> subtracted(const Frameset& f, std::size_t i) {
  std::shared_ptr<io::Source> raw = open_scan(f.scans.at(i).spec);
  Array bg = scan_background(*raw, f.background);
  return std::make_unique<BackgroundSubtracted>(std::move(raw), std::move(bg));
}

}  // namespace

bool is_frameset_manifest(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > max_manifest_bytes || ec) return false;
  try {
    std::ifstream in(path, std::ios::binary);
    char c = 0;
    while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
    }
    if (!in || c != '{') return false;
    const std::string text = read_text(path);
    const json j = json::parse(text, nullptr, false);
    // A broken manifest still counts when it names the key, so read_frameset says what is wrong.
    if (j.is_discarded()) return text.find("\"sxdm_frameset\"") != std::string::npos;
    return j.is_object() && j.contains("sxdm_frameset");
  } catch (const std::exception&) {
    return false;
  }
}

Frameset read_frameset(const fs::path& manifest) {
  const json j = parse_manifest(manifest);
  Frameset f;
  f.manifest = manifest;
  const fs::path base = manifest.parent_path();
  f.name = get_string(j, "name", manifest, "name");
  f.background = parse_background(j, manifest);
  const std::string default_orientation = get_string(j, "orientation", manifest, "orientation");
  if (!j.contains("scans") || !j["scans"].is_array() || j["scans"].empty())
    bad(manifest, "scans", "expected a non-empty array of scans");
  std::size_t i = 0;
  for (const json& o : j["scans"]) {
    const std::string where = fmt::format("scans[{}]", i);
    if (!o.is_object()) bad(manifest, where, "expected an object");
    FramesetScan s;
    s.name = get_string(o, "name", manifest, where);
    if (s.name.empty()) s.name = fmt::format("scan{}", i);
    ScanSpec& spec = s.spec;
    spec.base = base;
    spec.mda = get_string(o, "mda", manifest, where);
    spec.positions = get_string(o, "positions", manifest, where);
    spec.frame_channel = get_string(o, "frame_channel", manifest, where);
    spec.theta_channel = get_string(o, "theta_channel", manifest, where);
    spec.images = get_string(o, "images", manifest, where);
    spec.stack = get_string(o, "stack", manifest, where);
    spec.datapath = get_string(o, "datapath", manifest, where);
    spec.tolerance = get_number(o, "tolerance", manifest, where);
    if (spec.mda.empty() == spec.positions.empty())
      bad(manifest, where, "give exactly one of \"mda\" (an APS MDA scan record) and \"positions\" (a table)");
    if (spec.images.empty() && spec.stack.empty() && spec.mda.empty() == false)
      bad(manifest, where, "an MDA scan needs \"images\" (a frame-number pattern such as \"img_{:06d}.tif\", or a folder)");
    try {
      const std::string orientation = get_string(o, "orientation", manifest, where);
      spec.orientation = parse_scan_orientation(orientation.empty() ? default_orientation : orientation);
    } catch (const InvalidArgument& e) {
      bad(manifest, where, e.what());
    }
    if (const auto t = get_number(o, "theta", manifest, where)) {
      s.theta = *t;
    } else {
      const ScanLayout l = read_scan_layout(spec);
      if (!l.theta)
        bad(manifest, where, "no \"theta\" (and no theta column / \"theta_channel\" to take it from)");
      s.theta = *l.theta;
    }
    if (o.contains("shift")) {
      const json& sh = o["shift"];
      if (!sh.is_object()) bad(manifest, where, "\"shift\" must be an object {\"dy\": rows, \"dx\": columns}");
      s.shift.dy = get_number(sh, "dy", manifest, where + ".shift").value_or(0.0);
      s.shift.dx = get_number(sh, "dx", manifest, where + ".shift").value_or(0.0);
      if (std::abs(s.shift.dy) > 1e9 || std::abs(s.shift.dx) > 1e9)
        bad(manifest, where, "\"shift\" is beyond 1e9 scan steps");
      if (sh.contains("manual")) {
        if (!sh["manual"].is_boolean()) bad(manifest, where, "\"shift.manual\" must be true or false");
        s.shift.manual = sh["manual"].get<bool>();
      }
    }
    for (const auto& other : f.scans)
      if (other.name == s.name) bad(manifest, where, fmt::format("scan name '{}' is used twice", s.name));
    f.scans.push_back(std::move(s));
    ++i;
  }
  if (j.contains("reference")) {
    const json& r = j["reference"];
    bool found = false;
    if (r.is_number_integer() && r.get<std::int64_t>() >= 0 && r.get<std::size_t>() < f.scans.size()) {
      f.reference = r.get<std::size_t>();
      found = true;
    } else if (r.is_string()) {
      for (std::size_t k = 0; k < f.scans.size(); ++k)
        if (f.scans[k].name == r.get<std::string>()) {
          f.reference = k;
          found = true;
        }
    }
    if (!found) bad(manifest, "reference", fmt::format("expected a scan index 0..{} or a scan name", f.scans.size() - 1));
  }
  return f;
}

void write_frameset_shifts(const fs::path& manifest, const std::vector<ScanShift>& shifts) {
  json j = parse_manifest(manifest);
  if (!j.contains("scans") || !j["scans"].is_array() || j["scans"].size() != shifts.size())
    throw InvalidArgument(fmt::format("{}: {} shifts given for a manifest with another number of scans",
                                      manifest.string(), shifts.size()));
  for (std::size_t i = 0; i < shifts.size(); ++i)
    j["scans"][i]["shift"] = {{"dy", shifts[i].dy}, {"dx", shifts[i].dx}, {"manual", shifts[i].manual}};
  io::AtomicOutput out(manifest);
  {
    std::ofstream o(out.temp_path());
    o << j.dump(2) << '\n';
    if (!o) throw IoError(fmt::format("{}: cannot write the manifest", manifest.string()));
  }
  out.commit();
}

std::unique_ptr<io::Source> open_frameset_scan_unaligned(const Frameset& f, std::size_t i) {
  if (i >= f.scans.size())
    throw InvalidArgument(fmt::format("{}: scan {} does not exist ({} scans)", f.manifest.string(), i, f.scans.size()));
  return subtracted(f, i);
}

std::unique_ptr<io::Source> open_frameset_scan(const Frameset& f, std::size_t i) {
  if (i >= f.scans.size())
    throw InvalidArgument(fmt::format("{}: scan {} does not exist ({} scans)", f.manifest.string(), i, f.scans.size()));
  std::vector<AlignedSum::Member> m{{subtracted(f, i), applied(f.scans[i].shift.dy), applied(f.scans[i].shift.dx)}};
  io::DatasetInfo info = m.front().source->info();
  std::tie(info.scan_y, info.scan_x) = reference_grid(f);
  info.format = "sxdm-scan";
  info.metadata["sxdm_frameset_scan"] = {{"name", f.scans[i].name}, {"theta", f.scans[i].theta},
                                         {"applied_shift", {m.front().dy, m.front().dx}}};
  return std::make_unique<AlignedSum>(std::move(m), std::move(info));
}

Array frameset_coverage(const Frameset& f, std::size_t i) {
  const auto [rows, cols] = reference_grid(f);
  const ScanLayout scan = read_scan_layout(f.scans.at(i).spec);
  const std::int64_t dy = applied(f.scans[i].shift.dy), dx = applied(f.scans[i].shift.dx);
  Array out(DType::u8, {rows, cols});
  auto v = out.view<std::uint8_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t y = r + dy, x = c + dx;
      v(r, c) = y >= 0 && y < scan.rows && x >= 0 && x < scan.cols ? 1 : 0;
    }
  return out;
}

std::unique_ptr<io::Source> open_frameset(const Frameset& f) {
  std::vector<AlignedSum::Member> members;
  std::vector<io::DatasetInfo> infos;
  for (std::size_t i = 0; i < f.scans.size(); ++i) {
    members.push_back({subtracted(f, i), applied(f.scans[i].shift.dy), applied(f.scans[i].shift.dx)});
    infos.push_back(members.back().source->info());
  }
  io::DatasetInfo info = infos.at(f.reference);
  info.path = f.manifest.string();
  info.format = "sxdm-frameset";
  info.metadata["sxdm_frameset"] = describe(f, infos);
  return std::make_unique<AlignedSum>(std::move(members), std::move(info));
}

std::unique_ptr<io::Source> open_frameset(const fs::path& manifest) { return open_frameset(read_frameset(manifest)); }

}  // namespace scandiff::sxdm
