// The result writers live in the library (scandiff/io/result_files.hpp, shared with the Python
// package); the CLI uses them under their old names.
#pragma once

#include "scandiff/io/result_files.hpp"

namespace scandiff::cli {

using io::emd_safe_metadata;
using io::python_class_for;
using io::write_result_pngs;
using io::write_results_emd;

}  // namespace scandiff::cli
