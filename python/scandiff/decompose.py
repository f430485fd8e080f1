"""Matrix factorisations and clustering of per-position signals (``scandiff nmf``): NMF as
scikit-learn's (solvers 'mu' and 'cd'), PCA, k-means, and the mean EDX spectrum of the positions
where each NMF component is strong (the ePSIC NMF-EDX workflow).

Input: a (ry, rx, n) stack of profiles, a (ry, rx, qy, qx) stack of patterns (flattened per
position), a :class:`Result` of either, or a (positions, features) matrix. Maps come back as
(ry, rx), component profiles as (k, n), component patterns as (k, qy, qx). Results are identical
for any thread count.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _core
from .results import Result


def _matrix(data: Any) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...]]:
    """(positions x features float64 matrix, scan shape, feature shape)."""
    a = np.asarray(data.data if isinstance(data, Result) else data)
    if a.ndim == 2:
        return a, (a.shape[0],), (a.shape[1],)
    if a.ndim not in (3, 4):
        raise ValueError(f"expected (ry, rx, n), (ry, rx, qy, qx) or a (positions, features) matrix, got {a.shape}")
    return a.reshape(a.shape[0] * a.shape[1], -1), a.shape[:2], a.shape[2:]


def nmf(data: Any, components: int = 2, solver: str = "mu", init: str = "nndsvda", max_iter: int = 200,
        tol: float = 1e-4, seed: int = 0, threads: int = 0) -> dict[str, Any]:
    """X ~ W H with W, H >= 0 minimising ||X - W H||_F (scikit-learn's NMF with beta_loss
    'frobenius': ``solver`` 'mu' or 'cd', ``init`` 'nndsvd', 'nndsvda', 'nndsvdar', 'random').
    Returns 'maps' (k, ry, rx) coefficients (W), 'components' (k, *feature shape) (H),
    'w' (positions, k), 'h' (k, features), 'reconstruction_error', 'iterations', 'converged'."""
    x, scan, feat = _matrix(data)
    r = _core.nmf(x, components, solver, init, max_iter, tol, seed, threads)
    r["maps"] = r["w"].T.reshape(components, *scan)
    r["components"] = r["h"].reshape(components, *feat)
    return r


def nmf_error_scan(data: Any, max_components: int, **options: Any) -> list[tuple[int, float, int]]:
    """[(k, reconstruction_error, iterations)] of :func:`nmf` for k = 1 .. max_components."""
    x, _, _ = _matrix(data)
    return _core.nmf_error_scan(x, max_components, **options)


def pca(data: Any, components: int, threads: int = 0) -> dict[str, Any]:
    """scikit-learn's PCA (full solver): 'components' (k, *feature shape) unit rows, 'scores'
    (k, ry, rx), 'explained_variance' (s^2/(n - 1)), 'explained_variance_ratio',
    'singular_values', 'mean'."""
    x, scan, feat = _matrix(data)
    r = _core.pca(x, components, threads)
    r["scores"] = r["scores"].T.reshape(components, *scan)
    r["components"] = r["components"].reshape(components, *feat)
    return r


def kmeans(data: Any, clusters: int, max_iter: int = 300, tol: float = 1e-4, seed: int = 0, n_init: int = 1,
           threads: int = 0) -> dict[str, Any]:
    """k-means++ seeding and Lloyd iterations (scikit-learn's rules): 'labels' int32 (ry, rx),
    'centers' (clusters, *feature shape), 'inertia', 'iterations'."""
    x, scan, feat = _matrix(data)
    r = _core.kmeans(x, clusters, max_iter, tol, seed, n_init, threads)
    r["labels"] = r["labels"].reshape(scan)
    r["centers"] = r["centers"].reshape(clusters, *feat)
    return r


def edx_class_means(maps: Any, spectra: Any, threshold: float = 0.9) -> dict[str, Any]:
    """``nmf --edx``: for each component c, the positions whose coefficient is at or above the
    ``threshold`` quantile of its map form its class; returns 'means' (k, channels) (the mean
    spectrum of each class, in the spectra's units), 'masks' uint8 (k, ry, rx), 'counts',
    'thresholds'. ``maps``: (k, ry, rx) (nmf()['maps']) or the nmf() dict; ``spectra``: (ry, rx,
    channels) (e.g. :func:`read_ripple`)."""
    m = np.asarray(maps["maps"] if isinstance(maps, dict) else maps, dtype=np.float64)
    s = np.asarray(spectra.data if isinstance(spectra, Result) else spectra)
    if s.dtype.name not in ("uint8", "uint16", "uint32", "int32", "float32", "float64"):
        s = s.astype(np.float64)
    k = m.shape[0]
    r = _core.threshold_class_means(m.reshape(k, -1).T, s, threshold)
    r["masks"] = r["masks"].reshape(k, *m.shape[1:])
    return r


def read_ripple(path: str | os.PathLike) -> Result:
    """A Ripple .rpl (+ .raw) spectrum image (HyperSpy / Oxford AZtec EDX export) as a
    :class:`Result` (ry, rx, channels) in its stored dtype, with the ry, rx and energy axes and the
    header in ``provenance['ripple']``."""
    return Result._from_core(_core.read_ripple(os.fspath(path)))


def read_mda(path: str | os.PathLike) -> dict[str, Any]:
    """An APS .mda scan (EPICS saveData; e.g. the raster of an SXDM map): {'dims': per dimension,
    outermost first, its 'positioners' and 'detectors' each with 'name', 'description',
    'units' and 'data' (float64 positions / float32 values, shape (acquired points of dimension
    0, requested points of the inner ones): a 2D map's inner detectors are (rows, cols)),
    'scan_number', 'dimensions', 'extra_pvs', ...}."""
    return _core.read_mda(os.fspath(path))
