"""Writing datasets and results: EMD 1.0 (py4DSTEM reads it), raw binary, PNG.

Every file is written under a temporary name and renamed only when complete: a failed or
cancelled pass (Ctrl-C) leaves no output behind.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _core
from .dataset import Dataset, open as _open
from .engine import Analysis, run
from .results import Result
from .stem import VirtualDiffraction, VirtualImage, VirtualImages, annulus, circle, rectangle


def _chunk_frames(chunk: Any, compression: str) -> int:
    """``convert --chunk``: None/'auto' (contiguous, or one frame per chunk when compressed),
    'none' (contiguous), 'frame', 'row' (one scan row) or N frames of a row -> frames per chunk."""
    if chunk in (None, "auto"):
        return 0
    if chunk == "none":
        if compression != "none":
            raise ValueError("chunk='none': compressed data must be chunked; use 'frame', 'row' or a number")
        return 0
    if chunk == "frame":
        return 1
    if chunk == "row":
        return 2**63 - 1
    if isinstance(chunk, (int, np.integer)) and chunk > 0:
        return int(chunk)
    raise ValueError(f"chunk {chunk!r}: expected 'none', 'frame', 'row' or a positive number of frames")


class WriteEMD(Analysis):
    """Streams every frame of the pass into an EMD 1.0 DataCube ``root/name`` of ``path``
    (C order (ry, rx, qy, qx), the dataset's dtype and calibration), and adds the results of the
    analyses in ``add_results_of`` (run in the same pass) as nodes of the same root, and
    ``metadata`` (name -> dict) as metadata dictionaries. The file appears when the pass succeeds.
    HDF5 storage (``convert --chunk/--compression``): ``chunk`` None (contiguous; one frame per
    chunk when compressed), 'frame', 'row' or N frames of a scan row; ``compression`` 'none',
    'gzip', 'lz4', 'bitshuffle-lz4' or 'blosc' (all but gzip need the HDF5 filter plugin);
    ``level`` 1..9 for gzip / blosc (0: their default)."""

    def __init__(self, path: str | os.PathLike, root: str = "datacube_root", name: str = "datacube",
                 add_results_of: Sequence[Analysis] = (), metadata: Mapping[str, Any] | None = None,
                 chunk: Any = None, compression: str = "none", level: int = 0):
        self.path, self.root, self.name = Path(path), root, name
        self.add_results_of, self.metadata = list(add_results_of), dict(metadata or {})
        self.storage = (_chunk_frames(chunk, compression), compression, int(level))
        self._writer: _core.EmdWriter | None = None

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        self._writer = _core.EmdWriter(os.fspath(self.path))
        self._writer.add_root(self.root, info.calibration)
        self._writer.add_datacube(self.root, self.name, info, *self.storage)  # the frames as prepared
        return [_core.WriteFrames.emd(self._writer, self.root, self.name)]

    def _collect(self, made, ds):
        return {}

    def _commit(self, results, ds):
        for a in self.add_results_of:
            for r in a.results.values():
                if isinstance(r, Result):
                    self._writer.add_array(self.root, r._to_core())
        for key, md in self.metadata.items():
            self._writer.add_metadata(self.root, key, md)
        self._writer.commit()
        self._writer = None

    def _abort(self):
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


class WriteHspy(Analysis):
    """Streams every frame into a HyperSpy .hspy signal (``/Experiments/__unnamed__/data``, the
    layout ePSIC writes; HyperSpy and rosettasciio read it), with ``original_metadata`` entries
    (name -> dict). Storage options as :class:`WriteEMD`. The file appears when the pass succeeds."""

    def __init__(self, path: str | os.PathLike, original_metadata: Mapping[str, Any] | None = None,
                 chunk: Any = None, compression: str = "none", level: int = 0):
        self.path, self.original_metadata = Path(path), dict(original_metadata or {})
        self.storage = (_chunk_frames(chunk, compression), compression, int(level))
        self._writer: _core.HspyWriter | None = None

    def _make(self, ds, info):
        self._writer = _core.HspyWriter(os.fspath(self.path), info, *self.storage)
        return [_core.WriteFrames.hspy(self._writer)]

    def _collect(self, made, ds):
        return {}

    def _commit(self, results, ds):
        for key, md in self.original_metadata.items():
            self._writer.add_original_metadata(key, md)
        self._writer.commit()
        self._writer = None

    def _abort(self):
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


class WriteRaw(Analysis):
    """Streams every frame into a headerless native-endian binary file (the layout
    ``open(path, raw_shape=...)`` reads back)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._writer: _core.RawWriter | None = None

    def _make(self, ds, info):
        self._writer = _core.RawWriter(os.fspath(self.path), info)
        return [_core.WriteFrames.raw(self._writer)]

    def _collect(self, made, ds):
        return {}

    def _commit(self, results, ds):
        self._writer.commit()
        self._writer = None

    def _abort(self):
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


def save_results(path: str | os.PathLike, results: Mapping[str, Any] | Iterable[Result], calibration=None,
                 root: str = "results", metadata: Mapping[str, Any] | None = None, pngs: bool = False) -> Path:
    """Writes results as nodes of ``root`` in a new EMD 1.0 file (py4DSTEM:
    ``py4DSTEM.read(path, datapath=f'{root}/<name>')``), with the root ``calibration`` and
    ``metadata`` dictionaries; with ``pngs=True`` also ``<name>.png`` beside it for 2D results."""
    items = results.values() if isinstance(results, Mapping) else results
    core = [r._to_core() for r in items if isinstance(r, Result)]
    cal = calibration if calibration is not None else _core.Calibration()
    _core.write_results_emd(os.fspath(path), root, cal, core, dict(metadata or {}))
    if pngs:
        _core.write_result_pngs(os.fspath(Path(path).parent), core)
    return Path(path)


def read_result(path: str | os.PathLike, node: str) -> Result:
    """An array node of an EMD 1.0 file (e.g. ``'polar_root/azimuthal_mean'`` of the CLI's
    polar.h5, or any py4DSTEM array) as a :class:`Result`: data, one axis per dimension, units,
    provenance. Read fully into memory."""
    return Result._from_core(_core.read_emd_array(os.fspath(path), node))


def convert(dataset: Any, out: str | os.PathLike, layout: str = "auto", chunk: Any = None,
            compression: str = "none", compression_level: int = 0, **options: Any) -> dict[str, Result]:
    """``scandiff convert``: the dataset (a path with :func:`open` options, or any dataset) in ONE
    pass that also computes ``mean_diffraction``, ``max_diffraction`` (float64 (qy, qx)) and
    ``total_intensity`` (float64 (ry, rx)), written as ``OUT_<name>.png`` beside the output.
    ``layout`` 'emd' (an EMD 1.0 DataCube ``datacube_root/datacube`` with those results in the same
    file), 'hyperspy' (a .hspy signal, the results in ``OUT_summary.h5``) or 'auto' (hyperspy for a
    .hspy name); ``chunk``, ``compression``, ``compression_level``: the HDF5 storage of the frames
    (:class:`WriteEMD`)."""
    run_keys = ("threads", "memory", "progress", "block_frames")
    run_opts = {k: options.pop(k) for k in list(options) if k in run_keys}
    ds = _open(dataset, **options)
    out = Path(out)
    if layout not in ("auto", "emd", "hyperspy"):
        raise ValueError(f"layout {layout!r}: expected 'auto', 'emd' or 'hyperspy'")
    hyperspy = layout == "hyperspy" or (layout == "auto" and out.suffix == ".hspy")
    allowed = (".hspy", ".h5", ".hdf5") if hyperspy else (".h5", ".hdf5", ".emd")
    if out.suffix not in allowed:
        kind = "a HyperSpy" if hyperspy else "an EMD 1.0"
        raise ValueError(f"output '{out}': expected {kind} file name ending in {', '.join(allowed)}")
    if out.exists() and ds.path and os.path.exists(ds.path) and os.path.samefile(out, ds.path):
        raise ValueError(f"output '{out}' is the input file")
    qy, qx = ds.frame_shape
    diffraction = VirtualDiffraction()
    total = VirtualImage(rectangle(0, qy, 0, qx), name="total_intensity")
    storage = (_chunk_frames(chunk, compression), compression, int(compression_level))
    conversion = {"input": ds.path, "input_format": ds.format, "shape": list(ds.shape),
                  "axes": ["ry", "rx", "qy", "qx"], "dtype": ds.dtype.name,
                  "layout": "hyperspy" if hyperspy else "emd", "frames_file": str(out),
                  "storage": _core.describe_storage(*storage, ds.scan_shape[1]), "scandiff_version": _core.__version__}
    metadata = {"conversion": conversion}
    if ds.metadata:
        metadata["input_metadata"] = ds.metadata
    if hyperspy:
        summary = WriteEMDResults(out.parent / f"{out.stem}_summary.h5", [diffraction, total], ds.calibration,
                                  metadata)
        writer: Analysis = WriteHspy(out, {"scandiff_conversion": conversion, **(
            {"input_metadata": ds.metadata} if ds.metadata else {})}, chunk, compression, compression_level)
        results = run(ds, [writer, diffraction, total], label="convert", **run_opts)
        summary.write()
    else:
        writer = WriteEMD(out, add_results_of=[diffraction, total], metadata=metadata, chunk=chunk,
                          compression=compression, level=compression_level)
        results = run(ds, [writer, diffraction, total], label="convert", **run_opts)
    stem = out.parent / out.stem
    for name, log in (("mean_diffraction", True), ("max_diffraction", True), ("total_intensity", False)):
        _core.write_png(f"{stem}_{name}.png", results[name].data, "inferno" if log else "gray", log)
    return dict(results)


class WriteEMDResults:
    """The results of analyses run in a pass as nodes of ``datacube_root`` in their own EMD file
    (the summary beside a HyperSpy conversion), written after the pass."""

    def __init__(self, path: Path, analyses: Sequence[Analysis], calibration, metadata: Mapping[str, Any]):
        self.path, self.analyses, self.calibration, self.metadata = path, analyses, calibration, metadata

    def write(self) -> None:
        w = _core.EmdWriter(os.fspath(self.path))
        try:
            w.add_root("datacube_root", self.calibration)
            for a in self.analyses:
                for r in a.results.values():
                    w.add_array("datacube_root", r._to_core())
            for key, md in self.metadata.items():
                w.add_metadata("datacube_root", key, md)
            w.commit()
        except BaseException:
            w.abort()
            raise


def simulate(out: str | os.PathLike | None = None, threads: int = 0, memory: int | str | None = None,
             progress: Any = True, **preset: Any) -> Dataset:
    """A synthetic scan with exact ground truth (``scandiff simulate``; same parameters, same
    defaults, same bytes for the same seed): kind='crystal' (strained Bragg-disk lattice: g1, g2,
    disk_radius, exx, eyy, exy, rotation_deg, descan_rx, descan_ry, amorphous) or 'rings' (gold
    powder rings: pixel_size in 1/A per pixel); both: scan=(Y, X), frame=(Y, X), dtype,
    noise='poisson'|'none', dose, seed, ellipse=(ratio, angle_deg).

    Without ``out``: a lazy dataset whose frames are rendered on demand (nothing stored). With
    ``out`` (.h5/.emd or .raw): the frames are written there in one pass, with the ground truth
    beside it (OUT_truth.h5, OUT_truth.json), and the written file is returned opened."""
    p = _core.ScanPreset()
    for key, value in preset.items():
        if not hasattr(p, key):
            raise ValueError(f"simulate: unknown parameter {key!r}")
        setattr(p, key, list(value) if isinstance(value, tuple) else value)
    ds = Dataset(_core.simulated(p))
    if out is None:
        return ds
    return _write_simulation(ds, Path(out), [], threads=threads, memory=memory, progress=progress,
                             label="simulate")


def _write_simulation(ds: Dataset, out: Path, extra: Sequence[Analysis], label: str, **run_options: Any) -> Dataset:
    """Renders a simulated dataset into ``out`` (.h5/.emd: DataCube datacube_root/datacube, with the
    results of ``extra`` analyses run in the same pass; .raw: the frames) and writes the ground truth
    beside it (OUT_truth.h5, OUT_truth.json), as ``scandiff simulate`` and ``demo`` do. Returns the
    written file opened."""
    params = _core.simulation_parameters(ds._core)
    if out.suffix in (".h5", ".hdf5", ".emd"):
        writer: Analysis = WriteEMD(out, add_results_of=extra, metadata={"simulation": params})
        fmt = "emd"
    elif out.suffix in (".raw", ".bin"):
        writer, fmt = WriteRaw(out), "raw"
    else:
        raise ValueError(f"output '{out}': unknown extension '{out.suffix}', expected .h5/.emd (EMD 1.0) or .raw")
    run(ds, [writer, *extra], label=label, **run_options)
    truth = out.parent / f"{out.stem}_truth.h5"
    _core.write_results_emd(os.fspath(truth), "truth_root", ds.calibration, _core.simulation_truth(ds._core),
                            {"simulation": params})
    doc = {"data": out.name, "format": fmt, "shape": list(ds.shape), "axes": ["ry", "rx", "qy", "qx"],
           "dtype": ds.dtype.name, "byte_order": "little", "scandiff_version": _core.__version__,
           "parameters": params}
    tmp = out.parent / f".{out.stem}_truth.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, out.parent / f"{out.stem}_truth.json")
    if fmt == "emd":
        return _open(out)
    return _open(out, raw_shape=ds.shape, dtype=ds.dtype.name)


def ground_truth(dataset: Dataset) -> dict[str, Result]:
    """The exact maps a lazily simulated dataset (``simulate()`` without ``out``) was made from:
    origin_qy, origin_qx (detector pixels), and for crystals exx, eyy, exy, rotation (rad), float64
    (ry, rx). (A written simulation has them in OUT_truth.h5.)"""
    return {r.name: Result._from_core(r) for r in _core.simulation_truth(dataset._core)}


def demo(out: str | os.PathLike = "demo-output", scan: int = 32, frame: int = 128,
         **run_options: Any) -> dict[str, Result]:
    """``scandiff demo``: simulates a ``scan`` x ``scan`` strained-crystal scan of ``frame`` x ``frame``
    uint16 frames and, in ONE pass, writes it to OUT/demo.h5 (+ ground truth) with the mean and max
    diffraction patterns, bright field (disk radius + 2 px), annular dark field (disk radius + 4 px
    to 0.48 x frame) and the (2,0) Bragg dark field; PNGs beside it. Returns those results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ds = Dataset(_core.demo_scan(scan, frame))
    params = _core.simulation_parameters(ds._core)
    qy0, qx0, r = params["origin_qy_px"], params["origin_qx_px"], params["disk_radius_px"]
    g1 = params["g1_px"]
    diffraction = VirtualDiffraction()
    images = VirtualImages({"bright_field": circle(qy0, qx0, r + 2),
                            "annular_dark_field": annulus(qy0, qx0, r + 4, 0.48 * frame),
                            "dark_field_200": circle(qy0 + 2 * g1["y"], qx0 + 2 * g1["x"], r)})
    _write_simulation(ds, out / "demo.h5", [diffraction, images], label="demo", **run_options)
    results = {**diffraction.results, **images.results}
    _core.write_png(os.fspath(out / "mean_diffraction.png"), results["mean_diffraction"].data, "inferno", True)
    for name in ("bright_field", "annular_dark_field", "dark_field_200"):
        _core.write_png(os.fspath(out / f"{name}.png"), results[name].data)
    return results
