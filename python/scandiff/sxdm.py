"""Scanning X-ray diffraction microscopy (SXDM): the maps of ``scandiff sxdm centroid`` and
``sxdm roi``, sxdm's hot-pixel filters, and the frameset functions of ``sxdm rocking`` and
``sxdm align``.

Detector axes as sxdm: x = qx = detector column = the 2theta direction, y = qy = detector row =
the chi direction; a box is ``(x0, y0, x1, y1)``: columns x0..x1-1, rows y0..y1-1. Maps are
float64 (ry, rx). A frameset is a JSON manifest of scans over the sample angle theta
(docs/sxdm-datasets.md); :func:`scandiff.open` opens it as the sum of its background-subtracted,
aligned scans, so every analysis runs on it. Formulas: docs/sxdm.md.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from . import _core
from .dataset import Dataset
from .engine import Analysis, _memory_text, _progress_callback, run
from .results import Result
from .stem import _split_run_options

Box = tuple  # (x0, y0, x1, y1) detector pixels, end-exclusive


def _box(box: Any) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    if len(box) != 4:
        raise ValueError(f"box {box!r}: expected (x0, y0, x1, y1)")
    return tuple(int(v) for v in box)


def _geometry(poni: Any) -> Any:
    if poni is None or isinstance(poni, _core.PoniGeometry):
        return poni
    return _core.read_poni(os.fspath(poni))


class CentroidMaps(Analysis):
    """Per position, inside the detector box ``roi`` (default the whole frame): the 2theta
    centroid ``centroid_x`` (column index) and chi centroid ``centroid_y`` (row index) of the
    column and row projections, in detector pixels, and ``roi_sum`` (counts), by sxdm's method:
    optional ``pixel_threshold`` (pixels below count as 0), profile ``filter`` ('none',
    'selective' (sxdm's selective median, half window ``filter_distance``, ``filter_height``
    counts, ``filter_with_low``) or 'median' (scipy.signal.medfilt, kernel ``filter_distance``)),
    then ``segmentation`` 'sxdm' (std < ``stdev_min``: no signal, NaN; else values <= mean
    zeroed), 'threshold' (values <= ``profile_threshold`` zeroed) or 'none'; NaN where nothing is
    left. With ``poni`` (a .poni path or :class:`PoniGeometry`) also ``two_theta`` and ``chi`` in
    degrees (pyFAI's angles at the centroid pixel)."""

    name = "sxdm_centroid"

    def __init__(self, roi: Box | None = None, pixel_threshold: float | None = None, filter: str = "none",
                 filter_distance: int = 9, filter_height: float = 100.0, filter_with_low: bool = True,
                 segmentation: str = "sxdm", stdev_min: float = 35.0, profile_threshold: float = 0.0,
                 poni: Any = None):
        self.options = dict(roi=_box(roi), pixel_threshold=None if pixel_threshold is None else float(pixel_threshold),
                            filter=str(filter), filter_distance=int(filter_distance),
                            filter_height=float(filter_height), filter_with_low=bool(filter_with_low),
                            segmentation=str(segmentation), stdev_min=float(stdev_min),
                            profile_threshold=float(profile_threshold))
        self.geometry = _geometry(poni)

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        return [_core.CentroidMaps(**self.options, geometry=self.geometry)]


class RoiMaps(Analysis):
    """The summed intensity (counts, float64 (ry, rx)) inside each detector box at every
    position, all boxes in one sweep of each frame; results named ``roi_0``, ``roi_1``, ... or
    ``names``."""

    name = "sxdm_roi"

    def __init__(self, boxes: Sequence[Box], names: Sequence[str] | None = None):
        self.boxes = [_box(b) for b in boxes]
        self.names = None if names is None else [str(n) for n in names]

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        return [_core.RoiMaps(self.boxes, self.names)]


def hot_pixel_stage(half_window: int = 1, height: float = 100.0, with_low: bool = False) -> _core.FrameStage:
    """sxdm's selective median on every frame as a preparation stage (``--hot-pixels D,HEIGHT``):
    pass it in ``stages=[...]`` of :func:`scandiff.run`."""
    return _core.SelectiveMedianFrames(int(half_window), float(height), bool(with_low))


def centroid_maps(dataset: Any, hot_pixels: tuple[int, float] | None = None, hot_pixels_low: bool = False,
                  **options: Any) -> dict[str, Result]:
    """``scandiff sxdm centroid``: :class:`CentroidMaps` in one pass (``hot_pixels=(d, height)``
    repairs every frame first); returns its maps by name."""
    run_opts, opts = _split_run_options(options)
    if hot_pixels is not None:
        run_opts["stages"] = list(run_opts.get("stages", ())) + [hot_pixel_stage(*hot_pixels, with_low=hot_pixels_low)]
    return dict(run(dataset, [CentroidMaps(**opts)], **run_opts))


def roi_maps(dataset: Any, boxes: Sequence[Box], names: Sequence[str] | None = None,
             hot_pixels: tuple[int, float] | None = None, hot_pixels_low: bool = False,
             **run_options: Any) -> dict[str, Result]:
    """``scandiff sxdm roi``: :class:`RoiMaps` in one pass; returns the maps by name."""
    if hot_pixels is not None:
        run_options["stages"] = (list(run_options.get("stages", ()))
                                 + [hot_pixel_stage(*hot_pixels, with_low=hot_pixels_low)])
    return dict(run(dataset, [RoiMaps(boxes, names)], **run_options))


def selective_median(profile: Any, half_window: int = 9, height: float = 100.0, with_low: bool = False
                     ) -> np.ndarray:
    """sxdm's selective median of a 1-D profile (a value more than ``height`` above, or with
    ``with_low`` below, the median of its clipped window [j-d, j+d] becomes that median; walking
    in place as sxdm does). A 2-D image gets the (2d+1)^2-window version (every window reads the
    original image), in its own dtype."""
    a = np.asarray(profile)
    if a.ndim == 2:
        return _core.selective_median_image(a, int(half_window), float(height), bool(with_low))
    return _core.selective_median_profile(a, int(half_window), float(height), bool(with_low))


def medfilt(profile: Any, kernel_size: int = 3) -> np.ndarray:
    """scipy.signal.medfilt of a 1-D profile (odd kernel, zero-padded ends), float64."""
    return _core.median_filter_profile(np.asarray(profile), int(kernel_size))


def rocking_curve(manifest: str | os.PathLike, box: Box | None = None, fov: Box | None = None, threads: int = 0,
                  memory: int | str | None = None, progress: Any = True) -> dict[str, Any]:
    """``scandiff sxdm rocking``: per scan of the frameset, the detector-``box`` sum of its
    background-subtracted, aligned frames over the field of view ``fov`` (a box of scan
    positions (rx0, ry0, rx1, ry1); default all), sorted by theta, with a Gaussian fit. Returns a
    dict: ``scan``, ``theta`` (degrees), ``intensity`` (NaN where a scan covers no FOV position),
    ``positions``, ``fit`` (ok, centre, fwhm, amplitude, offset, rms_residual, message) and
    ``roi_map`` (rows, cols)."""
    callback, close = _progress_callback(progress, "rocking curve")
    try:
        return _core.sxdm_rocking_curve(os.fspath(manifest), _box(box), _box(fov), threads, _memory_text(memory),
                                        callback)
    finally:
        close()


def align(manifest: str | os.PathLike, map: str = "sum", upsample: int = 20, cross_correlation: bool = False,
          write: bool = False, threads: int = 0, memory: int | str | None = None, progress: Any = True
          ) -> list[dict[str, Any]]:
    """``scandiff sxdm align``: each scan's shift (dy, dx, scan steps) relative to the reference
    scan by phase correlation of per-scan maps (``map`` 'sum', 'roi:x0,y0,x1,y1' or
    'mda:CHANNEL'), refined to 1/``upsample`` step; ``write=True`` stores the shifts in the
    manifest (shifts marked manual are kept). One dict per scan: scan, theta, dy, dx, manual,
    peak, reference."""
    callback, close = _progress_callback(progress, "alignment maps")
    try:
        return _core.sxdm_align(os.fspath(manifest), str(map), int(upsample), bool(cross_correlation), bool(write),
                                threads, _memory_text(memory), callback)
    finally:
        close()
