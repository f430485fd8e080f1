"""Results: numpy arrays with their name, axes, units and provenance."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _core


class Result:
    """One named result of an analysis.

    ``data`` is a numpy array over the engine's own buffer (no copy; C order, the axis order of
    ``axes``: scan maps are ``(ry, rx)``, diffraction patterns ``(qy, qx)``). ``units`` are the
    units of the values, each axis has ``name``, ``origin``, ``step`` and ``units`` (coordinate of
    index k = origin + k * step), ``provenance`` says what produced it. ``np.asarray(result)``
    gives ``data`` without copying.
    """

    __slots__ = ("name", "data", "axes", "units", "provenance")

    def __init__(self, name: str, data: np.ndarray, axes: list[dict[str, Any]], units: str,
                 provenance: dict[str, Any]):
        self.name = name
        self.data = data
        self.axes = axes
        self.units = units
        self.provenance = provenance

    @classmethod
    def _from_core(cls, r: _core.Result) -> "Result":
        axes = [{"name": a.name, "origin": a.origin, "step": a.step, "units": a.units} for a in r.axes]
        return cls(r.name, r.data, axes, r.units, r.provenance)

    def _to_core(self) -> _core.Result:
        axes = [(a["name"], float(a["origin"]), float(a["step"]), a["units"]) for a in self.axes]
        return _core.make_result(self.name, self.data, axes, self.units, self.provenance)

    def __array__(self, dtype=None, copy=None):
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self.data
        return self.data.astype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __repr__(self) -> str:
        axes = ", ".join(f"{a['name']} [{a['units']}]" for a in self.axes)
        return f"Result({self.name!r}, {self.data.dtype}{self.data.shape}, axes=({axes}), units={self.units!r})"


class Results(dict):
    """The results of a pass by name, with the pass statistics in ``stats``."""

    stats: _core.RunStats | None = None
