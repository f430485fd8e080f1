// The polar binning options (stem::PolarOptions) on the command line, one definition shared by
// `scandiff polar` and the radial background of `scandiff peaks` / `scandiff strain`: --qmin,
// --qmax, --qstep, --n-annular, --two-fold, --no-smoothing, --mask-threshold (pixels; the
// parameters and defaults of py4DSTEM's PolarDatacube).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "scandiff/stem/polar_transform.hpp"

namespace scandiff::cli {

// Registers the options on `cmd`, bound to `polar` (--no-smoothing clears angular_smoothing),
// under the --help heading `group` (not empty: CLI11 hides options of an empty group).
void add_polar_options(CLI::App* cmd, stem::PolarOptions& polar, const std::string& group);

}  // namespace scandiff::cli
