// APS MDA scan files (EPICS sscan record, saveData): the positioner and detector arrays of a
// 1-, 2- or 3-dimensional step scan, e.g. the raster positions and scaler / fluorescence
// channels of an SXDM map at APS 26-ID-C.
//
// Format (XDR: big-endian 4-byte ints, IEEE floats/doubles, strings as int length + bytes
// padded to 4; every "short" of the C structures is written as a 4-byte int):
//   header  float version, int scan_number, int rank, int dimensions[rank], int is_regular,
//           int offset_of_extra_pvs
//   scan    int rank, int npts (requested), int curr_pt (acquired), int lower_offsets[npts]
//           (only when rank > 1: file offsets of the inner scans), name and time (counted
//           strings: int n, then the XDR string when n > 0), int np, int nd, int nt,
//           np × {int number, 7 counted strings: name, desc, step mode, unit, readback name,
//           readback desc, readback unit}, nd × {int number, name, desc, unit},
//           nt × {int number, name, float command}, then np × npts doubles (positions) and
//           nd × npts floats (detector values).
//   extra   int count, then {name, desc, int type, [int count, unit when type != string],
//           value} (EPICS DBR types: string, short/long as ints, float, double, char).
// The outermost scan comes first; a rank-2 file holds one inner (rank-1) scan per acquired
// outer point. Strings are ISO-8859-1 in the files and are returned as UTF-8.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"

namespace scandiff::io {

struct MdaPositioner {
  int number = 0;  // P1 is 0
  std::string name, description, step_mode, units, readback_name, readback_description, readback_units;
};

struct MdaDetector {
  int number = 0;  // D01 is 0
  std::string name, description, units;
};

struct MdaTrigger {
  int number = 0;
  std::string name;
  double command = 0;
};

// One scan dimension, outermost (index 0) first. Its arrays have the shape
// (acquired points of dimension 0, requested points of dimensions 1 .. d): for a 2D map the
// inner dimension's detector arrays are the (rows, columns) maps. Points never acquired are 0.
struct MdaDimension {
  std::string scan_name;  // the sscan record, e.g. "26idbSOFT:scan1"
  std::string time;       // start time of its first scan, as written
  std::int64_t requested_points = 0;
  std::int64_t acquired_points = 0;  // of the first scan of this dimension
  std::vector<MdaPositioner> positioners;
  std::vector<MdaDetector> detectors;
  std::vector<MdaTrigger> triggers;
  Shape shape;
  std::vector<Array> positions;  // float64, one per positioner
  std::vector<Array> values;     // float32, one per detector
};

struct MdaExtraPv {
  std::string name, description, units;
  std::string value;  // numbers joined by ", " for arrays
};

struct MdaFile {
  std::filesystem::path path;
  double version = 0;
  int scan_number = 0;
  std::vector<std::int64_t> dimensions;  // requested points per dimension, outermost first
  bool regular = true;
  std::vector<MdaDimension> dims;
  std::vector<MdaExtraPv> extra_pvs;
};

// True when the file name ends in ".mda" (any case).
bool is_mda_path(const std::filesystem::path& path);

// Reads every dimension of an MDA file (rank 1 to 3). Throws IoError when it cannot be read and
// FormatError naming the file and byte offset when it is truncated or inconsistent (a count or
// offset outside the file); nothing is allocated beyond what the file's size can hold.
MdaFile read_mda(const std::filesystem::path& path);

}  // namespace scandiff::io
