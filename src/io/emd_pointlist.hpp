// Private: py4DSTEM's PointListArray of Bragg peaks in HDF5 (emd-format.md §6): one `data`
// dataset of the scan shape whose elements are variable-length lists of {qx, qy, intensity}
// float64 records (py4DSTEM's qx = detector row). The caller holds h5::Lock.
#pragma once

#include <string>

#include "hdf5_handle.hpp"
#include "scandiff/io/emd.hpp"

namespace scandiff::io::emd {

// Writes <group>/data from `v` (offsets validated by the caller) in one H5Dwrite.
void write_peak_lists(hid_t group, const EmdBraggVectors& v);

// Reads <group>/data into v.offsets/row/col/intensity; v.scan_y/scan_x must already hold the
// expected shape. Throws FormatError naming `file`.
void read_peak_lists(hid_t group, EmdBraggVectors& v, const std::string& file);

}  // namespace scandiff::io::emd
