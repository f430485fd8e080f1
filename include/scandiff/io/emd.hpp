// EMD 1.0 files as py4DSTEM (0.14) / emdfile write and read them: an HDF5 tree of "root"
// groups holding array nodes (DataCube, RealSlice, ...) and typed metadata dictionaries.
// Layout reference: shared/reference/emd-format.md.
//
// Axis order. Data are stored in C order (ry, rx, qy, qx) for a 4D scan, exactly as in memory.
// py4DSTEM labels the same four axes (Rx, Ry, Qx, Qy): its "x" is the FIRST (slower) index of
// each pair. Its calibration therefore maps onto ours with x and y exchanged:
//   R_pixel_size/R_pixel_units  <-> scan_pixel_size/scan_units
//   Q_pixel_size/Q_pixel_units  <-> detector_pixel_size/detector_units
//   qx0_mean, qy0_mean (px)     <-> origin_qy_px, origin_qx_px           (row, column)
//   qx0, qy0 maps (Rx, Ry)      <-> origin_qy_map, origin_qx_map         (both (ry, rx) arrays)
//   a, b (px)                   <-> ellipse a_px, b_px
//   theta (rad, from Qx to Qy)  <-> pi/2 - ellipse theta_rad (ours is from +qx to +qy)
//   QR_rotation (rad)           <-> -qr_rotation_rad (the axis exchange reverses the sense)
//   QR_rotation_degrees         <-  degrees of QR_rotation (written; read only if QR_rotation is absent)
//   QR_flip                     <-> qr_flip
// Beam energy, camera length and radiation are stored as extra keys beam_energy_eV,
// camera_length_m and radiation ("xray" only) which py4DSTEM carries along untouched.
//
// Thread safety: every function takes a process-wide lock around its HDF5 calls (the HDF5
// build is not assumed thread-safe), so they may be called from any thread; the library never
// prints HDF5 diagnostics, it throws IoError / FormatError naming the file instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "scandiff/core/array.hpp"
#include "scandiff/core/calibration.hpp"
#include "scandiff/core/dtype.hpp"
#include "scandiff/core/metadata.hpp"
#include "scandiff/core/result.hpp"
#include "scandiff/io/atomic_file.hpp"
#include "scandiff/io/hdf5_storage.hpp"
#include "scandiff/io/source.hpp"

namespace scandiff::io {

// True when the file carries the 8-byte HDF5 signature at offset 0, 512, 1024, 2048, ...
// (the HDF5 user block sizes). False for missing or unreadable paths; never throws.
bool is_hdf5_file(const std::filesystem::path& path);

// Ragged per-position peak lists (Bragg vectors) in raw detector pixels, as stored in EMD:
// position p = ry·scan_x + rx holds entries [offsets[p], offsets[p + 1]) of row/col/intensity.
struct EmdBraggVectors {
  std::int64_t scan_y = 0, scan_x = 0;    // py4DSTEM's Rshape
  std::int64_t frame_y = 0, frame_x = 0;  // py4DSTEM's Qshape
  std::vector<std::int64_t> offsets;      // scan_y·scan_x + 1 values, offsets[0] = 0, non-decreasing
  std::vector<double> row, col, intensity;  // detector row (py4DSTEM qx), column (py4DSTEM qy)
};

// Writes an EMD 1.0 file. Everything goes to a temporary file beside the target; commit()
// closes it and renames it onto the target, and a writer destroyed without commit() removes
// the temporary file, so a failed run never leaves a half-written output.
// Node and root names are single HDF5 link names (no '/', not "." or "").
// Not thread-safe as an object: use one writer from one thread at a time.
class EmdWriter {
 public:
  explicit EmdWriter(std::filesystem::path target, std::string authoring_program = "scandiff");
  ~EmdWriter();
  EmdWriter(const EmdWriter&) = delete;
  EmdWriter& operator=(const EmdWriter&) = delete;

  // Adds a root group (emd_group_type 'root', python_class 'Root'). Its
  // metadatabundle/calibration (python_class 'Calibration') is written from `cal` at commit(),
  // with _target_paths listing the datacubes later added to this root.
  void add_root(const std::string& root, const Calibration& cal);

  // Creates <root>/<name> as a py4DSTEM DataCube: `data` of `shape` (ry, rx, qy, qx) and `dtype`,
  // contiguous and uncompressed by default (py4DSTEM and memory maps read it; `storage` may ask
  // for chunks and a compression filter, which readers then need), units "pixel intensity";
  // dim0..dim3 named Rx, Ry, Qx, Qy holding [0, pixel size] in the units of `cal` (scan axes
  // from scan_pixel_size/scan_units, detector axes from detector_pixel_size/detector_units).
  // Frames are then streamed in with write_frames(); commit() refuses a cube with frames missing.
  void add_datacube(const std::string& root, const std::string& name, Shape shape, DType dtype,
                    const Calibration& cal, const Hdf5Storage& storage = {});
  // Writes frames [first_frame, first_frame + count) (scan order, ry major) of a datacube from
  // `data`: count * qy * qx elements of the cube's dtype, C order (count, qy, qx).
  // Thread-safe for a contiguous (default) datacube, whose frames go straight into the file from
  // any thread, for disjoint ranges in any order; chunked datacubes are written through HDF5.
  void write_frames(const std::string& root, const std::string& name, std::int64_t first_frame,
                    std::int64_t count, const std::byte* data);
  // True when the datacube takes write_frames() from several threads at once (contiguous).
  bool concurrent_frames(const std::string& root, const std::string& name) const;

