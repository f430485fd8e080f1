// The metadata tree: nested key/value pairs (numbers, strings, booleans, arrays of
// numbers, sub-trees) read from files, carried with datasets and results, and
// written back out. It is nlohmann::ordered_json, which keeps insertion order so
// that files and `scandiff info` list keys as the source wrote them.
#pragma once

#include <nlohmann/json.hpp>

namespace scandiff {

using Metadata = nlohmann::ordered_json;

}  // namespace scandiff
