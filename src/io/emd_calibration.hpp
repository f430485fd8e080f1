// Private: scandiff's Calibration <-> py4DSTEM's root calibration dictionary
// (<root>/metadatabundle/calibration, python_class 'Calibration'). The key mapping and the
// x/y exchange are documented in include/scandiff/io/emd.hpp. The caller holds h5::Lock.
#pragma once

#include <string>
#include <vector>

#include "hdf5_handle.hpp"
#include "scandiff/core/calibration.hpp"

namespace scandiff::io::emd {

// Writes <bundle>/calibration. `target_paths` are the root-relative tree paths of the
// DataCubes that py4DSTEM re-links to it on read (e.g. "/datacube").
void write_calibration(hid_t bundle, const Calibration& cal, const std::vector<std::string>& target_paths);

// Reads a calibration group; keys that are absent (or of an unexpected kind) keep the defaults.
Calibration read_calibration(hid_t group);

}  // namespace scandiff::io::emd
