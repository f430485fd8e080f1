// Helpers for commands that write results into EMD 1.0 files.
#pragma once

#include <string>

#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"

namespace scandiff::cli {

// The py4DSTEM class of a result: DiffractionSlice for 2D (qy, qx) arrays, RealSlice for
// other 2D arrays, Array otherwise.
std::string python_class_for(const Result& r);

// `md` with every object key made storable as an HDF5 link name ('/' -> '_', empty or "."
// -> "_"), so metadata read from any input (e.g. a .hdr) can be written to EMD.
Metadata emd_safe_metadata(const Metadata& md);

}  // namespace scandiff::cli
