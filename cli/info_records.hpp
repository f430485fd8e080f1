// `scandiff info` for files that are not frame stacks: APS MDA scan records (positioners and
// detector channels) and Ripple .rpl spectrum images.
#pragma once

#include <string>

namespace scandiff::cli {

// Prints the description of `path` when it is an .mda or .rpl file (text, or JSON with
// `as_json`) and returns true; returns false for any other file.
bool describe_record_file(const std::string& path, bool as_json);

}  // namespace scandiff::cli
