"""Polar (elliptical) transform, fluctuation electron microscopy statistics and the ring
calibrations of ``scandiff polar``, ``calibrate ellipse`` and ``calibrate pixel-size``.

Radii are in detector pixels about the origin (qy = row, qx = column); angles phi from +qx toward
+qy; an ellipse is (a_px, b_px, theta_rad) with a >= b and theta the angle of the a-axis from +qx
toward +qy. Formulas: docs/polar.md and include/scandiff/stem/polar_statistics.hpp.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _core
from .dataset import Dataset, from_numpy, make_calibration, open as _open
from .engine import Analysis, run
from .results import Result
from .stem import _split_run_options, virtual_diffraction

Ellipse = tuple  # (a_px, b_px, theta_rad)


class Polar(Analysis):
    """The polar transform of every pattern about its origin (the calibration's per-position or
    global origin, else the frame centre with a warning), reduced in the same pass to

    - ``azimuthal_mean``, ``azimuthal_var``: float64 (ry, rx, q), the mean over phi and the
      (not normalised) variance over phi of each pattern's polar image;
    - ``radial_mean``, ``radial_var``, ``radial_var_norm`` (the FEM V(k) across positions),
      ``local_var_norm`` (mean of azimuthal_var / azimuthal_mean^2): float64 (q).

    Radial bins r_j = qmin_px + j * qstep_px (pixels) up to qmax_px (default min(frame)/sqrt 2);
    ``n_annular`` phi bins over 360 degrees (180 with ``two_fold``). ``ellipse``: None uses the
    calibration's, False none, or (a_px, b_px, theta_rad). ``mask``: (qy, qx), non-zero excluded.
    """

    name = "polar_statistics"

    def __init__(self, qmin_px: float = 0.0, qmax_px: float | None = None, qstep_px: float = 1.0,
                 n_annular: int = 180, two_fold: bool = False, angular_smoothing: bool = True,
                 mask_threshold: float = 0.1, ellipse: Any = None, mask: Any = None):
        self.options = dict(qmin_px=float(qmin_px), qmax_px=None if qmax_px is None else float(qmax_px),
                            qstep_px=float(qstep_px), n_annular=int(n_annular), two_fold=bool(two_fold),
                            angular_smoothing=bool(angular_smoothing), mask_threshold=float(mask_threshold))
        self.ellipse, self.mask = ellipse, mask

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        use = self.ellipse is not False
        given = None if self.ellipse in (None, False) else tuple(float(v) for v in self.ellipse)
        return [_core.PolarStatistics(**self.options, use_ellipse=use, ellipse=given, mask=self.mask)]


def polar(dataset: Any, **options: Any) -> dict[str, Result]:
    """``scandiff polar``: :class:`Polar` in one pass; returns its six results (see there)."""
    run_opts, polar_opts = _split_run_options(options)
    return dict(run(dataset, [Polar(**polar_opts)], **run_opts))


def polar_transform(image: Any, origin: tuple[float, float], ellipse: Any = None, mask: Any = None,
                    **options: Any) -> np.ndarray:
    """The polar image (n_annular, n_radial) float64 of one (qy, qx) pattern about ``origin`` =
    (qy, qx) pixels: row k is phi = k * 2pi/n_annular from +qx toward +qy, column j the radius
    qmin_px + j * qstep_px; NaN where unsampled. Options as :class:`Polar`."""
    e = None if ellipse is None else tuple(float(v) for v in ellipse)
    return _core.polar_transform(np.asarray(image), float(origin[0]), float(origin[1]), e, mask=mask, **options)


def radial_background(image: Any, origin: tuple[float, float], ellipse: Any = None, subtract: bool = False,
                      sigma: float = 2.0, **options: Any) -> np.ndarray:
    """py4DSTEM's radial background of one (qy, qx) pattern about ``origin`` = (qy, qx) pixels
    (DataCube.get_radial_bkgrnd; ``peaks --radial-background``), float64 (qy, qx): the median over
    angle of the polar transform per radial bin, smoothed along the radius (``sigma`` bins),
    linearly interpolated at each pixel's elliptical radius. ``subtract=True`` returns the pattern
    minus it with negatives set to 0 (get_radial_bksb_dp). ``ellipse`` (a_px, b_px, theta_rad),
    theta from +qx toward +qy; polar options as :class:`Polar`
    (include/scandiff/stem/radial_background.hpp)."""
    e = None if ellipse is None else tuple(float(v) for v in ellipse)
    return _core.radial_background(np.asarray(image), float(origin[0]), float(origin[1]), e, sigma=float(sigma),
                                   subtract=bool(subtract), **options)


def detector_mask(dataset: Any = None, mask: Any = None, below: float | None = None, above: float | None = None
                  ) -> np.ndarray | None:
    """The detector mask of ``polar`` / ``calibrate ellipse`` / ``pixel-size`` (``--mask``,
    ``--mask-below``, ``--mask-above``): uint8 (qy, qx), 1 = excluded; ``mask`` a mask image file
    (non-zero = masked) or array, OR-ed with the thresholds tested on frame 0 of ``dataset`` (e.g.
    ``below=-0.5`` for Pilatus gaps). None when nothing is masked."""
    out = None
    if mask is not None:
        out = (_core.read_mask(os.fspath(mask)) if isinstance(mask, (str, os.PathLike))
               else (np.asarray(mask) != 0).astype(np.uint8))
    if below is not None or above is not None:
        t = _core.threshold_mask(_open(dataset).frames(0, 1)[0], below, above)
        out = t if out is None else (out | t)
    return out


def _initial_center(ds: Dataset, cal: _core.Calibration, center: Any) -> tuple[float, float]:
    if center is not None:
        return float(center[0]), float(center[1])
    if cal.origin_qy_px is not None and cal.origin_qx_px is not None:
        return cal.origin_qy_px, cal.origin_qx_px
    qy, qx = ds.frame_shape
    return (qy - 1) / 2, (qx - 1) / 2


def calibrate_ellipse(dataset: Any, annulus: tuple[float, float], center: tuple[float, float] | None = None,
                      mask: Any = None, **run_options: Any) -> dict[str, Any]:
    """``scandiff calibrate ellipse``: the elliptical distortion and centre fitted to the one ring
    between ``annulus`` = (r_inner, r_outer) pixels of the mean pattern (one pass), started from
    ``center`` (qy, qx) (default: the calibrated origin, else the frame centre). Returns
    {'ellipse': (a_px, b_px, theta_rad), 'center_qy_px', 'center_qx_px', 'rms_radial_px', 'pixels',
    'iterations', 'implicit_ABC', 'mean_diffraction': Result, 'calibration': the dataset's with
    this ellipse and global origin}."""
    ds = _open(dataset)
    cal = ds.calibration
    cy, cx = _initial_center(ds, cal, center)
    mean = virtual_diffraction(ds, max=False, **run_options)["mean_diffraction"]
    fit = _core.fit_ellipse_ring(mean.data, cy, cx, float(annulus[0]), float(annulus[1]), mask=mask)
    fit["calibration"] = make_calibration(cal, ellipse=fit["ellipse"], origin_qy_px=fit["center_qy_px"],
                                          origin_qx_px=fit["center_qx_px"], origin_qy_map=None, origin_qx_map=None)
    fit["mean_diffraction"] = mean
    return fit


def calibrate_pixel_size(dataset: Any, calibrant: str | os.PathLike | list[float], annulus: Any = None,
                         ellipse: Any = None, guess: float | None = None, tolerance: float = 0.015,
                         r_min: float = 5.0, min_height: float = 0.05, mask: Any = None,
                         **run_options: Any) -> dict[str, Any]:
    """``scandiff calibrate pixel-size``: the reciprocal pixel size (1/A of q = 1/d per pixel)
    from the rings of ``calibrant`` (.D file or d-spacings in A) in the ellipse-corrected
    azimuthal mean profile of the mean pattern. The ellipse: fitted first on ``annulus`` (r_in,
    r_out), else ``ellipse`` (a_px, b_px, theta_rad), else the calibration's. Returns
    {'inv_A_per_px', 'matches', 'rms_relative', 'peaks', 'profile' (r_px, azimuthal mean),
    'calibration' (with pixel size in A^-1, ellipse and origin)}."""
    ds = _open(dataset)
    d = _core.read_calibrant(os.fspath(calibrant))[1] if isinstance(calibrant, (str, os.PathLike)) else list(calibrant)
    cal = ds.calibration
    if ellipse is not None:
        cal.ellipse = tuple(float(v) for v in ellipse)
    cy, cx = _initial_center(ds, cal, None)
    mean = virtual_diffraction(ds, max=False, **run_options)["mean_diffraction"].data
    if annulus is not None:
        fit = _core.fit_ellipse_ring(mean, cy, cx, float(annulus[0]), float(annulus[1]), mask=mask)
        cal.ellipse, cy, cx = fit["ellipse"], fit["center_qy_px"], fit["center_qx_px"]
    cal = make_calibration(cal, origin_qy_px=cy, origin_qx_px=cx, origin_qy_map=None, origin_qx_map=None)
    pixels = make_calibration(cal, detector_pixel_size=1.0, detector_units="pixels")
    one = from_numpy(mean.reshape(1, 1, *mean.shape), calibration=pixels)
    grid = Polar(mask=mask)  # 1-pixel radial bins from 0
    profile = run(one, [grid], progress=False)["radial_mean"]
    r0, step = grid.options["qmin_px"], grid.options["qstep_px"]
    peaks = _core.find_ring_peaks(profile.data, r0, step, r_min, min_height)
    out = _core.fit_pixel_size(peaks, [float(x) for x in d], tolerance, guess)
    out["peaks"] = peaks
    out["profile"] = (r0 + step * np.arange(profile.data.size), profile.data)
    out["calibration"] = make_calibration(cal, detector_pixel_size=out["inv_A_per_px"], detector_units="A^-1")
    return out


def read_calibrant(path: str | os.PathLike) -> tuple[str, list[float]]:
    """(name, d-spacings in A, decreasing) of a pyFAI/Dioptas .D calibrant file."""
    return _core.read_calibrant(os.fspath(path))
