#include "scandiff/io/mda.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"

namespace scandiff::io {

namespace {

constexpr int max_rank = 3;
constexpr std::int64_t max_items = 1'000'000;  // positioners, detectors, triggers or extra PVs per list

// A bounds-checked XDR reader over the whole file.
class Xdr {
 public:
  Xdr(std::vector<unsigned char> bytes, std::string file) : bytes_(std::move(bytes)), file_(std::move(file)) {}

  std::size_t size() const { return bytes_.size(); }
  std::size_t position() const { return pos_; }
  void seek(std::int64_t offset, const char* what) {
    if (offset < 0 || static_cast<std::uint64_t>(offset) > bytes_.size())
      throw FormatError(fmt::format("{}: {} points to byte {}, outside the file ({} bytes)", file_, what, offset,
                                    bytes_.size()));
    pos_ = static_cast<std::size_t>(offset);
  }
  void need(std::uint64_t n, const char* what) const {
    if (n > bytes_.size() - pos_)
      throw FormatError(fmt::format("{}: truncated at byte {}: {} needs {} bytes, {} left", file_, pos_, what, n,
                                    bytes_.size() - pos_));
  }
  std::uint32_t u32(const char* what) {
    need(4, what);
    const std::uint32_t v = (std::uint32_t{bytes_[pos_]} << 24) | (std::uint32_t{bytes_[pos_ + 1]} << 16) |
                            (std::uint32_t{bytes_[pos_ + 2]} << 8) | std::uint32_t{bytes_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  std::int32_t i32(const char* what) { return static_cast<std::int32_t>(u32(what)); }
  float f32(const char* what) { return std::bit_cast<float>(u32(what)); }
  double f64(const char* what) {
    const std::uint64_t hi = u32(what), lo = u32(what);
    return std::bit_cast<double>((hi << 32) | lo);
  }
  // A count that must lie in [0, limit].
  std::int64_t count(const char* what, std::int64_t limit) {
    const std::int64_t n = i32(what);
    if (n < 0 || n > limit)
      throw FormatError(fmt::format("{}: {} = {} at byte {} (expected 0 .. {})", file_, what, n, pos_ - 4, limit));
    return n;
  }
  // An XDR string (int length, bytes, padding to 4), ISO-8859-1 converted to UTF-8.
  std::string xdr_string(const char* what) {
    const auto n = static_cast<std::uint64_t>(count(what, static_cast<std::int64_t>(bytes_.size())));
    need((n + 3) / 4 * 4, what);
    std::string out;
    for (std::uint64_t i = 0; i < n; ++i) {
      const unsigned char c = bytes_[pos_ + i];
      if (c == 0) continue;
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
    pos_ += (n + 3) / 4 * 4;
    return out;
  }
  // The MDA counted string: int n, then the XDR string only when n > 0.
  std::string counted(const char* what) { return i32(what) > 0 ? xdr_string(what) : std::string(); }
  const std::string& file() const { return file_; }

 private:
  std::vector<unsigned char> bytes_;
  std::string file_;
  std::size_t pos_ = 0;
};

// One scan record: its header, its data (np × npts doubles, nd × npts floats) and the
// offsets of its inner scans.
struct Record {
  std::int64_t rank = 0, npts = 0, acquired = 0;
  std::vector<std::int64_t> lower;
  MdaDimension info;
  std::size_t data_offset = 0;
};

Record read_record(Xdr& in, std::int64_t offset, std::int64_t expected_rank) {
  in.seek(offset, "a scan offset");
  Record r;
  r.rank = in.i32("scan rank");
  if (r.rank != expected_rank)
    throw FormatError(fmt::format("{}: scan at byte {} has rank {}, expected {}", in.file(), offset, r.rank, expected_rank));
  r.npts = in.count("number of points", static_cast<std::int64_t>(in.size() / 4));
  r.acquired = in.count("acquired points", r.npts);
  if (r.rank > 1) {
    in.need(static_cast<std::uint64_t>(r.npts) * 4, "inner scan offsets");
    for (std::int64_t i = 0; i < r.npts; ++i) r.lower.push_back(in.i32("inner scan offset"));
  }
  MdaDimension& d = r.info;
  d.scan_name = in.counted("scan name");
  d.time = in.counted("scan time");
  d.requested_points = r.npts;
  d.acquired_points = r.acquired;
  const std::int64_t np = in.count("number of positioners", max_items);
  const std::int64_t nd = in.count("number of detectors", max_items);
  const std::int64_t nt = in.count("number of triggers", max_items);
  for (std::int64_t j = 0; j < np; ++j) {
    MdaPositioner p;
    p.number = in.i32("positioner number");
    p.name = in.counted("positioner name");
    p.description = in.counted("positioner description");
    p.step_mode = in.counted("positioner step mode");
    p.units = in.counted("positioner unit");
    p.readback_name = in.counted("readback name");
    p.readback_description = in.counted("readback description");
    p.readback_units = in.counted("readback unit");
    d.positioners.push_back(std::move(p));
  }
  for (std::int64_t j = 0; j < nd; ++j) {
    MdaDetector det;
    det.number = in.i32("detector number");
    det.name = in.counted("detector name");
    det.description = in.counted("detector description");
    det.units = in.counted("detector unit");
    d.detectors.push_back(std::move(det));
  }
  for (std::int64_t j = 0; j < nt; ++j) {
    MdaTrigger t;
    t.number = in.i32("trigger number");
    t.name = in.counted("trigger name");
    t.command = in.f32("trigger command");
    d.triggers.push_back(std::move(t));
  }
  r.data_offset = in.position();
  in.need(static_cast<std::uint64_t>(r.npts) * static_cast<std::uint64_t>(8 * np + 4 * nd), "scan data");
  return r;
}

// Copies record r's data into slot `slot` (of npts points) of dimension d's arrays.
void copy_data(Xdr& in, const Record& r, MdaDimension& d, std::int64_t slot) {
  if (r.info.positioners.size() != d.positioners.size() || r.info.detectors.size() != d.detectors.size())
    throw FormatError(fmt::format("{}: an inner scan lists {} positioners and {} detectors, the first one {} and {}",
                                  in.file(), r.info.positioners.size(), r.info.detectors.size(), d.positioners.size(),
                                  d.detectors.size()));
  const std::int64_t n = std::min(r.npts, d.shape.back());
  in.seek(static_cast<std::int64_t>(r.data_offset), "scan data");
  for (std::size_t j = 0; j < d.positioners.size(); ++j) {
    double* out = d.positions[j].data<double>() + slot * d.shape.back();
    for (std::int64_t i = 0; i < r.npts; ++i) {
      const double v = in.f64("positioner data");
      if (i < n) out[i] = v;
    }
  }
  for (std::size_t j = 0; j < d.detectors.size(); ++j) {
    float* out = d.values[j].data<float>() + slot * d.shape.back();
    for (std::int64_t i = 0; i < r.npts; ++i) {
      const float v = in.f32("detector data");
      if (i < n) out[i] = v;
    }
  }
}

void allocate(Xdr& in, MdaDimension& d, Shape shape) {
  // Every slot is backed by a record in the file, so the arrays cannot exceed a few times its size.
  const std::int64_t elements = element_count(shape);
  const auto bytes = static_cast<double>(elements) * static_cast<double>(8 * d.positioners.size() + 4 * d.detectors.size());
  if (bytes > 2.0 * static_cast<double>(in.size()) + 1e6)
    throw FormatError(fmt::format("{}: the scan claims {} points with {} positioners and {} detectors, more than the "
                                  "file ({} bytes) can hold",
                                  in.file(), elements, d.positioners.size(), d.detectors.size(), in.size()));
  d.shape = shape;
  for (std::size_t j = 0; j < d.positioners.size(); ++j) d.positions.emplace_back(DType::f64, shape);
  for (std::size_t j = 0; j < d.detectors.size(); ++j) d.values.emplace_back(DType::f32, shape);
}

std::string join_numbers(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt::format("{}", v[i]);
  return s;
}

void read_extra_pvs(Xdr& in, std::int64_t offset, MdaFile& out) {
  in.seek(offset, "the extra PV offset");
  const std::int64_t n = in.count("number of extra PVs", max_items);
  for (std::int64_t k = 0; k < n; ++k) {
    MdaExtraPv pv;
    pv.name = in.counted("extra PV name");
    pv.description = in.counted("extra PV description");
    const std::int32_t type = in.i32("extra PV type");
    if (type == 0) {  // DBR_STRING
      pv.value = in.counted("extra PV value");
      out.extra_pvs.push_back(std::move(pv));
      continue;
    }
    const std::int64_t count = in.count("extra PV count", static_cast<std::int64_t>(in.size() / 4));
    pv.units = in.counted("extra PV unit");
    std::vector<double> v;
    switch (type) {
      case 32: {  // DBR_CTRL_CHAR: one XDR int per char, a NUL-terminated string
        bool ended = false;
        for (std::int64_t i = 0; i < count; ++i) {
          const auto c = in.i32("extra PV value");
          ended = ended || c == 0;
          if (!ended && c > 0 && c < 128) pv.value.push_back(static_cast<char>(c));
        }
        break;
      }
      case 29:  // DBR_CTRL_SHORT
      case 33:  // DBR_CTRL_LONG
        for (std::int64_t i = 0; i < count; ++i) v.push_back(in.i32("extra PV value"));
        break;
      case 30:  // DBR_CTRL_FLOAT
        for (std::int64_t i = 0; i < count; ++i) v.push_back(in.f32("extra PV value"));
        break;
      case 34:  // DBR_CTRL_DOUBLE
        for (std::int64_t i = 0; i < count; ++i) v.push_back(in.f64("extra PV value"));
        break;
      default:
        log_warning("{}: extra PV '{}' has EPICS type {}, which MDA readers do not know; the remaining {} extra PVs "
                    "are skipped",
                    in.file(), pv.name, type, n - k);
        return;
    }
    if (type != 32) pv.value = join_numbers(v);
    out.extra_pvs.push_back(std::move(pv));
  }
}

}  // namespace

bool is_mda_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".mda";
}

MdaFile read_mda(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw IoError(fmt::format("{}: no such file (expected an MDA scan file)", name));
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError(fmt::format("{}: cannot open for reading", name));
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Xdr in(std::move(bytes), name);

  MdaFile out;
  out.path = path;
  out.version = in.f32("version");
  if (!(out.version > 0.9 && out.version < 10))
    throw FormatError(fmt::format("{}: MDA version {} is not plausible: not an MDA file?", name, out.version));
  out.scan_number = in.i32("scan number");
  const std::int64_t rank = in.count("rank", 1000);
  if (rank < 1 || rank > max_rank)
    throw FormatError(fmt::format("{}: scan rank {}, expected 1 .. {}", name, rank, max_rank));
  for (std::int64_t i = 0; i < rank; ++i) out.dimensions.push_back(in.count("dimension", static_cast<std::int64_t>(in.size())));
  out.regular = in.i32("is_regular") != 0;
  const std::int64_t extra = in.i32("extra PV offset");

  // Dimension 0: the outermost scan.
  const Record outer = read_record(in, static_cast<std::int64_t>(in.position()), rank);
  out.dims.push_back(outer.info);
  allocate(in, out.dims[0], {outer.npts});
  copy_data(in, outer, out.dims[0], 0);
  if (rank >= 2 && outer.acquired > 0) {
    // Dimension 1: one inner scan per acquired outer point; dimension 2 below each of those.
    std::vector<Record> middles;
    for (std::int64_t i = 0; i < outer.acquired; ++i) middles.push_back(read_record(in, outer.lower[static_cast<std::size_t>(i)], rank - 1));
    out.dims.push_back(middles[0].info);
    allocate(in, out.dims[1], {outer.acquired, middles[0].npts});
    for (std::int64_t i = 0; i < outer.acquired; ++i) copy_data(in, middles[static_cast<std::size_t>(i)], out.dims[1], i);
    if (rank == 3) {
      bool first = true;
      for (std::int64_t i = 0; i < outer.acquired; ++i) {
        const Record& mid = middles[static_cast<std::size_t>(i)];
        for (std::int64_t j = 0; j < mid.acquired; ++j) {
          const Record inner = read_record(in, mid.lower[static_cast<std::size_t>(j)], 1);
          if (first) {
            out.dims.push_back(inner.info);
            allocate(in, out.dims[2], {outer.acquired, middles[0].npts, inner.npts});
            first = false;
          }
          copy_data(in, inner, out.dims[2], i * middles[0].npts + std::min(j, middles[0].npts - 1));
        }
      }
    }
  }
  if (extra > 0) read_extra_pvs(in, extra, out);
  return out;
}

}  // namespace scandiff::io
