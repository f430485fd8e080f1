// libFuzzer target: the Merlin frame-header and .hdr parsers on arbitrary bytes. Any input
// must give a header that satisfies the parser's promises or a scandiff::Error — any other
// exception, a crash, a sanitizer report or a broken invariant is a finding.
// Build: cmake -DSCANDIFF_FUZZ=ON with clang (see `make fuzz`).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "scandiff/core/error.hpp"
#include "scandiff/io/mib.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scandiff;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  for (int fallback_depth : {0, 1, 12}) {
    try {
      const io::MibFrameHeader h = io::parse_mib_header(bytes, "fuzz", fallback_depth);
      check(h.header_bytes <= size && h.header_bytes <= io::mib_max_header_bytes);
      check(h.frame_y > 0 && h.frame_x > 0 && h.frame_y * h.frame_x <= io::mib_max_frame_pixels);
      check(h.data_bytes > 0 && h.data_bytes <= 4 * static_cast<std::size_t>(h.frame_y * h.frame_x));
      check(!h.raw() || h.counter_depth == 1 || h.counter_depth == 6 || h.counter_depth == 12 ||
            h.counter_depth == 24);
      (void)h.to_metadata().dump();
    } catch (const Error&) {
    }
  }
  try {
    const io::MibAcquisitionHeader hdr =
        io::parse_mib_hdr(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.hdr");
    (void)hdr.fields.dump();
  } catch (const Error&) {
  }
  return 0;
}