  // Writes `result` as the array node <root>/<result.name>. `python_class` names the py4DSTEM
  // class: "RealSlice" (2D scan maps), "DiffractionSlice" (2D detector images), "VirtualImage",
  // "VirtualDiffraction", or "Array". dimN come from result.axes as [origin, origin + step] with
  // the axis name and units (axes may be empty: then dimN = [0, 1] in pixels); the data
  // attribute `units` is result.units. A non-empty result.provenance is written to the node's
  // metadatabundle as the metadata dictionary "provenance".
  void add_array(const std::string& root, const Result& result, const std::string& python_class = "Array");

  // Writes the JSON object `md` as the metadata dictionary <root>/metadatabundle/<name> in
  // emdfile's typed layout: object -> subgroup ('dict'), string -> 'string', integer or float ->
  // 'number' (int64 / uint64 / float64), bool -> 'bool', null -> 'None', array of numbers or of
  // bools -> 'list' (1-D), rectangular nested arrays of numbers -> 'array' (N-d), array of
  // strings -> 'list_of_strings', ragged arrays of number arrays -> 'list_of_arrays'.
  // Keys keep their order. "calibration" is reserved (use add_root).
  void add_metadata(const std::string& root, const std::string& name, const Metadata& md);

  // Writes py4DSTEM's BraggVectors node <root>/<name> (emd-format.md §7): a 'custom' group
  // (python_class BraggVectors) with metadata _braggvectors_shape {Rshape, Qshape} and the raw
  // vectors as the PointListArray _v_uncal: a (scan_y, scan_x) dataset of variable-length lists
  // of {qx, qy, intensity} float64 records, py4DSTEM's qx being the detector ROW. The node is
  // added to the root calibration's _target_paths so that py4DSTEM links it to the calibration.
  void add_bragg_vectors(const std::string& root, const std::string& name, const EmdBraggVectors& vectors);

  // Writes the root calibrations, closes the file and renames it onto the target.
  void commit();

  const std::filesystem::path& target() const { return out_.target(); }

 private:
  struct State;
  AtomicOutput out_;
  std::unique_ptr<State> state_;
};

// One EMD data node found in a file.
struct EmdNodeInfo {
  std::string path;            // absolute HDF5 path, e.g. "/datacube_root/datacube"
  std::string emd_group_type;  // "array", "pointlist", "pointlistarray", "node", "custom", "custom_..."
  std::string python_class;    // "DataCube", "RealSlice", "BraggVectors", ...
  Shape shape;                 // shape of `data` for arrays (stack index first); empty otherwise
  DType dtype = DType::f64;    // element type of `data`, valid when dtype_supported
  bool dtype_supported = false;
  std::string type_name;       // numpy-like name of the stored type ("uint16", "int64", "complex", ...)
};

// Every data node under every root, depth first in file order (creation order where tracked).
// Throws IoError/FormatError (naming the file) when it is not a readable EMD 1.0 file.
std::vector<EmdNodeInfo> list_emd_nodes(const std::filesystem::path& path);

// Reads an array node (e.g. "datacube_root/datacube", leading '/' optional) fully into memory:
// data, one Axis per dimension (origin and step from the dim vectors, two-value or full length),
// data units, and its "provenance" metadata if present. For stack arrays (last dim named
// '_labels_') axis 0 is the stack index, named "_labels_".
Result read_emd_array(const std::filesystem::path& path, const std::string& node_path);

// Reads a metadata dictionary group (e.g. "root/metadatabundle/params") back into JSON: the
// inverse of EmdWriter::add_metadata, accepting byte or variable-length string `type` attributes,
// and also emdfile's tuple / tuple_of_* / list_of_arrays forms. Large arrays become nested JSON.
Metadata read_emd_metadata(const std::filesystem::path& path, const std::string& metadata_group_path);

// Reads a BraggVectors node (e.g. "root/braggvectors"; empty: the first BraggVectors node of
// the file) written by scandiff or py4DSTEM. Throws FormatError naming the file when the node,
// its shape metadata or its _v_uncal PointListArray are missing or malformed (a data shape that
// is not Rshape, records without float qx/qy/intensity fields).
EmdBraggVectors read_emd_bragg_vectors(const std::filesystem::path& path, const std::string& node_path = "");

// Reads <root>/metadatabundle/calibration (py4DSTEM keys, mapping in the file comment above);
// missing keys keep Calibration's defaults. Throws FormatError if the root does not exist.
Calibration read_emd_calibration(const std::filesystem::path& path, const std::string& root);

// Opens a 4D array node as a Source: `node_path`, or when empty the first DataCube of the file
// (else the first 4D array). Calibration comes from the node's root; info().metadata holds the
// root's metadata dictionaries other than calibration, by name. read() reads whole-frame
// hyperslabs straight into the caller's buffer and is thread-safe; preferred_block_frames() is
// the number of frames one chunk spans for chunked data (1 when contiguous).
std::unique_ptr<Source> open_emd(const std::filesystem::path& path, const std::string& node_path = "");

}  // namespace scandiff::io
