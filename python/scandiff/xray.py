"""Azimuthal integration of area-detector images (``scandiff integrate``), pyFAI's semantics.

:class:`AzimuthalIntegrator` integrates numpy images in 1D (``integrate1d``) or 2D
(``integrate2d``, a "cake") with pyFAI's keyword names; :class:`AzimuthalProfiles` integrates
every frame of a scan inside :func:`scandiff.run`. Geometry: a pyFAI ``.poni`` file
(:func:`load_poni`) or an electron geometry (:func:`electron_geometry`).

Units: radial bins in ``unit`` ('q_nm^-1' (default), 'q_A^-1', '2th_deg', '2th_rad', 'r_mm',
'r_m'); azimuth chi in degrees in [-180, 180]; image axes (rows, cols) = (qy, qx) as stored.
Formulas and conventions: docs/azimuthal-integration.md.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from . import _core
from .dataset import Dataset, open as _open
from .engine import Analysis, run
from .results import Result

PoniGeometry = _core.PoniGeometry

_SUPPORTED = {"uint8", "uint16", "uint32", "int32", "float32", "float64"}


def _image(a: Any) -> np.ndarray:
    """A 2D array in a dtype the library reads in place (others converted to float64)."""
    a = np.asarray(a)
    if a.dtype.name not in _SUPPORTED:
        a = a.astype(np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected one 2D (rows, cols) image, got shape {a.shape}")
    return a


def load_poni(path: str | os.PathLike) -> PoniGeometry:
    """A pyFAI geometry file (.poni v1, v2, v2.1): distance, PONI (m), rotations (rad),
    wavelength (m), pixel sizes (m), orientation."""
    return _core.read_poni(os.fspath(path))


def write_poni(path: str | os.PathLike, geometry: PoniGeometry) -> Path:
    """Writes ``geometry`` as a .poni v2.1 file (atomically)."""
    _core.write_poni(os.fspath(path), geometry)
    return Path(path)


def electron_geometry(wavelength_A: float, center: tuple[float, float], pixel_size_m: float | None = None,
                      camera_length_m: float | None = None, k_per_pixel: float | None = None) -> PoniGeometry:
    """The geometry of an electron pattern on a detector perpendicular to the beam (``integrate
    --wavelength-A --center --pixel-size --camera-length`` or ``--k-per-pixel``): ``center`` =
    (row, col) pixel indices of the pattern centre; ``k_per_pixel`` in 1/A (k = 1/d) per pixel
    replaces pixel size and camera length."""
    row, col = center[0] + 0.5, center[1] + 0.5  # pyFAI puts a pixel's centre at index + 0.5
    if k_per_pixel is not None:
        if pixel_size_m is not None or camera_length_m is not None:
            raise ValueError("electron geometry: k_per_pixel replaces pixel_size_m and camera_length_m")
        return _core.electron_geometry_reciprocal(k_per_pixel, wavelength_A * 1e-10, row, col)
    if pixel_size_m is None or camera_length_m is None:
        raise ValueError("electron geometry: give pixel_size_m and camera_length_m, or k_per_pixel")
    return _core.electron_geometry(pixel_size_m, camera_length_m, wavelength_A * 1e-10, row, col)


def _flipped_ud(orientation: int) -> int:
    """The orientation of the same detector with its rows flipped (Dioptas geometry files)."""
    return {3: 2, 2: 3, 1: 4, 4: 1}[orientation]


def _splitting(method: Any) -> str:
    """pyFAI method names -> our pixel splitting: 'no', 'bbox' (pyFAI's default, 'csr') or 'full'."""
    if isinstance(method, (tuple, list)):
        method = method[0]
    m = str(method).lower()
    names = {"no": "no", "nosplit": "no", "nosplit_csr": "no", "bbox": "bbox", "csr": "bbox", "bbox_csr": "bbox",
             "splitbbox": "bbox", "full": "full", "splitpixel": "full", "full_csr": "full"}
    if m not in names:
        raise ValueError(f"method {method!r}: expected 'no', 'bbox' or 'full' (pixel splitting)")
    return names[m]


class IntegrationResult(tuple):
    """What :meth:`AzimuthalIntegrator.integrate1d` / ``integrate2d`` return. Unpacks as pyFAI's
    results: 1D ``radial, intensity`` (+ ``sigma`` with an error model), 2D ``intensity, radial,
    azimuthal``. float64 arrays: ``intensity`` (npt,) or (npt_azim, npt) (chi rows, radial
    columns), ``radial`` bin centres in ``unit``, ``azimuthal`` chi bin centres in degrees,
    ``sigma`` (None without an error model), ``std`` (sigma clipping only: the per-bin standard
    deviation), and the per-bin sums ``sum_signal``, ``sum_normalization``, ``count``. ``save(path)`` writes pyFAI-style text as the CLI does."""

    def __new__(cls, core: _core.IntegrationResult, header: dict[str, Any]):
        radial, intensity, sigma = core.radial, core.intensity, core.sigma
        if core.azimuthal is not None:
            items: tuple = (intensity, radial, core.azimuthal)
        else:
            items = (radial, intensity) if sigma is None else (radial, intensity, sigma)
        self = super().__new__(cls, items)
        self._core, self._header = core, header
        self.radial, self.intensity, self.sigma, self.azimuthal = radial, intensity, sigma, core.azimuthal
        self.sum_signal, self.sum_normalization, self.count = core.sum_signal, core.sum_normalization, core.count
        self.std = core.std  # sigma clipping only
        self.unit = header["unit"]
        return self

    @property
    def provenance(self) -> dict[str, Any]:
        """The geometry (.poni text) and every option that produced this result."""
        h = dict(self._header)
        h["poni"] = _core.format_poni(h["poni"])
        return {"analysis": "azimuthal_integration", **h}

    def results(self) -> dict[str, Result]:
        """intensity, count (and sigma, std) as :class:`Result` s with their axes, as ``integrate --format h5``."""
        rad = self.radial
        step = float(rad[1] - rad[0]) if len(rad) > 1 else 1.0
        axes = [{"name": self.unit, "origin": float(rad[0]), "step": step, "units": self.unit}]
        if self.azimuthal is not None:
            chi = self.azimuthal
            axes.insert(0, {"name": "chi", "origin": float(chi[0]),
                            "step": float(chi[1] - chi[0]) if len(chi) > 1 else 1.0, "units": "deg"})
        out = {}
        for name in ("intensity", "count", "sigma", "std"):
            values = getattr(self, name)
            if values is not None:
                out[name] = Result(name, values, axes, "counts", self.provenance)
        return out

    def save(self, path: str | os.PathLike, source: str = "") -> Path:
        """pyFAI-style text: 1D .xy (radial, I[, sigma]), 2D .dat (one row per radial bin); the
        same bytes as ``scandiff integrate`` writes (``source`` = the image path in the header)."""
        h = self._header
        _core.write_pattern(os.fspath(path), self._core, h["poni"], h["unit"], h["method"], h["mask"], h["dark"],
                            h["flat"], h["polarization_factor"], h["normalization_factor"], h["error_model"],
                            h["filter"], source)
        return Path(path)


class AzimuthalIntegrator:
    """Azimuthal integration with pyFAI's semantics and keyword names.

    ``AzimuthalIntegrator(geometry)`` takes a :class:`PoniGeometry` or a .poni path;
    ``flip_ud=True`` for images flipped up-down relative to it (Dioptas geometry files),
    ``orientation=`` overrides the detector orientation (1..4). The sparse pixel -> bin matrix
    of each (image shape, setup) is built once and reused, as pyFAI's CSR engine does.
    """

    def __init__(self, geometry: PoniGeometry | str | os.PathLike, flip_ud: bool = False,
                 orientation: int | None = None):
        g = load_poni(geometry) if isinstance(geometry, (str, os.PathLike)) else geometry
        g = _core.parse_poni(_core.format_poni(g))  # our own copy
        if orientation is not None:
            g.orientation = int(orientation)
        if flip_ud:
            g.orientation = _flipped_ud(g.orientation)
        self.geometry = g
        self._cache: OrderedDict[tuple, tuple[_core.AzimuthalIntegrator, Any, Any]] = OrderedDict()

    def __repr__(self) -> str:
        return f"AzimuthalIntegrator({self.geometry!r})"

    def engine(self, shape: tuple[int, int], npt: int = 1000, npt_azim: int = 0, unit: str = "q_nm^-1",
               method: Any = "bbox", radial_range=None, azimuth_range=None, correct_solid_angle: bool = True,
               polarization_factor: float | None = None, normalization_factor: float = 1.0, mask=None,
               flat=None) -> _core.AzimuthalIntegrator:
        """The library's integrator (the matrix) for images of ``shape`` and this setup (cached)."""
        splitting = _splitting(method)
        rr = None if radial_range is None else (float(radial_range[0]), float(radial_range[1]))
        ar = None if azimuth_range is None else (float(azimuth_range[0]), float(azimuth_range[1]))
        key = (tuple(int(n) for n in shape), int(npt), int(npt_azim), unit, splitting, rr, ar,
               bool(correct_solid_angle), polarization_factor, float(normalization_factor), id(mask), id(flat))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit[0]
        m = None if mask is None else np.asarray(mask)
        f = None if flat is None else np.asarray(flat)
        if f is not None and f.dtype.name not in _SUPPORTED:
            f = f.astype(np.float64)
        if m is not None and m.dtype.name not in _SUPPORTED:
            m = (m != 0).astype(np.uint8)
        ai = _core.AzimuthalIntegrator(self.geometry, int(shape[0]), int(shape[1]), unit, int(npt), int(npt_azim),
                                       splitting, rr, ar, bool(correct_solid_angle), polarization_factor, 0.0,
                                       float(normalization_factor), m, f)
        self._cache[key] = (ai, mask, flat)  # the arrays are kept so that their ids stay theirs
        while len(self._cache) > 4:
            self._cache.popitem(last=False)
        return ai

    def _integrate(self, data, npt, npt_azim, filename, correct_solid_angle, error_model, radial_range,
                   azimuth_range, mask, dummy, delta_dummy, polarization_factor, dark, flat, method, unit,
                   normalization_factor, mask_below, mask_above, percentile=None,
                   sigma_clip=None) -> IntegrationResult:
        image = _image(data)
        ai = self.engine(image.shape, npt, npt_azim, unit, method, radial_range, azimuth_range, correct_solid_angle,
                         polarization_factor, normalization_factor, mask, flat)
        em = "none" if error_model in (None, False) else str(error_model)
        d = None if dark is None else _image(dark)
        core = ai.integrate(image, d, dummy, float(delta_dummy or 0.0), mask_below, mask_above, em, 0.0, percentile,
                            sigma_clip)
        filtered = percentile is not None or sigma_clip is not None
        filter_text = _filter_metadata(percentile, sigma_clip)["filter"] if filtered else ""
        header = {"poni": self.geometry, "unit": unit, "method": _splitting(method),
                  "mask": mask is not None or mask_below is not None or mask_above is not None,
                  "dark": dark is not None, "flat": flat is not None, "polarization_factor": polarization_factor,
                  "normalization_factor": float(normalization_factor), "error_model": em, "filter": filter_text}
        result = IntegrationResult(core, header)
        if filename is not None:
            result.save(filename)
        return result

    def integrate1d(self, data, npt: int = 1000, filename=None, correct_solid_angle: bool = True,
                    error_model: str | None = None, radial_range=None, azimuth_range=None, mask=None,
                    dummy: float | None = None, delta_dummy: float | None = None,
                    polarization_factor: float | None = None, dark=None, flat=None, method: Any = "bbox",
                    unit: str = "q_nm^-1", normalization_factor: float = 1.0, mask_below: float | None = None,
                    mask_above: float | None = None, correctSolidAngle: bool | None = None) -> IntegrationResult:
        """1D pattern of one (rows, cols) image: ``I = sum c*(raw - dark) / sum c*(flat*P*Omega*norm)``
        per radial bin (c = the pixel's fraction in the bin). ``mask`` non-zero = masked;
        ``error_model`` None, 'poisson' or 'azimuthal' adds ``sigma``; ranges in ``unit`` /
        degrees; ``mask_below``/``mask_above`` mark invalid pixels of this image by value;
        ``filename`` writes the .xy text. Returns :class:`IntegrationResult`."""
        if correctSolidAngle is not None:
            correct_solid_angle = correctSolidAngle
        return self._integrate(data, npt, 0, filename, correct_solid_angle, error_model, radial_range, azimuth_range,
                               mask, dummy, delta_dummy, polarization_factor, dark, flat, method, unit,
                               normalization_factor, mask_below, mask_above)

    def integrate2d(self, data, npt_rad: int = 1000, npt_azim: int = 360, filename=None,
                    correct_solid_angle: bool = True, error_model: str | None = None, radial_range=None,
                    azimuth_range=None, mask=None, dummy: float | None = None, delta_dummy: float | None = None,
                    polarization_factor: float | None = None, dark=None, flat=None, method: Any = "bbox",
                    unit: str = "q_nm^-1", normalization_factor: float = 1.0, mask_below: float | None = None,
                    mask_above: float | None = None, correctSolidAngle: bool | None = None) -> IntegrationResult:
        """2D "cake" (npt_azim, npt_rad): chi rows (degrees), radial columns; otherwise as
        :meth:`integrate1d`. Unpacks as pyFAI's: ``intensity, radial, azimuthal``."""
        if correctSolidAngle is not None:
            correct_solid_angle = correctSolidAngle
        if npt_azim < 1:
            raise ValueError("integrate2d: npt_azim must be >= 1")
        return self._integrate(data, npt_rad, npt_azim, filename, correct_solid_angle, error_model, radial_range,
                               azimuth_range, mask, dummy, delta_dummy, polarization_factor, dark, flat, method,
                               unit, normalization_factor, mask_below, mask_above)

    def medfilt1d(self, data, npt: int = 1000, percentile: float | tuple[float, float] = 50, **options: Any
                  ) -> IntegrationResult:
        """Quantile filter along the azimuth instead of the mean (pyFAI's medfilt1d_ng,
        ``integrate --percentile``): ``percentile`` P (50 = weighted median) or (lo, hi) (mean
        between the two quantiles), in percent. Other options as :meth:`integrate1d`."""
        args = dict(filename=None, correct_solid_angle=True, error_model=None, radial_range=None, azimuth_range=None,
                    mask=None, dummy=None, delta_dummy=None, polarization_factor=None, dark=None, flat=None,
                    method="bbox", unit="q_nm^-1", normalization_factor=1.0, mask_below=None, mask_above=None)
        unknown = set(options) - set(args)
        if unknown:
            raise TypeError(f"medfilt1d: unknown options {sorted(unknown)}")
        args.update(options)
        return self._integrate(data, npt, 0, percentile=_percentile(percentile), **args)

    def sigma_clip_ng(self, data, npt: int = 1000, thres: float = 5, max_iter: int = 5,
                      error_model: str = "poisson", method: Any = "no", **options: Any) -> IntegrationResult:
        """Sigma clipping along the azimuth instead of the mean (pyFAI's ``sigma_clip_ng``,
        ``integrate --sigma-clip THRES --max-iter N``): per radial bin, pixels with
        ``|x/omega - mean| > k * std`` are dropped, k = max(thres, Chauvenet's bound), at most
        ``max_iter`` times; ``error_model`` 'poisson', 'azimuthal' or 'hybrid' (clip with the
        azimuthal spread, report Poisson errors). The result adds ``std`` (per-bin standard
        deviation) beside ``sigma`` (standard error of the mean). Other options as
        :meth:`integrate1d`; with pixel splitting a clipped pixel leaves only the bin that
        clipped it (pyFAI drops it from every bin: docs/azimuthal-integration.md)."""
        if error_model in (None, False, "none"):
            raise ValueError("sigma_clip_ng: error_model must be 'poisson', 'azimuthal' or 'hybrid'")
        args = dict(filename=None, correct_solid_angle=True, radial_range=None, azimuth_range=None,
                    mask=None, dummy=None, delta_dummy=None, polarization_factor=None, dark=None, flat=None,
                    unit="q_nm^-1", normalization_factor=1.0, mask_below=None, mask_above=None)
        unknown = set(options) - set(args)
        if unknown:
            raise TypeError(f"sigma_clip_ng: unknown options {sorted(unknown)}")
        args.update(options)
        return self._integrate(data, npt, 0, error_model=error_model, method=method,
                               sigma_clip=(float(thres), int(max_iter)), **args)


def _percentile(p: Any) -> tuple[float, float] | None:
    """A percentile P or (lo, hi), in percent, as the library takes it: (lo, hi); None stays None."""
    if p is None:
        return None
    lo, hi = (p, p) if np.isscalar(p) else tuple(p)
    return float(lo), float(hi)


def _filter_metadata(percentile: tuple[float, float] | None, sigma_clip: tuple[float, int] | None) -> dict[str, Any]:
    """The per-bin filter as the CLI records it: {'filter': header text, parameters}."""
    return dict(_core.filter_metadata(percentile, sigma_clip))


class AzimuthalProfiles(Analysis):
    """A 1D azimuthal profile of every frame of a scan, in one pass (``integrate --scan``):
    ``azimuthal_profiles`` float32 (ry, rx, npt) and ``mean_profile`` float64 (npt), radial
    axis in ``unit``. ``geometry``: a :class:`PoniGeometry`, a .poni path or an
    :class:`AzimuthalIntegrator`; other options as :meth:`AzimuthalIntegrator.integrate1d`
    (``dark``, ``dummy``, ``mask_below``/``mask_above`` apply to every frame).

    Per-frame filter instead of the mean (``integrate --percentile`` / ``--sigma-clip``):
    ``percentile`` P or (lo, hi) in percent (:meth:`AzimuthalIntegrator.medfilt1d`), or
    ``sigma_clip`` = threshold with ``max_iter`` (:meth:`AzimuthalIntegrator.sigma_clip_ng`;
    needs ``error_model`` 'poisson', 'azimuthal' or 'hybrid'). With an error model the results
    add ``sigma_profiles``; with sigma clipping ``std_profiles`` and ``count_profiles``, all
    float32 (ry, rx, npt)."""

    name = "azimuthal_profiles"

    def __init__(self, geometry: Any, npt: int = 1000, unit: str = "q_nm^-1", method: Any = "bbox",
                 radial_range=None, azimuth_range=None, correct_solid_angle: bool = True,
                 polarization_factor: float | None = None, normalization_factor: float = 1.0, mask=None, flat=None,
                 dark=None, dummy: float | None = None, delta_dummy: float | None = None,
                 mask_below: float | None = None, mask_above: float | None = None, error_model: str | None = None,
                 percentile: float | tuple[float, float] | None = None, sigma_clip: float | None = None,
                 max_iter: int = 5):
        self.integrator = geometry if isinstance(geometry, AzimuthalIntegrator) else AzimuthalIntegrator(geometry)
        self.setup = dict(npt=npt, unit=unit, method=method, radial_range=radial_range, azimuth_range=azimuth_range,
                          correct_solid_angle=correct_solid_angle, polarization_factor=polarization_factor,
                          normalization_factor=normalization_factor, mask=mask, flat=flat)
        self.dark, self.dummy, self.delta_dummy = dark, dummy, delta_dummy
        self.mask_below, self.mask_above = mask_below, mask_above
        self.error_model = "none" if error_model in (None, False) else str(error_model)
        self.percentile = _percentile(percentile)
        self.sigma_clip = None if sigma_clip is None else (float(sigma_clip), int(max_iter))

    def filter_metadata(self) -> dict[str, Any]:
        """The filter as the EMD metadata records it (as ``integrate --scan`` does)."""
        return _filter_metadata(self.percentile, self.sigma_clip)

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        shape = info.shape[2:]
        ai = self.integrator.engine(shape, **self.setup)
        dark = None if self.dark is None else _image(self.dark)
        return [_core.AzimuthalProfiles(ai, dark, self.dummy, float(self.delta_dummy or 0.0), self.mask_below,
                                        self.mask_above, self.error_model, self.percentile, self.sigma_clip)]


def integrate_scan(dataset: Any, geometry: Any, out: str | os.PathLike | None = None, **options: Any
                   ) -> dict[str, Result]:
    """``scandiff integrate --scan``: a 1D profile per scan position in one pass
    (:class:`AzimuthalProfiles` options, and the :func:`run` options); with ``out`` also the EMD
    file the CLI writes (root 'azimuthal_integration'). With ``npt_azim`` > 0 (``--npt-azim``)
    every position's 2D cake streams into ``out`` (required): the datacube ``azimuthal_cakes``
    (ry, rx, npt_azim, npt) float32, chi rows in degrees; returns ``mean_cake`` (read back).
    ``percentile`` or ``sigma_clip`` (+ ``max_iter``, an ``error_model``) filter every frame
    as ``integrate --scan --percentile`` / ``--sigma-clip`` (cakes too, intensity only).
    Options of the pass: ``threads``, ``memory``, ``progress``."""
    run_keys = ("threads", "memory", "progress", "block_frames", "stages", "label")
    run_opts = {k: options.pop(k) for k in list(options) if k in run_keys}
    ds = _open(dataset)
    npt_azim = int(options.pop("npt_azim", 0))
    if npt_azim > 0:
        return _integrate_cakes(ds, geometry, npt_azim, out, run_opts, options)
    a = AzimuthalProfiles(geometry, **options)
    results = dict(run(ds, [a], **run_opts))
    if out is not None:
        md = {"poni": _core.format_poni(a.integrator.geometry), "unit": a.setup["unit"],
              "method": _splitting(a.setup["method"]), "error_model": a.error_model, "source": ds.path,
              **a.filter_metadata()}
        _core.write_results_emd(os.fspath(out), "azimuthal_integration", ds.calibration,
                                [r._to_core() for r in results.values()], {"integration": md})
    return results


def _integrate_cakes(ds: Dataset, geometry: Any, npt_azim: int, out: Any, run_opts: dict[str, Any],
                     options: dict[str, Any]) -> dict[str, Result]:
    from .engine import _memory_text, _progress_callback
    from .files import read_result
    if out is None:
        raise ValueError("integrate_scan: npt_azim > 0 streams the cakes into a file: give out=")
    unknown = set(run_opts) - {"threads", "memory", "progress"}
    if unknown:
        raise TypeError(f"integrate_scan with npt_azim: unsupported pass options {sorted(unknown)}")
    a = AzimuthalProfiles(geometry, **options)  # the same options and checks as the 1D pass
    shape = ds.shape[2:]
    ai = a.integrator.engine(shape, **{**a.setup, "npt_azim": npt_azim})
    dark = None if a.dark is None else _image(a.dark)
    md = {"poni": _core.format_poni(a.integrator.geometry), "unit": a.setup["unit"],
          "method": _splitting(a.setup["method"]), "error_model": a.error_model, "source": ds.path,
          **a.filter_metadata()}
    callback, close = _progress_callback(run_opts.get("progress", True), "integrate")
    try:
        _core.write_cakes_emd(ds._core, ai, os.fspath(out), dark, a.dummy, float(a.delta_dummy or 0.0), a.mask_below,
                              a.mask_above, a.error_model, md, a.setup["unit"], int(run_opts.get("threads", 0)),
                              _memory_text(run_opts.get("memory")), callback, a.percentile, a.sigma_clip)
    finally:
        close()
    return {"mean_cake": read_result(out, "azimuthal_integration/mean_cake")}


def calibrate_xray(image: Any, calibrant: str | os.PathLike | list[float], geometry: Any,
                   refine_wavelength: bool = False, passes: int = 3, flip_ud: bool = False,
                   out: str | os.PathLike | None = None) -> dict[str, Any]:
    """``scandiff calibrate xray``: refines a starting ``geometry`` (PoniGeometry or .poni path,
    with the wavelength) on a calibrant image (numpy (rows, cols) or a TIFF/EDF/CBF path): control
    points on the rings of ``calibrant`` (a .D file or d-spacings in A), Levenberg-Marquardt on
    distance, PONI, rot1, rot2 (and the wavelength). Returns {'geometry', 'rms_two_theta_deg',
    'iterations'}; ``out`` writes the refined .poni."""
    g = load_poni(geometry) if isinstance(geometry, (str, os.PathLike)) else _core.parse_poni(_core.format_poni(geometry))
    if flip_ud:
        g.orientation = _flipped_ud(g.orientation)
    if not g.wavelength_m > 0:
        raise ValueError("calibrate_xray: the starting geometry has no wavelength")
    img = read_image(image) if isinstance(image, (str, os.PathLike)) else np.asarray(image)
    d = _core.read_calibrant(os.fspath(calibrant))[1] if isinstance(calibrant, (str, os.PathLike)) else list(calibrant)
    refined, rms, iterations = _core.calibrate_xray(_image(img), g, [float(x) for x in d], refine_wavelength, passes)
    if out is not None:
        write_poni(out, refined)
    return {"geometry": refined, "rms_two_theta_deg": float(np.rad2deg(rms)), "iterations": iterations}


def read_image(path: str | os.PathLike) -> np.ndarray:
    """A detector image file, TIFF / EDF / CBF recognised by content: (rows, cols) in its native
    dtype and row order, or (n, rows, cols) for a multi-frame file."""
    return _core.read_image(os.fspath(path))
