// Bindings of scandiff/io: datasets (files and numpy arrays as Sources), EMD/raw writers, PNG.
#include <filesystem>
#include <optional>

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "scandiff/io/calibrated_source.hpp"
#include "scandiff/io/emd.hpp"
#include "scandiff/io/hspy.hpp"
#include "scandiff/io/image_file.hpp"
#include "scandiff/io/image_mask.hpp"
#include "scandiff/io/mda.hpp"
#include "scandiff/io/memory_source.hpp"
#include "scandiff/io/open.hpp"
#include "scandiff/io/png.hpp"
#include "scandiff/io/raw_writer.hpp"
#include "scandiff/io/result_files.hpp"
#include "scandiff/io/ripple.hpp"
#include "scandiff/io/scan_bin.hpp"
#include "scandiff/io/scan_subset.hpp"

namespace scandiff::python {

namespace {

using ScanShape = std::optional<std::pair<std::int64_t, std::int64_t>>;

Dataset open_file(const std::filesystem::path& path, std::optional<std::vector<std::int64_t>> raw_shape,
                  const std::string& dtype, std::size_t header_bytes, bool big_endian, const std::string& datapath,
                  ScanShape scan_shape, std::int64_t skip_frames, const std::string& flyback, bool fill_gaps,
                  bool flip_ud, bool series) {
  io::OpenOptions o;
  if (raw_shape) {
    if (raw_shape->size() != 4) throw InvalidArgument("raw_shape: expected four sizes (ry, rx, qy, qx)");
    const auto& s = *raw_shape;
    o.raw = io::RawLayout{s[0], s[1], s[2], s[3], parse_dtype(dtype, "dtype"), header_bytes, big_endian};
  }
  o.datapath = datapath;
  o.mib.scan_shape = scan_shape;
  o.mib.skip_frames = skip_frames;
  if (flyback == "auto") o.mib.flyback = io::MibFlyback::automatic;
  else if (flyback == "on") o.mib.flyback = io::MibFlyback::on;
  else if (flyback == "off") o.mib.flyback = io::MibFlyback::off;
  else throw InvalidArgument("flyback '" + flyback + "': expected 'auto', 'on' or 'off'");
  o.mib.fill_gaps = fill_gaps;
  o.mib.flip_ud = flip_ud;
  o.mib.series = series;
  nb::gil_scoped_release release;
  return Dataset{std::shared_ptr<io::Source>(io::open(path, o)), {}};
}

Dataset from_array(nb::ndarray<nb::ro, nb::device::cpu> array, ScanShape scan_shape,
                   std::optional<Calibration> calibration, nb::object owner) {
  Array borrowed = borrow_array(array);
  const Calibration cal = calibration.value_or(Calibration{});
  std::shared_ptr<io::Source> source;
  if (borrowed.rank() == 3) {
    if (!scan_shape) throw InvalidArgument("a frame stack (n, qy, qx) needs scan_shape=(ry, rx)");
    source = std::make_shared<io::MemorySource>(borrowed, scan_shape->first, scan_shape->second, cal);
  } else {
    if (scan_shape) throw InvalidArgument("scan_shape is only for a frame stack (n, qy, qx); this array is 4D");
    source = std::make_shared<io::MemorySource>(borrowed, cal);
  }
  return Dataset{std::move(source), std::move(owner)};
}

nb::object read_frames(Dataset& d, std::int64_t first, std::int64_t count) {
  const io::DatasetInfo& info = d.info();
  Array out(info.dtype, {count, info.frame_y, info.frame_x});
  {
    nb::gil_scoped_release release;
    d.source->read(first, count, out.bytes());
  }
  return to_numpy(out);
}

Result make_result(std::string name, nb::handle data, std::vector<std::tuple<std::string, double, double, std::string>> axes,
                   std::string units, nb::handle provenance) {
  Result r{std::move(name), copy_array(data), {}, std::move(units), from_python(provenance)};
  if (r.provenance.is_null()) r.provenance = Metadata::object();
  for (auto& [n, o, s, u] : axes) r.axes.push_back(Axis{n, o, s, u});
  return r;
}

// An MDA file as nested dicts and lists; arrays (acquired points of dimension 0, requested points
// of the inner dimensions) as numpy.
nb::dict read_mda_dict(const std::filesystem::path& path) {
  io::MdaFile f;
  {
    nb::gil_scoped_release release;
    f = io::read_mda(path);
  }
  nb::list dims;
  for (const io::MdaDimension& d : f.dims) {
    nb::list positioners, detectors;
    for (std::size_t i = 0; i < d.positioners.size(); ++i) {
      const io::MdaPositioner& p = d.positioners[i];
      nb::dict e;
      e["number"] = p.number;
      e["name"] = p.name;
      e["description"] = p.description;
      e["units"] = p.units;
      e["readback_name"] = p.readback_name;
      e["readback_units"] = p.readback_units;
      e["step_mode"] = p.step_mode;
      e["data"] = to_numpy(d.positions[i]);
      positioners.append(e);
    }
    for (std::size_t i = 0; i < d.detectors.size(); ++i) {
      const io::MdaDetector& det = d.detectors[i];
      nb::dict e;
      e["number"] = det.number;
      e["name"] = det.name;
      e["description"] = det.description;
      e["units"] = det.units;
      e["data"] = to_numpy(d.values[i]);
      detectors.append(e);
    }
    nb::dict dim;
    dim["scan_name"] = d.scan_name;
    dim["time"] = d.time;
    dim["requested_points"] = d.requested_points;
    dim["acquired_points"] = d.acquired_points;
    dim["shape"] = nb::tuple(nb::cast(d.shape));
    dim["positioners"] = positioners;
    dim["detectors"] = detectors;
    dims.append(dim);
  }
  nb::list extra;
  for (const io::MdaExtraPv& pv : f.extra_pvs) {
    nb::dict e;
    e["name"] = pv.name;
    e["description"] = pv.description;
    e["units"] = pv.units;
    e["value"] = pv.value;
    extra.append(e);
  }
  nb::dict out;
  out["path"] = f.path.string();
  out["version"] = f.version;
  out["scan_number"] = f.scan_number;
  out["dimensions"] = nb::tuple(nb::cast(f.dimensions));
  out["regular"] = f.regular;
  out["dims"] = dims;
  out["extra_pvs"] = extra;
  return out;
}

}  // namespace

io::Hdf5Storage storage_of(std::int64_t chunk_frames, const std::string& compression, int level) {
  io::Hdf5Storage s;
  s.chunk_frames = chunk_frames;
  s.compression = io::parse_hdf5_compression(compression, "compression");
  s.level = level;
  return s;
}

void bind_io(nb::module_& m) {
  nb::class_<io::DatasetInfo>(m, "DatasetInfo",
                              "what an analysis sees of a dataset: shape (ry, rx, qy, qx), dtype, calibration")
      .def_prop_ro("shape", [](const io::DatasetInfo& i) { return nb::make_tuple(i.scan_y, i.scan_x, i.frame_y, i.frame_x); })
      .def_prop_ro("dtype", [](const io::DatasetInfo& i) { return std::string(name_of(i.dtype)); })
      .def_ro("path", &io::DatasetInfo::path)
      .def_ro("format", &io::DatasetInfo::format)
      .def_ro("calibration", &io::DatasetInfo::calibration)
      .def_prop_ro("metadata", [](const io::DatasetInfo& i) { return to_python(i.metadata); });

  nb::class_<Dataset>(m, "Dataset", "a scan open for streaming: frames (ry, rx, qy, qx) read on demand")
      .def_prop_ro("info", [](const Dataset& d) { return d.info(); }, "a copy of the DatasetInfo")
      .def_prop_ro("shape", [](const Dataset& d) {
        const auto& i = d.info();
        return nb::make_tuple(i.scan_y, i.scan_x, i.frame_y, i.frame_x);
      }, "(ry, rx, qy, qx): scan rows, scan columns, detector rows, detector columns")
      .def_prop_ro("dtype", [](const Dataset& d) { return std::string(name_of(d.info().dtype)); }, "numpy dtype name")
      .def_prop_ro("path", [](const Dataset& d) { return d.info().path; })
      .def_prop_ro("format", [](const Dataset& d) { return d.info().format; }, "'emd', 'raw', 'mib', 'memory', 'simulated'")
      .def_prop_ro("calibration", [](const Dataset& d) { return d.info().calibration; },
                   "a copy of the calibration (use with_calibration to change it)")
      .def_prop_ro("metadata", [](const Dataset& d) { return to_python(d.info().metadata); }, "metadata tree (dict)")
      .def_prop_ro("frame_bytes", [](const Dataset& d) { return d.info().frame_bytes(); })
      .def_prop_ro("nbytes", [](const Dataset& d) { return d.info().total_bytes(); })
      .def_prop_ro("keep_alive", [](const Dataset& d) { return d.keep_alive.is_valid() ? d.keep_alive : nb::none(); }, "the array a numpy dataset borrows, or None")
      .def("read", &read_frames, nb::arg("first"), nb::arg("count"),
           "frames [first, first + count) in scan order (index ry * scan_x + rx) as a new (count, qy, qx) array")
      .def("with_calibration", [](const Dataset& d, const Calibration& c) {
        return Dataset{std::make_shared<io::CalibratedSource>(d.source, c), d.keep_alive};
      }, nb::arg("calibration"), "the same frames with another calibration (no copy)")
      .def("subset", [](const Dataset& d, std::int64_t ry0, std::int64_t ry1, std::int64_t rx0, std::int64_t rx1,
                        std::int64_t step) {
        return Dataset{std::make_shared<io::ScanSubset>(d.source, ry0, ry1, rx0, rx1, step), d.keep_alive};
      }, nb::arg("ry_begin"), nb::arg("ry_end"), nb::arg("rx_begin"), nb::arg("rx_end"), nb::arg("step") = 1,
         "scan rows ry_begin + i*step < ry_end and columns likewise (crop and thin in R, no copy)")
      .def("bin_scan", [](const Dataset& d, std::int64_t factor) {
        return Dataset{std::make_shared<io::ScanBin>(d.source, factor), d.keep_alive};
      }, nb::arg("factor"), "sums of factor x factor scan positions (bin in R, on the fly)");

  m.def("open", &open_file, nb::arg("path"), nb::arg("raw_shape") = nb::none(), nb::arg("dtype") = "uint16",
        nb::arg("header_bytes") = 0, nb::arg("big_endian") = false, nb::arg("datapath") = "",
        nb::arg("scan_shape") = nb::none(), nb::arg("skip_frames") = 0, nb::arg("flyback") = "auto",
        nb::arg("fill_gaps") = false, nb::arg("flip_ud") = false, nb::arg("series") = false,
        "open a dataset by content (EMD/HDF5, Merlin .mib/.hdr) or as raw binary with raw_shape");
  m.def("from_array", &from_array, nb::arg("array"), nb::arg("scan_shape") = nb::none(),
        nb::arg("calibration") = nb::none(), nb::arg("owner") = nb::none(),
        "a dataset over a numpy array (ry, rx, qy, qx) or (n, qy, qx) WITHOUT copying; `owner` is kept alive");

  nb::class_<EmdFile>(m, "EmdWriter", "an EMD 1.0 file written to a temporary name, renamed on commit()")
      .def("__init__", [](EmdFile* f, const std::filesystem::path& p) {
        new (f) EmdFile{std::make_unique<io::EmdWriter>(p)};
      }, nb::arg("path"))
      .def("add_root", [](EmdFile& f, const std::string& root, const Calibration& c) { f.get().add_root(root, c); })
      .def("add_datacube", [](EmdFile& f, const std::string& root, const std::string& name, const io::DatasetInfo& i,
                              std::int64_t chunk_frames, const std::string& compression, int level) {
        f.get().add_datacube(root, name, i.shape(), i.dtype, i.calibration, storage_of(chunk_frames, compression, level));
      }, nb::arg("root"), nb::arg("name"), nb::arg("info"), nb::arg("chunk_frames") = 0, nb::arg("compression") = "none",
         nb::arg("level") = 0,
         "an empty DataCube with the shape, dtype and calibration of `info`, filled by a WriteFrames pass; HDF5 "
         "storage: chunk_frames (0 contiguous, 1 a frame, N frames of a scan row), compression, level")
      .def("add_array", [](EmdFile& f, const std::string& root, const Result& r, std::optional<std::string> cls) {
        f.get().add_array(root, r, cls ? *cls : io::python_class_for(r));
      }, nb::arg("root"), nb::arg("result"), nb::arg("python_class") = nb::none(),
         "py4DSTEM class: default DiffractionSlice for (qy, qx) images, RealSlice for other 2D maps, else Array")
      .def("add_metadata", [](EmdFile& f, const std::string& root, const std::string& name, nb::handle md) {
        f.get().add_metadata(root, name, io::emd_safe_metadata(from_python(md)));
      }, "a metadata dictionary (keys made storable as HDF5 names)")
      .def("commit", [](EmdFile& f) {
        f.get().commit();
        f.writer.reset();
      })
      .def("abort", [](EmdFile& f) { f.writer.reset(); }, "remove the temporary file; nothing appears at the target");

  nb::class_<HspyFile>(m, "HspyWriter",
                       "a HyperSpy .hspy signal (/Experiments/__unnamed__/data, ePSIC's layout), renamed on commit()")
      .def("__init__", [](HspyFile* f, const std::filesystem::path& p, const io::DatasetInfo& i,
                          std::int64_t chunk_frames, const std::string& compression, int level) {
        new (f) HspyFile{std::make_unique<io::HspyWriter>(p, i, storage_of(chunk_frames, compression, level))};
      }, nb::arg("path"), nb::arg("layout"), nb::arg("chunk_frames") = 0, nb::arg("compression") = "none",
           nb::arg("level") = 0)
      .def("add_original_metadata", [](HspyFile& f, const std::string& name, nb::handle md) {
        f.get().add_original_metadata(name, from_python(md));
      })
      .def("commit", [](HspyFile& f) {
        f.get().commit();
        f.writer.reset();
      })
      .def("abort", [](HspyFile& f) { f.writer.reset(); });
  m.def("describe_storage", [](std::int64_t chunk_frames, const std::string& compression, int level,
                               std::int64_t scan_x) {
    return storage_of(chunk_frames, compression, level).describe(scan_x);
  }, nb::arg("chunk_frames"), nb::arg("compression"), nb::arg("level"), nb::arg("scan_x"));

  nb::class_<RawFile>(m, "RawWriter", "headerless native-endian frames, renamed onto the target on commit()")
      .def("__init__", [](RawFile* f, const std::filesystem::path& p, const io::DatasetInfo& i) {
        new (f) RawFile{std::make_unique<io::RawWriter>(p, i)};
      }, nb::arg("path"), nb::arg("layout"))
      .def("commit", [](RawFile& f) {
        f.get().commit();
        f.writer.reset();
      })
      .def("abort", [](RawFile& f) { f.writer.reset(); });

  m.def("make_result", &make_result, nb::arg("name"), nb::arg("data"), nb::arg("axes"), nb::arg("units") = "",
        nb::arg("provenance") = nb::none(), "a Result from a numpy array (copied) and (name, origin, step, units) axes");
  m.def("read_emd_array", [](const std::filesystem::path& p, const std::string& node) {
    nb::gil_scoped_release release;
    return io::read_emd_array(p, node);
  }, nb::arg("path"), nb::arg("node"));
  m.def("read_emd_calibration", &io::read_emd_calibration, nb::arg("path"), nb::arg("root"),
        "the calibration of an EMD root (py4DSTEM's metadatabundle/calibration)");
  m.def("write_png", [](const std::filesystem::path& p, nb::handle image, const std::string& colormap, bool log) {
    io::PngOptions o;
    o.colormap = colormap;
    if (log) o.range.stretch = io::DisplayRange::Stretch::log;
    io::write_png(p, copy_array(image), o);
  }, nb::arg("path"), nb::arg("image"), nb::arg("colormap") = "gray", nb::arg("log") = false);
  m.def("write_results_emd", [](const std::filesystem::path& p, const std::string& root, const Calibration& cal,
                                const std::vector<Result>& results, nb::handle metadata) {
    std::vector<std::pair<std::string, Metadata>> md;
    if (!metadata.is_none())
      for (auto [k, v] : nb::borrow<nb::dict>(metadata)) md.emplace_back(nb::cast<std::string>(k), io::emd_safe_metadata(from_python(v)));
    io::write_results_emd(p, root, cal, results, md);
  }, nb::arg("path"), nb::arg("root"), nb::arg("calibration"), nb::arg("results"), nb::arg("metadata") = nb::none(),
        "results as nodes of `root` in a new EMD 1.0 file (written atomically), with metadata dictionaries");
  m.def("write_result_pngs", &io::write_result_pngs, nb::arg("folder"), nb::arg("results"), nb::arg("colormap") = "gray",
        "FOLDER/<name>.png for every 2D result (diffraction patterns: log stretch, inferno)");
  m.def("read_png", [](const std::filesystem::path& p) { return to_numpy(io::read_png(p)); });
  m.def("read_image", [](const std::filesystem::path& p) {
    Array image;
    {
      nb::gil_scoped_release release;
      image = io::read_image(p);
    }
    return to_numpy(image);
  }, nb::arg("path"), "a TIFF/EDF/CBF detector image (recognised by content) as (rows, cols), or a stack (n, rows, cols)");
  m.def("read_mask", [](const std::filesystem::path& p) { return to_numpy(io::read_mask(p)); }, nb::arg("path"),
        "a mask image file (TIFF/EDF/CBF) as uint8 (qy, qx): 1 where the file is non-zero (masked)");
  m.def("threshold_mask", [](nb::handle image, std::optional<double> below, std::optional<double> above) {
    return to_numpy(io::threshold_mask(copy_array(image), below, above));
  }, nb::arg("image"), nb::arg("below") = nb::none(), nb::arg("above") = nb::none(),
        "uint8 (qy, qx): 1 where image < below, image > above or NaN (e.g. Pilatus gaps), else 0");
  m.def("read_ripple", [](const std::filesystem::path& p) {
    nb::gil_scoped_release release;
    return io::read_ripple(p);
  }, nb::arg("path"), "a Ripple .rpl/.raw spectrum image as a Result (ry, rx, channels) with its energy axis");
  m.def("read_mda", &read_mda_dict, nb::arg("path"),
        "an APS .mda scan: per dimension (outermost first) its positioners and detectors with their arrays");
}

}  // namespace scandiff::python
