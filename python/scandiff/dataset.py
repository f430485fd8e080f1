"""Datasets: files and numpy arrays as streaming sources of frames (ry, rx, qy, qx)."""
from __future__ import annotations

import os
from typing import Any, Mapping, Union

import numpy as np

from . import _core

CalibrationLike = Union[_core.Calibration, Mapping[str, Any], None]


def make_calibration(calibration: CalibrationLike = None, **values: Any) -> _core.Calibration:
    """A :class:`Calibration` from another one or a dict of its fields, updated by ``values``.

    Fields: scan_pixel_size (in scan_units: 'pixels', 'nm', 'A', 'um'), detector_pixel_size (in
    detector_units: 'pixels', 'A^-1', 'mrad'), radiation, beam_energy_eV, camera_length_m,
    origin_qy_px, origin_qx_px (detector pixels, qy = row), origin_qy_map, origin_qx_map ((ry, rx)
    arrays), ellipse (a_px, b_px, theta_rad), qr_rotation_rad, qr_flip.
    """
    out = _core.Calibration()
    items: dict[str, Any] = {}
    if isinstance(calibration, _core.Calibration):
        for name in _CALIBRATION_FIELDS:
            items[name] = getattr(calibration, name)
    elif calibration is not None:
        items.update(calibration)
    items.update(values)
    for name, value in items.items():
        if name not in _CALIBRATION_FIELDS:
            raise ValueError(f"calibration: unknown field {name!r}; expected one of {', '.join(_CALIBRATION_FIELDS)}")
        setattr(out, name, value)
    return out


_CALIBRATION_FIELDS = ("scan_pixel_size", "scan_units", "detector_pixel_size", "detector_units", "radiation",
                       "beam_energy_eV", "camera_length_m", "origin_qy_px", "origin_qx_px", "origin_qy_map",
                       "origin_qx_map", "ellipse", "qr_rotation_rad", "qr_flip")


class Dataset:
    """A scan open for streaming. Frames are read on demand; nothing is loaded at open.

    Axis order (C order): ``(ry, rx, qy, qx)`` = scan row, scan column, detector row, detector
    column; frames are numbered ``ry * scan_x + rx``. ``ds[ry, rx]`` reads one frame (qy, qx).
    """

    def __init__(self, core: _core.Dataset):
        self._core = core

    # -- description ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(ry, rx, qy, qx)."""
        return self._core.shape

    @property
    def scan_shape(self) -> tuple[int, int]:
        return self._core.shape[:2]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self._core.shape[2:]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._core.dtype)

    @property
    def nbytes(self) -> int:
        return self._core.nbytes

    @property
    def path(self) -> str:
        return self._core.path

    @property
    def format(self) -> str:
        return self._core.format

    @property
    def calibration(self) -> _core.Calibration:
        """A copy of the calibration (units in its fields; ``.to_dict()`` for a dict)."""
        return self._core.calibration

    @property
    def metadata(self) -> dict[str, Any]:
        """Everything the source knows beyond shape and calibration (file headers, provenance)."""
        return self._core.metadata

    def with_calibration(self, calibration: CalibrationLike = None, **values: Any) -> "Dataset":
        """The same frames (no copy) with another calibration, e.g. a fitted origin."""
        base = self.calibration if calibration is None else calibration
        return Dataset(self._core.with_calibration(make_calibration(base, **values)))

    # -- preparation in R (scan positions), on the fly, no copy ---------------------------------
    def subset(self, ry: tuple[int, int] | None = None, rx: tuple[int, int] | None = None, step: int = 1) -> "Dataset":
        """Scan rows ``ry[0] + i*step < ry[1]`` and columns likewise (crop and thin in R); the
        calibration's scan step is multiplied by ``step`` and origin maps are cut the same way."""
        sy, sx = self.scan_shape
        ry, rx = ry or (0, sy), rx or (0, sx)
        return Dataset(self._core.subset(int(ry[0]), int(ry[1]), int(rx[0]), int(rx[1]), int(step)))

    def bin_scan(self, factor: int) -> "Dataset":
        """Sums of factor x factor scan positions (bin in R, dtype promoted so nothing overflows)."""
        return Dataset(self._core.bin_scan(int(factor)))

    # -- frames -----------------------------------------------------------------------------
    def __getitem__(self, index: tuple[int, int]) -> np.ndarray:
        """The frame at scan position (ry, rx), as a new (qy, qx) array (negative indices count from the end)."""
        if not (isinstance(index, tuple) and len(index) == 2):
            raise IndexError("index a dataset with two integers: ds[ry, rx]")
        sy, sx = self.scan_shape
        ry, rx = (int(i) for i in index)
        ry, rx = ry + sy if ry < 0 else ry, rx + sx if rx < 0 else rx
        if not (0 <= ry < sy and 0 <= rx < sx):
            raise IndexError(f"scan position ({index[0]}, {index[1]}) outside the {sy}x{sx} scan")
        return self._core.read(ry * sx + rx, 1)[0]

    def frames(self, first: int, count: int) -> np.ndarray:
        """Frames [first, first + count) in scan order as a new (count, qy, qx) array."""
        return self._core.read(int(first), int(count))

    def to_numpy(self, memory: int | str | None = None) -> np.ndarray:
        """The whole scan as a (ry, rx, qy, qx) array. A dataset over a numpy array returns that
        array itself (no copy). Otherwise the data must fit in ``memory`` (bytes, or '4G'; default:
        a quarter of the available memory) or :class:`BudgetError` is raised."""
        owner = self._core.keep_alive
        if isinstance(owner, np.ndarray) and owner.shape == self.shape:
            return owner
        budget = _memory_bytes(memory) or _core.default_memory_budget()
        if self.nbytes > budget:
            raise _core.BudgetError(
                f"{self.path}: the dataset holds {self.nbytes / 2**20:.1f} MiB, more than the memory budget of "
                f"{budget / 2**20:.1f} MiB; stream it with scandiff.run() or raise memory=")
        sy, sx, qy, qx = self.shape
        return self._core.read(0, sy * sx).reshape(sy, sx, qy, qx)

    def __repr__(self) -> str:
        return f"<scandiff.Dataset {self.path} {self.format} {self.shape} {self.dtype}>"


