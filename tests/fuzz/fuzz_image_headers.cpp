// libFuzzer target: the EDF header parser and data decoder and the CBF file decoder (MIME
// header and byte-offset stream) on arbitrary bytes. Any input must give an image that
// satisfies the parser's promises or a scandiff::Error — any other exception, a crash, a
// sanitizer report or a broken invariant is a finding.
// Build: cmake -DSCANDIFF_FUZZ=ON with clang (see `make fuzz`).
#include <cstddef>
#include <cstdint>
#include <span>

#include "scandiff/core/error.hpp"
#include "scandiff/io/cbf.hpp"
#include "scandiff/io/edf.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scandiff;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const io::EdfFrameHeader h = io::parse_edf_header(bytes, "fuzz.edf");
    check(h.header_bytes <= size && h.rows > 0 && h.cols > 0 && h.rows * h.cols <= io::edf_max_frame_pixels);
    check(h.data_bytes >= static_cast<std::uint64_t>(h.rows * h.cols) * h.element_bytes);
    // Decode only what the input holds (the file reader checks the size against the file).
    const Array a = io::decode_edf_data(h, bytes.subspan(h.header_bytes), "fuzz.edf");
    check(a.shape(0) == h.rows && a.shape(1) == h.cols && a.dtype() == h.dtype);
  } catch (const Error&) {
  }
  try {
    const Array a = io::decode_cbf(bytes, "fuzz.cbf");
    check(a.rank() == 2 && a.size() <= static_cast<std::int64_t>(size));  // at least one stream byte per pixel
  } catch (const Error&) {
  }
  return 0;
}
