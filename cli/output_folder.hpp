// The folder named by an --out option: created (with its parents) before any work starts, so a
// bad path fails at once with the option's name instead of after a long run.
#pragma once

#include <string>

namespace scandiff::cli {

// Creates `folder` and its parents if missing. Throws IoError "--out FOLDER: cannot create the
// folder: REASON" when it cannot be created (a file in the way, no permission).
void create_output_folder(const std::string& folder);

}  // namespace scandiff::cli
