// Quantum Detectors Merlin (Medipix3) acquisitions: .mib frame files and the .hdr
// acquisition header. Format reference: shared/reference/mib-format.md (§ numbers below).
//
// A .mib file is [header][pixels][header][pixels]..., one ASCII header per frame and
// big-endian pixels, no file header. Frames keep the detector's file order: row 0 of the
// file is qy = 0 (no flip) unless MibOptions::flip_ud asks for one. The scan shape is not in
// the .mib; MibSource decides it (§8) and records the decision and its reason in
// info().metadata["scan_shape"].
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scandiff/core/metadata.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::io {

// ---------------------------------------------------------------------------------------
// Frame header (§2). Fields 0-13 are read from the front; the MQ1A extension (UTC
// timestamp, exposure in ns, counter depth) from the back, so the 20-field RAW headers of
// software 0.67 and the full 55/139-field headers parse alike.

enum class MibPixelType { u08, u16, u32, r64 };  // field 6: U08, U16, U32, R64 (RAW)

// Limits applied before anything is allocated from header values.
inline constexpr std::size_t mib_max_header_bytes = 65535;     // field 2
inline constexpr std::int64_t mib_max_extent = 16384;          // fields 4, 5 (pixels)
inline constexpr std::int64_t mib_max_frame_pixels = 1 << 26;  // decoded frame (64 Mi pixels)

struct MibFrameHeader {
  std::int64_t sequence = 0;      // field 1: frame number (1-based within an acquisition)
  std::size_t header_bytes = 0;   // field 2: bytes from the frame start to its pixels
  int chips = 0;                  // field 3
  std::int64_t width = 0;         // field 4: pixels per row as stored (RAW: packed width)
  std::int64_t height = 0;        // field 5: rows as stored (ROI mode: the ROI rows)
  MibPixelType pixel_type = MibPixelType::u16;
  std::string layout;             // field 7, trimmed: "1x1", "2x2", "Nx1", "2x2G" or "Nx1G"
  unsigned chip_select = 0;       // field 8 (hex bit mask of active chips)
  std::string timestamp;          // MQ1A UTC timestamp (ns) when present, else field 9 (local, µs)
  std::int64_t timestamp_ns = 0;  // `timestamp` as ns since 1970-01-01 in its own time zone
  double exposure_s = 0;          // MQ1A exposure (ns) when present, else field 10; seconds
  int counter = 0;                // field 11: counter, or colour number in colour mode (0..7)
  int colour_mode = 0;            // field 12: 0 monochrome, 1 colour
  int gain_mode = 0;              // field 13: 0 SLGM, 1 LGM, 2 HGM, 3 SHGM
  std::vector<double> thresholds_keV;  // fields 14-21 when present (empty in short RAW headers)
  bool has_extension = false;     // the MQ1A extension was found
  int counter_depth = 0;          // bits: 1, 6, 12 or 24 (MQ1A, or the fallback); 0 unknown (non-RAW only)
  std::size_t field_count = 0;    // comma-separated fields, padding excluded

  // The decoded frame, validated against the fields above (§3, §4):
  std::int64_t frame_y = 0, frame_x = 0;  // rows (qy) and columns (qx)
  DType dtype = DType::u16;               // U08 -> uint8, U16 -> uint16, U32 -> uint32; RAW by depth
  std::size_t data_bytes = 0;             // pixel bytes after the header

  bool raw() const { return pixel_type == MibPixelType::r64; }
  bool quad() const { return layout == "2x2" || layout == "2x2G"; }
  std::size_t frame_bytes() const { return header_bytes + data_bytes; }  // stride between frames
  Metadata to_metadata() const;
};

// Bytes of a frame header as declared by field 2, read from the first 16 bytes of a frame
// ("MQ1,NNNNNN,HHHHH,"). Throws FormatError naming `where` unless they start "MQ1," and
// declare a size between 16 and mib_max_header_bytes.
std::size_t mib_header_size(std::span<const std::byte> first_bytes, std::string_view where);

// Parses and validates one frame header. `bytes` starts at the frame and holds at least the
// declared header size. `fallback_depth` (bits, e.g. the .hdr "Counter Depth") is used for
// RAW frames whose header has no MQ1A extension. Every number is checked (digits, range,
// consistency of layout, chips, type, depth and sizes); any violation is a FormatError that
// names `where`, the field and what was expected. Never reads outside `bytes`.
MibFrameHeader parse_mib_header(std::span<const std::byte> bytes, std::string_view where, int fallback_depth = 0);

// ---------------------------------------------------------------------------------------
// Acquisition header (.hdr, §7): "Key (choices):<TAB>value" lines between "HDR," and "End".

struct MibAcquisitionHeader {
  std::string path;
  Metadata fields = Metadata::object();  // every key (trailing ':' removed) -> value, file order
  std::optional<std::int64_t> frames_in_acquisition;  // 0 = continuous
  std::optional<std::int64_t> frames_per_trigger;
  std::optional<std::int64_t> scan_x, scan_y;         // software >= 1.5
  std::optional<int> counter_depth;
  std::string assembly_size;     // "1x1", "2x2", "Nx1" (trimmed)
  std::string software_version;
  std::string trigger_start, trigger_stop;
  // Values that could not be used (a non-number where a number belongs): a line each.
  std::vector<std::string> problems;
};

// Throws FormatError naming `where` unless `text` starts with "HDR,". Unparsable numbers are
// left unset and listed in `problems`.
MibAcquisitionHeader parse_mib_hdr(std::string_view text, std::string_view where);
// Reads and parses a .hdr file (at most 1 MiB; IoError/FormatError naming it).
MibAcquisitionHeader read_mib_hdr(const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------
// Files of an acquisition (§6).

// The series `path` belongs to: every "<prefix><digits>.mib" (and "<prefix>.mib") in its
// folder, where prefix = the stem of `path` without trailing digits. `path` may be a .mib
// or the .hdr. Unordered; MibSource orders them by the sequence number of their first frame.
std::vector<std::filesystem::path> mib_series_files(const std::filesystem::path& path);

// The .hdr describing `mib`: "<stem>.hdr" beside it, else "<prefix>.hdr" (stem without
// trailing digits); nullopt when there is none (calibration frames ship without one).
std::optional<std::filesystem::path> find_mib_hdr(const std::filesystem::path& mib);

// True when the file starts with "MQ1," (a .mib) or "HDR," (a .hdr); never throws.
bool is_mib_file(const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------
// Scan shape (§8).

enum class MibFlyback { automatic, on, off };

struct MibOptions {
  // Known scan shape (scan_y, scan_x): always wins. More frames than it needs: the surplus
  // at the end is ignored with a warning; fewer: InvalidArgument.
  std::optional<std::pair<std::int64_t, std::int64_t>> scan_shape = std::nullopt;
  std::int64_t skip_frames = 0;  // frames dropped at the start before any rule (sync offset)
  // Exposure fly-back detection: automatic (after .hdr ScanX/ScanY), on (required; an error
  // when no fly-back frame is found), off.
  MibFlyback flyback = MibFlyback::automatic;
  bool fill_gaps = false;  // quad: insert the 3-pixel zero cross at the chip gaps (512 -> 515)
  bool flip_ud = false;    // reverse the row order of every frame (as HyperSpy/epsic do)
  bool series = false;     // opening a .mib: also read its sibling files (always when opening a .hdr)
};

// Per-frame header values that vary through an acquisition.
struct MibFrameTiming {
  double exposure_s = 0;
  std::int64_t timestamp_ns = 0;  // ns since 1970 (see MibFrameHeader::timestamp_ns)
};

// The chosen scan and how frames of the acquisition map onto it: scan frame i (scan order)
// is acquisition frame first_frame + (i / scan_x) * line_stride + (i % scan_x).
struct MibScanShape {
  std::int64_t scan_y = 1, scan_x = 1;
  std::int64_t first_frame = 0;
  std::int64_t line_stride = 1;   // acquisition frames per scan line (scan_x + fly-back frames)
  std::string source;             // "user", "hdr ScanX/ScanY", "flyback", "frames per trigger",
                                  // "timestamps", "flat"
  Metadata details = Metadata::object();  // reason, unused frames, detection statistics

  Metadata to_metadata() const;
};

// Decides the scan shape of an acquisition of `frames` complete frames, in this order
// (§8): options.scan_shape; .hdr ScanX/ScanY; exposure fly-back frames (> 5x the median
// exposure; leading frames skipped, the fly-back column dropped); .hdr Frames per Trigger
// when 1 < FpT < frames; the timestamp-jump rule; else a flat 1 x N scan (with a warning).
// `timings` gives every frame's timing (acquisition order) and is called only when a rule
// needs it. Throws InvalidArgument for impossible options (naming them and the frame count).
MibScanShape decide_mib_scan_shape(std::int64_t frames, const MibOptions& options, const MibAcquisitionHeader* hdr,
                                   const std::function<std::vector<MibFrameTiming>()>& timings,
                                   std::string_view where);

// ---------------------------------------------------------------------------------------
// The Source.

// Frames of a .mib acquisition (one file, or a series ordered by first sequence number),
// memory-mapped. read() decodes blocks (byte swap for U16/U32, RAW unpacking, quad chip
// arrangement, then optional flip and gap fill) and is thread-safe. view() serves single
// uint8 frames without copying when no transform is asked (frames are separated by headers,
// so a view never spans two frames). Frame count per file = file size // frame size; a
// trailing partial frame is reported with a warning.
namespace detail {
struct MibFile;  // one mapped .mib file (src/io/mib_source.cpp)
}

class MibSource : public Source {
 public:
  // `path`: a .mib file (recognised by its "MQ1," magic) or a .hdr (then the whole series).
  // Throws IoError / FormatError naming the file, InvalidArgument for impossible options.
  explicit MibSource(const std::filesystem::path& path, const MibOptions& options = {});
  ~MibSource() override;
  MibSource(const MibSource&) = delete;
  MibSource& operator=(const MibSource&) = delete;

  void read(std::int64_t first, std::int64_t count, std::byte* dst) override;
  const std::byte* view(std::int64_t first, std::int64_t count) override;
  void release(std::int64_t first, std::int64_t count) override;

  const MibFrameHeader& first_header() const { return header_; }
  const std::optional<MibAcquisitionHeader>& acquisition_header() const { return hdr_; }
  const MibScanShape& scan_shape() const { return shape_; }
  std::int64_t acquisition_frames() const { return total_frames_; }  // complete frames in all files
  // Acquisition frame index (file order over the series) of scan frame `frame`.
  std::int64_t acquisition_index(std::int64_t frame) const {
    return shape_.first_frame + (frame / info_.scan_x) * shape_.line_stride + frame % info_.scan_x;
  }
  // Every frame's exposure and timestamp, read from the frame headers only (no pixel data).
  std::vector<MibFrameTiming> frame_timings() const;

 private:
  using File = detail::MibFile;
  const std::byte* frame_start(std::int64_t acquisition_frame, const File** file) const;
  void decode(const std::byte* pixels, std::byte* out, std::byte* scratch) const;

  MibOptions options_;
  MibFrameHeader header_;
  std::optional<MibAcquisitionHeader> hdr_;
  std::vector<File> files_;
  std::vector<std::int64_t> file_first_frame_;  // acquisition index of each file's first frame
  std::int64_t total_frames_ = 0;
  MibScanShape shape_;
  bool transformed_ = false;  // flip or gap fill: decode into scratch first
};

std::unique_ptr<Source> open_mib(const std::filesystem::path& path, const MibOptions& options = {});

}  // namespace scandiff::io