def _memory_bytes(memory: int | str | None) -> int:
    if memory is None:
        return 0
    if isinstance(memory, str):
        return _core.parse_memory_size(memory)
    return int(memory)


def open(source: Any, **options: Any) -> Dataset:  # noqa: A001 (the natural name)
    """Open a dataset.

    ``source`` is a path (EMD 1.0 / HDF5 and Merlin .mib/.hdr are recognised by content; raw binary
    needs ``raw_shape=(ry, rx, qy, qx)``, ``dtype=``, ``header_bytes=``, ``big_endian=``;
    ``datapath='root/node'`` picks an array in an HDF5 file; Merlin options ``scan_shape=(Y, X)``,
    ``skip_frames=``, ``flyback='auto'|'on'|'off'``, ``fill_gaps=``, ``flip_ud=``, ``series=``),
    an existing :class:`Dataset`, or a numpy array (see :func:`from_numpy`; options
    ``scan_shape=`` and ``calibration=``).
    """
    if isinstance(source, Dataset):
        return source
    if isinstance(source, np.ndarray) or hasattr(source, "__dlpack__") or hasattr(source, "__array_interface__"):
        return from_numpy(source, **options)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"open: expected a path, a numpy array or a Dataset, got {type(source).__name__}")
    if "raw_shape" in options and options["raw_shape"] is not None:
        options["raw_shape"] = [int(n) for n in options["raw_shape"]]
    if "dtype" in options:
        options["dtype"] = np.dtype(options["dtype"]).name
    calibration = options.pop("calibration", None)
    ds = Dataset(_core.open(os.fspath(source), **options))
    return ds.with_calibration(calibration) if calibration is not None else ds


def from_numpy(array: Any, scan_shape: tuple[int, int] | None = None, calibration: CalibrationLike = None,
               **values: Any) -> Dataset:
    """A dataset over a numpy array WITHOUT copying it: (ry, rx, qy, qx), or a frame stack
    (n, qy, qx) with ``scan_shape=(ry, rx)``. Any strides (slices, views) are read in place; the
    dataset keeps the array alive, and later writes to the array are seen by the next pass.
    Element types: uint8, uint16, uint32, int32, float32, float64."""
    cal = make_calibration(calibration, **values) if (calibration is not None or values) else None
    return Dataset(_core.from_array(array, scan_shape, cal, array))


def info(source: Any, **options: Any) -> dict[str, Any]:
    """What ``scandiff info`` prints, as a dict: shape (ry, rx, qy, qx), dtype, frames, bytes,
    calibration (with units) and metadata. Reads the header only. APS .mda scan records give
    :func:`scandiff.read_mda`'s dict, Ripple .rpl spectrum images their shape (ry, rx, channels),
    axes and header (as ``scandiff info`` describes them too)."""
    if isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(".mda"):
        return {"format": "APS MDA", **_core.read_mda(os.fspath(source))}
    if isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(".rpl"):
        r = _core.read_ripple(os.fspath(source))
        return {"path": os.fspath(source), "format": "Ripple", "shape": r.data.shape,
                "axes": [(a.name, a.origin, a.step, a.units) for a in r.axes], "dtype": r.data.dtype.name,
                "units": r.units, "header": r.provenance.get("ripple", {})}
    ds = open(source, **options)
    sy, sx, qy, qx = ds.shape
    return {"path": ds.path, "format": ds.format, "shape": ds.shape, "axes": ("ry", "rx", "qy", "qx"),
            "dtype": ds.dtype.name, "frames": sy * sx, "bytes": ds.nbytes,
            "calibration": ds.calibration.to_dict(), "metadata": ds.metadata}
