"""Bragg disk detection and strain (``scandiff peaks``, ``scandiff strain``), py4DSTEM's methods.

Peaks are (qx, qy, intensity) with qx the detector column and qy the row, in detector pixels
(pixel centres at integers); py4DSTEM's (qx, qy) are our (qy, qx). Lattice vectors g1, g2 are
(qx, qy). Strain: exx, eyy, exy dimensionless, rotation in radians from +qx toward +qy; positive
strain is real-space tension. Formulas: include/scandiff/stem/{bragg_disks,lattice,strain}.hpp.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from . import _core
from .dataset import Dataset, make_calibration, open as _open
from .engine import Analysis, run
from .results import Result

BraggVectors = _core.BraggVectors
Lattice = _core.Lattice

_DETECTION = ("corr_power", "sigma_dp", "sigma_cc", "subpixel", "upsample_factor", "min_absolute_intensity",
              "min_relative_intensity", "relative_to_peak", "min_peak_spacing", "edge_boundary", "max_num_peaks",
              "radial_background", "radial_qmin_px", "radial_qmax_px", "radial_qstep_px", "radial_n_annular",
              "radial_two_fold", "radial_mask_threshold", "radial_angular_smoothing")


def detection_options(**values: Any) -> _core.DiskDetectionOptions:
    """py4DSTEM's find_Bragg_disks parameters (pixels): corr_power (1 cross-, 0 phase-correlation),
    sigma_dp, sigma_cc, subpixel ('pixel', 'poly', 'multicorr'), upsample_factor,
    min_absolute_intensity, min_relative_intensity, relative_to_peak, min_peak_spacing,
    edge_boundary, max_num_peaks, radial_background (py4DSTEM's radial_bksb, about each pattern's
    calibrated origin, with the calibration's ellipse) and its polar bins radial_qmin_px,
    radial_qmax_px (None: min(frame)/sqrt 2), radial_qstep_px, radial_n_annular, radial_two_fold,
    radial_mask_threshold, radial_angular_smoothing (``peaks --qmin ...``); defaults those of
    ``scandiff peaks``."""
    o = _core.DiskDetectionOptions()
    for key, value in values.items():
        if key not in _DETECTION:
            raise ValueError(f"disk detection: unknown option {key!r}; expected one of {', '.join(_DETECTION)}")
        setattr(o, key, value)
    return o


def vacuum_probe(dataset: Any, region: tuple[int, int, int, int], align: bool = True, threshold: float = 0.2
                 ) -> np.ndarray:
    """The probe template (float64 (qy, qx)): the mean of the vacuum frames ry in [ry0, ry1), rx in
    [rx0, rx1) (``region``), each aligned to the first (``align``), soft-masked at ``threshold`` x
    its maximum (``peaks --probe-region``)."""
    ds = _open(dataset)
    sy, sx = ds.scan_shape
    ry0, ry1, rx0, rx1 = (int(v) for v in region)
    if not (0 <= ry0 < ry1 <= sy and 0 <= rx0 < rx1 <= sx):
        raise ValueError(f"probe region {region}: expected (ry0, ry1, rx0, rx1) with 0 <= ry0 < ry1 <= {sy} and "
                         f"0 <= rx0 < rx1 <= {sx}")
    frames = [y * sx + x for y in range(ry0, ry1) for x in range(rx0, rx1)]
    return _core.vacuum_probe(ds._core, frames, align, True, threshold)


def synthetic_probe(radius_px: float, width_px: float, shape: tuple[int, int]) -> np.ndarray:
    """py4DSTEM's synthetic probe 1/(1 + exp(4(r - radius)/width)) about (ny/2, nx/2), float64."""
    return _core.synthetic_probe(float(radius_px), float(width_px), int(shape[0]), int(shape[1]))


def probe_kernel(probe: Any, kernel: str = "sigmoid", sigma: float = 2.0,
                 radii: tuple[float, float] | None = None) -> tuple[np.ndarray, float]:
    """The correlation kernel of a probe image, as ``peaks`` makes it: centred on the probe's
    centre (py4DSTEM's get_probe_size), ``kernel`` 'flat', 'gaussian' (``sigma`` relative to the
    probe's rms radius), 'sigmoid' (sine squared) or 'logistic' trench between ``radii`` (default
    (R, 2R), R = the probe radius). Returns (kernel float64 (qy, qx), R in pixels)."""
    p = np.asarray(probe, dtype=np.float64)
    size = _core.measure_probe_size(p)
    r = size["radius_px"]
    inner, outer = (r, 2 * r) if radii is None else (float(radii[0]), float(radii[1]))
    k = _core.probe_kernel(p, kernel, float(sigma), inner, outer, size["center_qy_px"], size["center_qx_px"])
    return k, r


def find_bragg_disks(frame: Any, kernel: Any = None, **options: Any) -> np.ndarray:
    """Peaks of ONE (qy, qx) pattern, strongest first: (n, 3) float64 of (qx, qy, intensity).
    ``kernel``: from :func:`probe_kernel`, or None (maxima of the smoothed pattern itself)."""
    return _core.find_bragg_disks(np.asarray(frame), kernel, detection_options(**options))


class BraggDisks(Analysis):
    """Bragg disks of every pattern in one pass (``scandiff peaks``): ``braggvectors`` (a
    :class:`BraggVectors`: raw, detector pixels; ``.at(ry, rx)`` gives an (n, 3) array of (qx, qy,
    intensity), ``.arrays()`` flat arrays and the (ry, rx) counts), ``bragg_vector_map`` float64
    (qy, qx) and ``peak_count`` (ry, rx). ``kernel``: from :func:`probe_kernel`, or None for no
    template; ``options``: :func:`detection_options`."""

    name = "bragg_disks"

    def __init__(self, kernel: Any = None, **options: Any):
        self.kernel = None if kernel is None else np.asarray(kernel, dtype=np.float64)
        self.options = detection_options(**options)

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        return [_core.DiskDetection(self.kernel, self.options)]

    def _collect(self, made: list[_core.Analysis], ds: Dataset) -> dict[str, Any]:
        out = super()._collect(made, ds)
        out["braggvectors"] = made[0].vectors
        return out


def find_peaks(dataset: Any, probe: Any = None, probe_region: tuple[int, int, int, int] | None = None,
               synthetic: tuple[float, float] | None = None, template: bool = True, kernel: str = "sigmoid",
               kernel_sigma: float = 2.0, kernel_radii: tuple[float, float] | None = None, align: bool = True,
               probe_threshold: float = 0.2, bvm_sampling: int = 1, out: str | os.PathLike | None = None,
               **options: Any) -> dict[str, Any]:
    """``scandiff peaks``: the template from ONE of ``probe`` (a (qy, qx) vacuum probe image,
    soft-masked), ``probe_region`` (:func:`vacuum_probe`) or ``synthetic`` = (radius, width)
    pixels; or ``template=False`` (maxima of the patterns themselves). Then :class:`BraggDisks`
    with the detection ``options`` (and the :func:`run` options). Returns the BraggDisks results
    plus ``probe``, ``kernel`` (arrays, None without a template) and ``probe_radius_px``; with
    ``out`` also the CLI's EMD file (root 'peaks': braggvectors, which py4DSTEM reads,
    bragg_vector_map, peak_count, probe, kernel)."""
    run_keys = ("threads", "memory", "progress", "block_frames", "label")
    run_opts = {k: options.pop(k) for k in list(options) if k in run_keys}
    ds = _open(dataset)
    given = sum(x is not None for x in (probe, probe_region, synthetic))
    p = k = None
    radius = 0.0
    if template:
        if given != 1:
            raise ValueError("find_peaks: give exactly one of probe, probe_region, synthetic (or template=False)")
        if probe_region is not None:
            p = vacuum_probe(ds, probe_region, align, probe_threshold)
        elif probe is not None:
            p = _core.soft_probe_mask(np.asarray(probe, dtype=np.float64), probe_threshold)
        else:
            p = synthetic_probe(synthetic[0], synthetic[1], ds.frame_shape)
        k, radius = probe_kernel(p, kernel, kernel_sigma, kernel_radii)
    elif given:
        raise ValueError("find_peaks: template=False: do not also give a probe")
    disks = BraggDisks(k, **options)
    results = dict(run(ds, [disks], **run_opts))
    vectors = results["braggvectors"]
    detector_axes = results["bragg_vector_map"].axes  # (qy, qx) at one bin per pixel
    if bvm_sampling != 1:
        bvm = results["bragg_vector_map"]
        axes = [dict(a, step=a["step"] / bvm_sampling) for a in bvm.axes]
        results["bragg_vector_map"] = Result(bvm.name, _core.bragg_vector_map(vectors, int(bvm_sampling)), axes,
                                             bvm.units, bvm.provenance)
    results.update(probe=p, kernel=k, probe_radius_px=radius)
    if out is not None:
        w = _core.EmdWriter(os.fspath(out))
        try:
            w.add_root("peaks", ds.calibration)
            _core.add_bragg_vectors(w, "peaks", "braggvectors", vectors)
            for name in ("bragg_vector_map", "peak_count"):
                w.add_array("peaks", results[name]._to_core())
            if template:
                w.add_array("peaks", Result("probe", p, detector_axes, "counts", {})._to_core(), "DiffractionSlice")
                w.add_array("peaks", Result("kernel", k, detector_axes, "", {})._to_core(), "DiffractionSlice")
            w.add_metadata("peaks", "detection", {"probe_radius_px": radius, "total_peaks": vectors.total_peaks,
                                                  "kernel": kernel if template else "none",
                                                  "scandiff_version": _core.__version__})
            w.commit()
        except BaseException:
            w.abort()
            raise
    return results


def read_bragg_vectors(path: str | os.PathLike, node: str = "") -> BraggVectors:
    """Raw Bragg vectors from an EMD file (``peaks.h5`` of scandiff, or py4DSTEM's); ``node``
    e.g. 'peaks/braggvectors' (default: the first BraggVectors node)."""
    return _core.read_bragg_vectors(os.fspath(path), node)


def _region_mask(region: Sequence[int], scan_shape: tuple[int, int]) -> np.ndarray:
    sy, sx = scan_shape
    ry0, ry1, rx0, rx1 = (int(v) for v in region)
    if not (0 <= ry0 < ry1 <= sy and 0 <= rx0 < rx1 <= sx):
        raise ValueError(f"reference_region {tuple(region)}: expected (ry0, ry1, rx0, rx1) inside the {sy}x{sx} scan")
    m = np.zeros((sy, sx), np.uint8)
    m[ry0:ry1, rx0:rx1] = 1
    return m


def strain(source: Any, calibration: _core.Calibration | None = None, g1: tuple[float, float] | None = None,
           g2: tuple[float, float] | None = None, reference_region: tuple[int, int, int, int] | None = None,
           frame_deg: float = 0.0, origin_fit: str = "plane", ellipse: bool = True, min_peaks: int = 5,
           max_peak_spacing: float = 0.0, lattice_parameter: float | None = None,
           g1_hkl: tuple[int, int, int] | None = None, g2_hkl: tuple[int, int, int] | None = None,
           **peak_options: Any) -> dict[str, Any]:
    """``scandiff strain``: strain maps from raw Bragg vectors (a :class:`BraggVectors`, with the
    scan's ``calibration``; a peaks.h5 path; or a dataset, whose disks are detected first with the
    :func:`find_peaks` options). The origin: the calibration's, else the brightest peak per
    position fitted by an ``origin_fit`` surface; vectors calibrated for origin, ellipse (unless
    ``ellipse=False``) and QR rotation, kept in pixels; g1, g2 (qx, qy pixels) given or found in the
    Bragg vector map; the lattice fitted at every position; the reference = the median over
    ``reference_region`` (ry0, ry1, rx0, rx1; default all). Returns Results exx, eyy, exy,
    rotation (rad), g1x, g1y, g2x, g2y, fit_error (pixels), indexed_peaks (float64 (ry, rx), NaN
    where not fitted), and 'reference' / 'guess' (Lattice), 'calibration'. With a cubic
    ``lattice_parameter`` (A) and the indices ``g1_hkl``, ``g2_hkl`` of g1 and g2 also
    'reciprocal_pixel_size_inv_A' (1/A per detector pixel)."""
    if isinstance(source, BraggVectors):
        raw, cal, what = source, calibration or _core.Calibration(), "Bragg vectors"
    elif isinstance(source, (str, os.PathLike)) and _core.bragg_vectors_node(os.fspath(source)):
        node = _core.bragg_vectors_node(os.fspath(source))
        raw, what = read_bragg_vectors(source, node), "Bragg vectors " + node
        cal = calibration or _core.read_emd_calibration(os.fspath(source), node.strip("/").split("/")[0])
    else:
        ds = _open(source)
        cal = calibration or ds.calibration
        raw, what = find_peaks(ds, **peak_options)["braggvectors"], "scan (disks detected)"
    if raw.total_peaks == 0:
        raise ValueError("strain: the Bragg vectors hold no peaks")
    cal = make_calibration(cal)  # a copy
    origin_from = "calibration"
    if not _core.origin_calibrated(cal):
        qy, qx = _core.origin_from_vectors(raw)
        cal = _core.with_origin_fit(cal, _core.fit_origin(qy, qx, origin_fit))
        origin_from = f"brightest peak per position, {origin_fit} fit"
    if not ellipse:
        cal.ellipse = None
    v = raw.calibrated(cal, origin=True, ellipse=True, pixel=False, rotation=True)
    if g1 is not None or g2 is not None:
        if g1 is None or g2 is None:
            raise ValueError("strain: give both g1 and g2, each as (qx, qy) pixels")
        guess, lattice_from = _core.make_lattice(tuple(map(float, g1)), tuple(map(float, g2))), "given"
    else:
        guess, lattice_from = _core.find_lattice(v), "Bragg vector map"
    maps = _core.fit_lattice(v, guess, float(max_peak_spacing), int(min_peaks))
    if maps.fitted == 0:
        raise ValueError(f"strain: no position has {min_peaks} or more indexed peaks (lower min_peaks, or check g1/g2)")
    region = None if reference_region is None else _region_mask(reference_region, raw.scan_shape)
    ref = _core.reference_lattice(maps, region)
    s = _core.strain_maps(maps, ref, float(np.deg2rad(frame_deg)))
    prov = {"analysis": "strain", "bragg_vectors": what, "origin": origin_from, "ellipse": cal.ellipse is not None,
            "lattice_guess": lattice_from, "g1_guess_px": [guess.g1x, guess.g1y], "g2_guess_px": [guess.g2x, guess.g2y],
            "reference_g1_px": [ref.g1x, ref.g1y], "reference_g2_px": [ref.g2x, ref.g2y],
            "reference": "median of the region" if region is not None else "median of all fitted positions",
            "frame_deg": frame_deg, "min_peaks": min_peaks, "fitted_positions": maps.fitted,
            "scandiff_version": _core.__version__}
    if lattice_parameter:
        if g1_hkl is None or g2_hkl is None or len(g1_hkl) != 3 or len(g2_hkl) != 3:
            raise ValueError("strain: lattice_parameter needs g1_hkl and g2_hkl (h, k, l), the indices of g1 and g2")
        prov["reciprocal_pixel_size_inv_A"] = _core.reciprocal_pixel_size(
            ref, _core.cubic_g_inv_A(lattice_parameter, *map(int, g1_hkl)),
            _core.cubic_g_inv_A(lattice_parameter, *map(int, g2_hkl)))
    axes = [{"name": "ry", "origin": 0.0, "step": 1.0, "units": "pixels"},
            {"name": "rx", "origin": 0.0, "step": 1.0, "units": "pixels"}]
    values = [("exx", s["exx"], ""), ("eyy", s["eyy"], ""), ("exy", s["exy"], ""), ("rotation", s["rotation"], "rad"),
              ("g1x", maps.g1x, "pixels"), ("g1y", maps.g1y, "pixels"), ("g2x", maps.g2x, "pixels"),
              ("g2y", maps.g2y, "pixels"), ("fit_error", maps.error, "pixels"),
              ("indexed_peaks", maps.indexed, "peaks")]
    out: dict[str, Any] = {name: Result(name, data, axes, units, prov) for name, data, units in values}
    out.update(reference=ref, guess=guess, calibration=cal, lattice_maps=maps)
    if "reciprocal_pixel_size_inv_A" in prov:
        out["reciprocal_pixel_size_inv_A"] = prov["reciprocal_pixel_size_inv_A"]
    return out
