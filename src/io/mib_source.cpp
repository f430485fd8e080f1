// MibSource: the frames of a Merlin acquisition, memory-mapped, decoded block by block.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mib_decode.hpp"
#include "scandiff/core/error.hpp"
#include "scandiff/core/log.hpp"
#include "scandiff/io/mib.hpp"

namespace scandiff::io {

namespace fs = std::filesystem;

// One .mib file, mapped read-only over its complete frames; the mapping outlives the
// descriptor (closed at once, so a series of thousands of files needs no open files).
struct detail::MibFile {
  std::string path;
  const std::byte* map = nullptr;
  std::size_t map_bytes = 0;
  std::int64_t frames = 0;
  MibFrameHeader first;  // header of its first frame

  MibFile() = default;
  MibFile(MibFile&& o) noexcept
      : path(std::move(o.path)), map(std::exchange(o.map, nullptr)), map_bytes(o.map_bytes), frames(o.frames),
        first(std::move(o.first)) {}
  MibFile& operator=(MibFile&& o) noexcept {
    if (this != &o) {
      unmap();
      path = std::move(o.path);
      map = std::exchange(o.map, nullptr);
      map_bytes = o.map_bytes;
      frames = o.frames;
      first = std::move(o.first);
    }
    return *this;
  }
  ~MibFile() { unmap(); }
  void unmap() {
    if (map) ::munmap(const_cast<std::byte*>(map), map_bytes);
    map = nullptr;
  }
};

namespace {

std::size_t page_size() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

// Reads up to `n` bytes at `offset`; fewer only at the end of the file.
std::vector<std::byte> read_at(int fd, std::size_t offset, std::size_t n, const std::string& path) {
  std::vector<std::byte> buf(n);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, buf.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw IoError(fmt::format("{}: read failed: {}", path, std::strerror(errno)));
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  buf.resize(done);
  return buf;
}

const char* type_name(MibPixelType t) {
  static const char* const names[] = {"U08", "U16", "U32", "R64"};
  return names[static_cast<int>(t)];
}

void check_same_layout(const MibFrameHeader& a, const MibFrameHeader& b, const std::string& where,
                       const std::string& reference_path) {
  if (a.header_bytes != b.header_bytes || a.width != b.width || a.height != b.height ||
      a.pixel_type != b.pixel_type || a.layout != b.layout || a.chips != b.chips ||
      (a.raw() && a.counter_depth != b.counter_depth))
    throw FormatError(fmt::format("{}: frame layout ({} header bytes, {}x{} {} {}) differs from {} ({} header bytes, "
                                  "{}x{} {} {}); frames of one acquisition must all be alike",
                                  where, a.header_bytes, a.height, a.width, type_name(a.pixel_type), a.layout, reference_path,
                                  b.header_bytes, b.height, b.width, type_name(b.pixel_type), b.layout));
}

// Frames of one file with the same layout as `reference` (or any layout when it is null).
detail::MibFile open_file(const fs::path& path, int fallback_depth, const MibFrameHeader* reference,
                          const std::string& reference_path) {
  detail::MibFile f;
  f.path = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open: {}", f.path, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw IoError(fmt::format("{}: not a regular file", f.path));
  const auto size = static_cast<std::size_t>(st.st_size);

  // Header size first (16 bytes suffice), then the whole header: nothing is allocated
  // from a header value before it is checked.
  const auto start = read_at(fd, 0, 48, f.path);
  const std::size_t header_bytes = mib_header_size(start, f.path);
  f.first = parse_mib_header(read_at(fd, 0, header_bytes, f.path), f.path, fallback_depth);
  if (reference) check_same_layout(f.first, *reference, f.path, reference_path);

  const std::size_t frame_bytes = f.first.frame_bytes();
  f.frames = static_cast<std::int64_t>(size / frame_bytes);
  if (f.frames == 0)
    throw FormatError(fmt::format("{}: {} bytes hold no complete frame ({} bytes each: {}-byte header + {} pixel "
                                  "bytes); the file is truncated",
                                  f.path, size, frame_bytes, header_bytes, f.first.data_bytes));
  if (size % frame_bytes != 0)
    log_warning("{}: {} bytes after frame {} are a partial frame (of {} bytes) and are ignored; truncated file?",
                f.path, size % frame_bytes, f.frames, frame_bytes);
  f.map_bytes = static_cast<std::size_t>(f.frames) * frame_bytes;
  void* m = ::mmap(nullptr, f.map_bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) throw IoError(fmt::format("{}: cannot map: {}", f.path, std::strerror(errno)));
  ::madvise(m, f.map_bytes, MADV_SEQUENTIAL);
  f.map = static_cast<const std::byte*>(m);
  return f;  // the mapping outlives the descriptor
}

// Drops the pages of bytes [begin, end) of a mapping from the resident set (the page cache
// keeps them). Pages shared with neighbouring frames are dropped too: a thread still
// reading them faults them back in.
void drop_pages(const detail::MibFile& f, std::size_t begin, std::size_t end) {
  const std::size_t ps = page_size();
  begin = begin / ps * ps;
  end = std::min((end + ps - 1) / ps * ps, f.map_bytes);
  if (end > begin) ::madvise(const_cast<std::byte*>(f.map) + begin, end - begin, MADV_DONTNEED);
}

void warn_hdr_mismatch(const MibAcquisitionHeader& hdr, const MibFrameHeader& h, std::int64_t frames,
                       const std::string& where) {
  for (const auto& p : hdr.problems) log_warning("{}: {}", hdr.path, p);
  if (!hdr.assembly_size.empty() && hdr.assembly_size != h.layout && !(hdr.assembly_size == "Nx1" && h.layout == "Nx1G") &&
      !(hdr.assembly_size == "2x2" && h.layout == "2x2G"))
    log_warning("{}: .hdr Assembly Size '{}' differs from the frame headers' layout '{}'; the frame headers are used",
                hdr.path, hdr.assembly_size, h.layout);
  if (hdr.counter_depth && h.counter_depth && *hdr.counter_depth != h.counter_depth)
    log_warning("{}: .hdr Counter Depth {} differs from the frame headers' {}; the frame headers are used", hdr.path,
                *hdr.counter_depth, h.counter_depth);
  if (hdr.frames_in_acquisition && *hdr.frames_in_acquisition > 0 && *hdr.frames_in_acquisition != frames)
    log_warning("{}: .hdr Frames in Acquisition is {}, but {} holds {} complete frame(s)", hdr.path,
                *hdr.frames_in_acquisition, where, frames);
}

// Colour mode and two-counter readout: no public sample shows how their frames are laid out
// (mib-format.md section 5), so they are refused by name instead of being read as monochrome
// frames. Continuous read/write ("Active Counters: Alternating") gives ordinary frames and is read.
void refuse_unsupported_modes(const detail::MibFile& f, int fallback_depth, const MibAcquisitionHeader* hdr) {
  if (f.first.colour_mode != 0)
    throw FormatError(fmt::format("{}: colour mode (frame header field 12 = {}) is not supported: the layout of "
                                  "colour frames is not documented by any public sample; acquire in monochrome mode",
                                  f.path, f.first.colour_mode));
  if (f.frames < 2) return;
  const std::span<const std::byte> second(f.map + f.first.frame_bytes(), f.first.header_bytes);
  const MibFrameHeader next = parse_mib_header(second, f.path + " (frame 2)", fallback_depth);
  const bool alternating = hdr && hdr->fields.value("Active Counters", std::string()) == "Alternating";
  if (next.counter != f.first.counter && !alternating)
    throw FormatError(fmt::format("{}: frames 1 and 2 come from counters {} and {} (frame header field 11): a "
                                  "two-counter readout, which is not supported (its frame order is not documented "
                                  "by any public sample); read out one counter",
                                  f.path, f.first.counter, next.counter));
}

}  // namespace

MibSource::MibSource(const fs::path& path, const MibOptions& options) : options_(options) {
  const std::string where = path.string();
  const bool from_hdr = [&] {
    std::ifstream f(path, std::ios::binary);
    char magic[4] = {};
    return f.read(magic, 4) && std::string_view(magic, 4) == "HDR,";
  }();

  std::vector<fs::path> paths;
  if (from_hdr) {
    hdr_ = read_mib_hdr(path);
    paths = mib_series_files(path);
    if (paths.empty())
      throw FormatError(fmt::format("{}: no .mib files of this acquisition beside it (expected <prefix><digits>.mib)",
                                    where));
  } else {
    paths = mib_series_files(path);
    if (!options.series) {
      if (paths.size() > 1)
        log_info("{}: {} other file(s) named like it (<prefix><digits>.mib) are not read; --series reads the whole "
                 "acquisition",
                 where, paths.size() - 1);
      paths.clear();
    }
    std::error_code ec;
    if (std::none_of(paths.begin(), paths.end(), [&](const fs::path& p) { return fs::equivalent(p, path, ec); }))
      paths.push_back(path);
    if (const auto hdr_path = find_mib_hdr(path)) {
      try {
        hdr_ = read_mib_hdr(*hdr_path);
      } catch (const Error& e) {
        log_warning("{}; the acquisition header is ignored", e.what());
      }
    }
  }
  const int fallback_depth = hdr_ && hdr_->counter_depth ? *hdr_->counter_depth : 0;

  for (const auto& p : paths)
    files_.push_back(open_file(p, fallback_depth, files_.empty() ? nullptr : &files_.front().first,
                               files_.empty() ? std::string() : files_.front().path));
  // Acquisition order: by the sequence number of each file's first frame.
  std::stable_sort(files_.begin(), files_.end(), [](const File& a, const File& b) {
    return a.first.sequence != b.first.sequence ? a.first.sequence < b.first.sequence : a.path < b.path;
  });
  header_ = files_.front().first;
  for (std::size_t i = 0; i < files_.size(); ++i) {
    file_first_frame_.push_back(total_frames_);
    total_frames_ += files_[i].frames;
    if (i > 0 && files_[i].first.sequence != files_[i - 1].first.sequence + files_[i - 1].frames)
      log_warning("{}: first frame number {} does not follow {} (frames {}..{}): frames missing or duplicated?",
                  files_[i].path, files_[i].first.sequence, files_[i - 1].path, files_[i - 1].first.sequence,
                  files_[i - 1].first.sequence + files_[i - 1].frames - 1);
  }
  if (files_.size() > 16384) log_warning("{}: {} files in one acquisition", where, files_.size());
  refuse_unsupported_modes(files_.front(), fallback_depth, hdr_ ? &*hdr_ : nullptr);
  if (hdr_) warn_hdr_mismatch(*hdr_, header_, total_frames_, where);
  if (!header_.raw() && header_.counter_depth) {
    const int d = header_.counter_depth;
    const bool fits = header_.dtype == DType::u8 ? d <= 8 : header_.dtype == DType::u16 ? d <= 16 : true;
    if (!fits)
      log_warning("{}: counter depth {} does not fit pixel type {}; values are read as stored", where, d,
                  name_of(header_.dtype));
  }

  if (options.fill_gaps && header_.layout != "2x2")
    throw InvalidArgument(fmt::format("--fill-gaps: {} has {} frames; the 3-pixel gap cross applies to quad (2x2) "
                                      "frames without gap pixels only",
                                      where, header_.layout));
  transformed_ = options.fill_gaps || options.flip_ud;

  shape_ = decide_mib_scan_shape(total_frames_, options, hdr_ ? &*hdr_ : nullptr,
                                 [this] { return frame_timings(); }, where);

  info_.path = where;
  info_.format = "mib";
  info_.scan_y = shape_.scan_y;
  info_.scan_x = shape_.scan_x;
  info_.frame_y = mib_decode::placed_extent(header_.frame_y, options.fill_gaps);
  info_.frame_x = mib_decode::placed_extent(header_.frame_x, options.fill_gaps);
  info_.dtype = header_.dtype;

  Metadata mib = header_.to_metadata();
  mib["frames_in_files"] = total_frames_;
  Metadata names = Metadata::array();
  for (const auto& f : files_) names.push_back(f.path);
  mib["files"] = names;
  if (hdr_) mib["hdr_file"] = hdr_->path;
  info_.metadata["mib"] = mib;
  info_.metadata["orientation"] = {
      {"flip_ud", options.flip_ud},
      {"rows", options.flip_ud ? "flipped up-down: qy = 0 is the last row of the file (as HyperSpy's reader and "
                                 "epsic's converter)"
                               : "file order: qy = 0 is the first row of the file (as LiberTEM)"}};
  info_.metadata["gap_fill"] =
      options.fill_gaps ? Metadata(fmt::format("3 zero rows inserted at qy {}-{} and 3 zero columns at qx {}-{} (epsic's "
                                               "cross); mask them",
                                               header_.frame_y / 2, header_.frame_y / 2 + 2, header_.frame_x / 2,
                                               header_.frame_x / 2 + 2))
                        : Metadata(false);
  info_.metadata["scan_shape"] = shape_.to_metadata();
  if (hdr_) info_.metadata["hdr"] = hdr_->fields;
  info_.validate();
}

MibSource::~MibSource() = default;

const std::byte* MibSource::frame_start(std::int64_t acquisition_frame, const File** file) const {
  const auto it = std::upper_bound(file_first_frame_.begin(), file_first_frame_.end(), acquisition_frame);
  const auto k = static_cast<std::size_t>(it - file_first_frame_.begin() - 1);
  *file = &files_[k];
  const auto local = static_cast<std::size_t>(acquisition_frame - file_first_frame_[k]);
  return files_[k].map + local * header_.frame_bytes();
}

std::vector<MibFrameTiming> MibSource::frame_timings() const {
  std::vector<MibFrameTiming> out;
  out.reserve(static_cast<std::size_t>(total_frames_));
  const std::size_t fb = header_.frame_bytes();
  const int fallback_depth = hdr_ && hdr_->counter_depth ? *hdr_->counter_depth : 0;
  for (const File& f : files_) {
    for (std::int64_t k = 0; k < f.frames; ++k) {
      const std::byte* p = f.map + static_cast<std::size_t>(k) * fb;
      const std::string where = fmt::format("{} frame {} (byte {})", f.path, k, static_cast<std::size_t>(k) * fb);
      const MibFrameHeader h = parse_mib_header({p, header_.header_bytes}, where, fallback_depth);
      check_same_layout(h, header_, where, f.path + " frame 0");
      out.push_back({h.exposure_s, h.timestamp_ns});
    }
    drop_pages(f, 0, f.map_bytes);
  }
  return out;
}

void MibSource::decode(const std::byte* pixels, std::byte* out, std::byte* scratch) const {
  if (!transformed_) {
    mib_decode::decode_frame(header_, pixels, out);
    return;
  }
  mib_decode::decode_frame(header_, pixels, scratch);
  mib_decode::place_frame(scratch, header_.frame_y, header_.frame_x, header_.dtype, options_.flip_ud,
                          options_.fill_gaps, out);
}

void MibSource::read(std::int64_t first, std::int64_t count, std::byte* dst) {
  check_range(first, count);
  thread_local std::vector<std::byte> scratch;
  if (transformed_) scratch.resize(static_cast<std::size_t>(header_.frame_y * header_.frame_x) * size_of(header_.dtype));
  const std::size_t out_bytes = info_.frame_bytes(), fb = header_.frame_bytes();
  const File* range_file = nullptr;  // pages to drop: [range_begin, range_end) of range_file
  std::size_t range_begin = 0, range_end = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t acq = acquisition_index(first + i);
    const File* file = nullptr;
    const std::byte* start = frame_start(acq, &file);
    if (std::memcmp(start, "MQ1,", 4) != 0)
      throw FormatError(fmt::format("{}: frame {} at byte {} does not start with 'MQ1,': the file is corrupt or its "
                                    "frames are not all {} bytes",
                                    file->path, acq, static_cast<std::size_t>(start - file->map), fb));
    decode(start + header_.header_bytes, dst + static_cast<std::size_t>(i) * out_bytes, scratch.data());
    const auto offset = static_cast<std::size_t>(start - file->map);
    if (file != range_file) {
      if (range_file) drop_pages(*range_file, range_begin, range_end);
      range_file = file;
      range_begin = offset;
    }
    range_end = offset + fb;
  }
  // Decoded frames are in the caller's buffer: their mapped pages need not stay resident.
  if (range_file) drop_pages(*range_file, range_begin, range_end);
}

const std::byte* MibSource::view(std::int64_t first, std::int64_t count) {
  check_range(first, count);
  // A view must look like read()'s output: only one uint8 frame, untouched, qualifies.
  if (count != 1 || header_.pixel_type != MibPixelType::u08 || transformed_) return nullptr;
  const File* file = nullptr;
  const std::byte* start = frame_start(acquisition_index(first), &file);
  if (std::memcmp(start, "MQ1,", 4) != 0) return nullptr;  // read() reports it
  return start + header_.header_bytes;
}

void MibSource::release(std::int64_t first, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) {
    const File* file = nullptr;
    const std::byte* start = frame_start(acquisition_index(first + i), &file);
    const auto offset = static_cast<std::size_t>(start - file->map);
    drop_pages(*file, offset, offset + header_.frame_bytes());
  }
}

std::unique_ptr<Source> open_mib(const fs::path& path, const MibOptions& options) {
  return std::make_unique<MibSource>(path, options);
}

}  // namespace scandiff::io
