// Which files make up a Merlin acquisition (reference §6, §7): a .mib, its series
// siblings "<prefix><digits>.mib", and the .hdr that describes them.
#include <algorithm>
#include <fstream>
#include <system_error>

#include "scandiff/io/mib.hpp"

namespace scandiff::io {

namespace fs = std::filesystem;

namespace {

// The stem without its trailing digits: "scan_0012" -> "scan_", "default" -> "default".
std::string series_prefix(const fs::path& p) {
  std::string stem = p.stem().string();
  while (!stem.empty() && stem.back() >= '0' && stem.back() <= '9') stem.pop_back();
  return stem;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::vector<fs::path> mib_series_files(const fs::path& path) {
  const std::string prefix = series_prefix(path);
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::vector<fs::path> out;
  std::error_code ec;
  // Exact names, no glob: brackets in paths and unrelated "a.mib"/"a_256RAW.mib" never match.
  // Explicit increments with an error code: a folder that cannot be listed gives no siblings.
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const fs::path& p = entry.path();
    if (p.extension() != ".mib" || !entry.is_regular_file(ec)) continue;
    const std::string stem = p.stem().string();
    if (stem.size() >= prefix.size() && stem.compare(0, prefix.size(), prefix) == 0 &&
        all_digits(std::string_view(stem).substr(prefix.size())))
      out.push_back(p);
  }
  return out;
}

std::optional<fs::path> find_mib_hdr(const fs::path& mib) {
  std::error_code ec;
  fs::path own = mib;
  own.replace_extension(".hdr");
  if (fs::is_regular_file(own, ec)) return own;
  const fs::path series = mib.parent_path() / (series_prefix(mib) + ".hdr");
  if (fs::is_regular_file(series, ec)) return series;
  return std::nullopt;
}

bool is_mib_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  if (!f.read(magic, 4)) return false;
  const std::string_view m(magic, 4);
  return m == "MQ1," || m == "HDR,";
}

}  // namespace scandiff::io
