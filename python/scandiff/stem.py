"""4D-STEM analyses: virtual images and diffraction, centre of mass / DPC, origin, probe, bad pixels.

Axis names: detector ``qy`` = row, ``qx`` = column; scan ``ry`` = row, ``rx`` = column. Detector
specs are the CLI's ``SHAPE:NUMBERS`` strings (``point:qy,qx``, ``circle:qy,qx,r``,
``annulus:qy,qx,r_in,r_out``, ``rectangle:qy_min,qy_max,qx_min,qx_max``), a 2D weight mask, or a
:class:`Detector`. Numbers are in ``units`` ('px', 'A^-1' or 'mrad'; the last two need the
dataset's detector calibration in that unit) and, with ``relative_to_origin=True``, relative to
the mean diffraction origin. Definitions: docs/virtual-imaging.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

import numpy as np

from . import _core
from .dataset import Dataset, open as _open
from .engine import Analysis, run
from .results import Result

DetectorLike = Union[str, np.ndarray, _core.Detector]


def point(qy: float, qx: float) -> str:
    """The detector spec of one pixel (trunc(qy), trunc(qx))."""
    return f"point:{float(qy)!r},{float(qx)!r}"


def circle(qy: float, qx: float, radius: float) -> str:
    """A disk d < radius about (qy, qx) (strict)."""
    return f"circle:{float(qy)!r},{float(qx)!r},{float(radius)!r}"


def annulus(qy: float, qx: float, r_in: float, r_out: float) -> str:
    """An annulus r_in < d < r_out about (qy, qx) (both strict)."""
    return f"annulus:{float(qy)!r},{float(qx)!r},{float(r_in)!r},{float(r_out)!r}"


def rectangle(qy_min: float, qy_max: float, qx_min: float, qx_max: float) -> str:
    """Rows round(qy_min)..round(qy_max)-1 and columns round(qx_min)..round(qx_max)-1."""
    return f"rectangle:{float(qy_min)!r},{float(qy_max)!r},{float(qx_min)!r},{float(qx_max)!r}"


def detector(ds: Dataset | _core.DatasetInfo, spec: DetectorLike, units: str = "pixels",
             relative_to_origin: bool = False) -> _core.Detector:
    """The pixel :class:`Detector` of a spec for the frames and calibration of a dataset (or of
    the DatasetInfo an analysis sees after preparation stages)."""
    if isinstance(spec, _core.Detector):
        return spec
    if isinstance(spec, str):
        info = ds if isinstance(ds, _core.DatasetInfo) else ds._core.info
        return _core.Detector.resolve(info, spec, units, relative_to_origin)
    mask = np.asarray(spec)
    if mask.ndim != 2:
        raise TypeError("detector: expected a spec string, a 2D (qy, qx) weight mask or a Detector")
    return _core.Detector.from_mask(mask)


class VirtualImages(Analysis):
    """Virtual images for many detectors in one sweep over each frame:
    ``VI_d[ry, rx] = sum_q frame[ry, rx, q] * w_d[q]`` (float64, (ry, rx), units 'counts' for
    counting data). ``detectors`` maps result names to specs. ``shift_center``: 'none',
    'integer' or 'subpixel' (detectors follow the per-position origin of the calibration)."""

    def __init__(self, detectors: Mapping[str, DetectorLike], units: str = "pixels", relative_to_origin: bool = False,
                 shift_center: str = "none"):
        if not detectors:
            raise ValueError("VirtualImages: give at least one detector")
        self.detectors, self.units, self.relative = dict(detectors), units, relative_to_origin
        self.shift_center = shift_center

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        named = [(n, detector(info, d, self.units, self.relative)) for n, d in self.detectors.items()]
        return [_core.VirtualImages(named, self.shift_center)]


class VirtualImage(VirtualImages):
    """One virtual image (see :class:`VirtualImages`), result named ``name``."""

    def __init__(self, detector: DetectorLike, name: str = "virtual_image", **options: Any):
        super().__init__({name: detector}, **options)
        self.name = name


class CenterOfMass(Analysis):
    """Centre of mass of every pattern in detector pixels: ``com_x`` along qx (column), ``com_y``
    along qy (row), float64 (ry, rx); NaN where the weighted sum is 0. ``mask``: a detector spec
    used as weights. ``relative_to_origin``: subtract the calibrated origin at each position.
    (py4DSTEM's com_x is our com_y.)"""

    def __init__(self, mask: DetectorLike | None = None, relative_to_origin: bool = False, units: str = "pixels"):
        self.mask, self.relative, self.units = mask, relative_to_origin, units

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        mask = None if self.mask is None else detector(info, self.mask, self.units, self.relative)
        return [_core.CenterOfMass(mask, self.relative)]


class VirtualDiffraction(Analysis):
    """Mean and/or max diffraction pattern (float64 (qy, qx)) over all positions, a selection
    (``select``: (ry, rx) array, non-zero selects) or ``weights`` ((ry, rx) floats: weighted mean
    sum w*DP / sum w, max of w*DP). ``shift_center`` moves each pattern's origin onto the mean
    origin first ('integer' roll or 'subpixel' Fourier shift)."""

    def __init__(self, mean: bool = True, max: bool = True, select: Any = None, weights: Any = None,
                 shift_center: str = "none"):
        self.mean, self.max, self.select, self.weights, self.shift_center = mean, max, select, weights, shift_center

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        return [_core.VirtualDiffraction(self.mean, self.max, self.select, self.weights, self.shift_center)]


class Origin(Analysis):
    """The diffraction origin at every position, float64 (ry, rx) maps ``origin_qy``, ``origin_qx``
    in detector pixels. method 'com': py4DSTEM's get_origin (blur with sigma = ``radius_px``,
    argmax, centre of mass within ``rscale`` * radius); 'friedel': the autoconvolution peak."""

    def __init__(self, radius_px: float | None = None, method: str = "com", rscale: float = 1.2):
        if method not in ("com", "friedel"):
            raise ValueError(f"method {method!r}: expected 'com' or 'friedel'")
        if method == "com" and radius_px is None:
            raise ValueError("Origin(method='com') needs radius_px (calibrate_origin measures it)")
        self.radius_px, self.method, self.rscale = radius_px, method, rscale

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        if self.method == "friedel":
            return [_core.OriginFriedel()]
        return [_core.OriginMeasurement(float(self.radius_px), self.rscale)]


# -- one-call functions (the CLI's capabilities) --------------------------------------------

def virtual_image(dataset: Any, detector: DetectorLike, **options: Any) -> Result:
    """One virtual image (float64 (ry, rx)); options of :class:`VirtualImages` and :func:`run`."""
    run_opts, det_opts = _split_run_options(options)
    return run(dataset, [VirtualImage(detector, "virtual_image", **det_opts)], **run_opts)["virtual_image"]


def virtual_images(dataset: Any, detectors: Mapping[str, DetectorLike], **options: Any) -> dict[str, Result]:
    """Virtual images of all ``detectors`` (name -> spec) in one pass."""
    run_opts, det_opts = _split_run_options(options)
    return dict(run(dataset, [VirtualImages(detectors, **det_opts)], **run_opts))


def virtual_diffraction(dataset: Any, **options: Any) -> dict[str, Result]:
    """``mean_diffraction`` and ``max_diffraction`` (float64 (qy, qx)); see :class:`VirtualDiffraction`."""
    run_opts, vd_opts = _split_run_options(options)
    return dict(run(dataset, [VirtualDiffraction(**vd_opts)], **run_opts))


def median_diffraction(dataset: Any, select: Any = None, weights: Any = None, shift_center: str = "none",
                       threads: int = 0, memory: int | str | None = None, progress: Any = True) -> Result:
    """The exact median diffraction pattern (float64 (qy, qx)) over all, ``select``-ed or
    ``weights``-multiplied positions (``virtual --diffraction median``). It needs every value of a
    pixel at once, so it takes as many passes as detector tiles of half the ``memory`` budget
    (progress counts the frames of all passes). ``shift_center``: 'none' or 'integer'."""
    from .engine import _memory_text, _progress_callback
    callback, close = _progress_callback(progress, "median")
    try:
        r = _core.median_diffraction(_open(dataset)._core, select, weights, shift_center, threads,
                                     _memory_text(memory), callback)
    finally:
        close()
    return Result._from_core(r)


def center_of_mass(dataset: Any, **options: Any) -> dict[str, Result]:
    """``com_x`` (along qx) and ``com_y`` (along qy), detector pixels; see :class:`CenterOfMass`."""
    run_opts, com_opts = _split_run_options(options)
    return dict(run(dataset, [CenterOfMass(**com_opts)], **run_opts))


def dpc(dataset: Any, com: Mapping[str, Any] | None = None, background: str = "plane",
        rotation_deg: float | None = None, flip: bool | None = None, **options: Any) -> dict[str, Any]:
    """Differential phase contrast: the CoM (computed unless ``com`` gives com_x/com_y) with its
    background removed ('plane', 'mean', 'none'), calibrated (A^-1 when the detector is), rotated
    into scan axes (the scan rotation and flip are found by curl minimisation unless given), and
    the integrated iDPC phase (radians when calibrated). Returns ``dpc_com_x``, ``dpc_com_y``,
    ``idpc_phase`` results and ``rotation_deg``, ``flip``, ``mean_abs_curl``."""
    ds = _open(dataset)
    if com is None:
        run_opts, com_opts = _split_run_options(options)
        com = center_of_mass(ds, **com_opts, **run_opts)
    rot = None if rotation_deg is None else np.deg2rad(rotation_deg)
    r = _core.dpc(np.asarray(com["com_x"]), np.asarray(com["com_y"]), ds.calibration, background, rot, flip)
    out: dict[str, Any] = {x.name: Result._from_core(x) for x in r.results(ds._core.info)}
    out.update(rotation_deg=float(np.rad2deg(r.rotation_rad)), flip=r.flip, mean_abs_curl=r.curl,
               rotation_searched=r.rotation_searched)
    return out


def find_bad_pixels(dataset: Any, window: int = 2, hot_threshold: float = 8.0, dead_threshold: float = 5.0,
                    counting: bool = True, **run_options: Any) -> list[dict[str, Any]]:
    """Hot and dead pixels from the mean and max patterns (one pass): a list of
    {'qy', 'qx', 'kind': 'hot'|'dead', 'score' (sigmas)}. Rule: include/scandiff/stem/bad_pixels.hpp."""
    ds = _open(dataset)
    vd = virtual_diffraction(ds, **run_options)
    frames = ds.shape[0] * ds.shape[1]
    return _core.find_bad_pixels(vd["mean_diffraction"].data, vd["max_diffraction"].data, window, hot_threshold,
                                 dead_threshold, frames, counting)


def calibrate_probe(dataset: Any, pattern: str = "mean", frame: int | None = None, repair_bad_pixels: bool = False,
                    **run_options: Any) -> dict[str, Any]:
    """Radius and centre of the central disk (py4DSTEM's get_probe_size), in pixels, measured on
    the scan's ``pattern`` ('mean' or 'max'), or on frame index ``frame`` (ry * scan_x + rx)."""
    ds = _open(dataset)
    if pattern not in ("mean", "max"):
        raise ValueError(f"pattern {pattern!r}: expected 'mean' or 'max'")
    frames = ds.shape[0] * ds.shape[1]
    if frame is not None:
        if not 0 <= frame < frames:
            raise ValueError(f"frame {frame}: the dataset has frames 0..{frames - 1}")
        image, used, count = ds.frames(frame, 1)[0], f"frame {frame}", 1
    else:
        image = virtual_diffraction(ds, **run_options)[f"{pattern}_diffraction"].data
        used, count = f"{pattern} pattern", frames
    bad: list[dict[str, Any]] = []
    if repair_bad_pixels:
        bad = _core.find_bad_pixels(image, None, frames=count)
        image = _core.repair_pixels(image, [(b["qy"], b["qx"]) for b in bad])
    out = _core.measure_probe_size(image)
    out.update(image=used, bad_pixels_repaired=len(bad))
    return out


@dataclass
class OriginCalibration:
    """What :func:`calibrate_origin` found: measured and fitted origin maps (float64 (ry, rx),
    detector pixels), the fit, and ``calibration``: the dataset's calibration with the fitted
    per-position origin (``dataset.with_calibration(result.calibration)`` uses it)."""

    measured_qy: Result
    measured_qx: Result
    fit: _core.OriginFit
    calibration: _core.Calibration
    radius_px: float | None
    bad_pixels: list[tuple[int, int]] = field(default_factory=list)


def calibrate_origin(dataset: Any, method: str = "com", fit: str = "plane", radius_px: float | None = None,
                     rscale: float = 1.2, robust: bool = True, outlier_threshold: float = 4.0,
                     repair_bad_pixels: bool = False, **run_options: Any) -> OriginCalibration:
    """The origin at every position and a robust surface fit ('constant', 'plane', 'parabola',
    'bezier') of it: the steps of ``scandiff calibrate origin`` (the radius, when not given, is
    measured on the max pattern in an extra pass; ``repair_bad_pixels`` finds hot/dead pixels in
    that pass and repairs them in every frame before measuring)."""
    ds = _open(dataset)
    bad: list[tuple[int, int]] = []
    if (radius_px is None and method == "com") or repair_bad_pixels:
        vd = virtual_diffraction(ds, **run_options)
        mean, mx = vd["mean_diffraction"].data, vd["max_diffraction"].data
        if repair_bad_pixels:
            frames = ds.shape[0] * ds.shape[1]
            bad = [(b["qy"], b["qx"]) for b in _core.find_bad_pixels(mean, mx, frames=frames)]
        if radius_px is None and method == "com":
            radius_px = _core.measure_probe_size(_core.repair_pixels(mx, bad) if bad else mx)["radius_px"]
    stages = [_core.RepairPixels(bad)] if bad else []
    measured = run(ds, [Origin(radius_px, method, rscale)], stages=stages, **run_options)
    qy, qx = measured["origin_qy"], measured["origin_qx"]
    f = _core.fit_origin(qy.data, qx.data, fit, robust, outlier_threshold)
    return OriginCalibration(qy, qx, f, _core.with_origin_fit(ds.calibration, f),
                             None if method == "friedel" else radius_px, bad)


_RUN_OPTIONS = ("threads", "memory", "progress", "block_frames", "stages", "label")


def _split_run_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    run_opts = {k: v for k, v in options.items() if k in _RUN_OPTIONS}
    return run_opts, {k: v for k, v in options.items() if k not in _RUN_OPTIONS}
