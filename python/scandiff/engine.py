"""One pass over a dataset feeding any number of analyses: :func:`run`.

An analysis here is a description (parameters only). :func:`run` turns each into the engine's
C++ analyses for the dataset at hand (detector specs are resolved against its frame shape and
calibration), runs them all in ONE pass with the GIL released, and returns their results.
Results are bit-identical for any number of threads (the engine merges blocks in frame order).
"""
from __future__ import annotations

import operator
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import _core
from .dataset import Dataset, open as _open
from .results import Result, Results


class Analysis:
    """Base of the analyses :func:`run` accepts. Subclasses implement ``_make(ds, info)`` (the
    engine analyses for a dataset; ``info`` is the dataset as the analyses see it, after the
    pass's preparation stages: resolve detectors and size outputs against it) and may override
    ``_collect`` (results by name) and ``_commit`` / ``_abort`` (files written by the pass)."""

    name: str = "analysis"

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        raise NotImplementedError

    def _collect(self, made: list[_core.Analysis], ds: Dataset) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in made:
            for r in a.results():
                out[r.name] = Result._from_core(r)
        return out

    def _commit(self, results: dict[str, Any], ds: Dataset) -> None:
        """After a successful pass (files are renamed into place here)."""

    def _abort(self) -> None:
        """After a failed or cancelled pass (temporary files are removed here)."""


class FrameMap(Analysis):
    """A Python function of each frame: ``value[ry, rx] = function(frame)`` with frame a
    read-only (qy, qx) numpy view (valid during the call only: copy it to keep it).

    ``shape`` is the shape of one value (``()`` for a scalar), ``dtype`` its element type; the
    result is a (ry, rx, *shape) array. With ``per_block=True`` the function gets a block of
    frames (n, qy, qx) and the linear index of the first, and returns (n, *shape) values (one
    numpy call per block is much faster than a Python call per frame).
    """

    def __init__(self, function: Callable[..., Any], name: str = "user", shape: Sequence[int] = (),
                 dtype: Any = "float64", per_block: bool = False, units: str = ""):
        self.function, self.name, self.shape = function, name, tuple(int(n) for n in shape)
        self.dtype, self.per_block, self.units = np.dtype(dtype).name, per_block, units

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        return [_core.FrameMap(self.function, self.name, list(self.shape), self.dtype, self.per_block, self.units)]


class BlockReduce(Analysis):
    """A reduction written in Python: ``partial = function(frames, first)`` for every block of
    frames (n, qy, qx; read-only view valid during the call), folded IN FRAME ORDER with
    ``total = merge(total, partial)`` (default ``+``), then ``finish(total)`` if given. The order
    is fixed, so the value is deterministic for any thread count. Result: ``results[name]``, any
    Python object."""

    def __init__(self, function: Callable[[np.ndarray, int], Any], merge: Callable[[Any, Any], Any] = operator.add,
                 finish: Callable[[Any], Any] | None = None, name: str = "reduce"):
        self.function, self.merge, self.finish, self.name = function, merge, finish, name

    def _make(self, ds: Dataset, info: _core.DatasetInfo) -> list[_core.Analysis]:
        return [_core.BlockReduce(self.function, self.merge, self.finish, self.name)]

    def _collect(self, made: list[_core.Analysis], ds: Dataset) -> dict[str, Any]:
        return {self.name: made[0].value}


def _progress_callback(progress: Any, label: str):
    """(callback, closer): tqdm when progress is True and tqdm is installed, a user callable
    progress(done, total) as is, or nothing."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, lambda: None
    bar = None

    def update(done: int, total: int) -> bool:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit="frame", leave=False)
        bar.update(done - bar.n)
        return True

    def close() -> None:
        if bar is not None:
            bar.close()

    return update, close


def run(dataset: Any, analyses: Iterable[Analysis], threads: int = 0, memory: int | str | None = None,
        progress: Any = True, block_frames: int = 0, stages: Sequence[_core.FrameStage] = (),
        label: str = "scandiff") -> Results:
    """Run every analysis in ONE pass over ``dataset`` (a :class:`Dataset`, a path or a numpy array).

    threads: worker threads (0: all cores). memory: budget for the pass in bytes or as '2G'
    (default: a quarter of the available memory); the engine keeps outputs plus a few blocks of
    frames within it and raises :class:`BudgetError` when it cannot. progress: True (a tqdm bar
    when tqdm is installed), False, or a callable ``progress(done, total)`` (frames) that may
    return False to cancel (then :class:`Cancelled` is raised). stages: preparation of every frame
    before the analyses (:class:`CropQ`, :class:`BinQ`, :class:`ResampleQ`, :class:`PadQ`,
    :class:`RepairPixels`, in order); detectors are then given in the prepared pixels. Ctrl-C (or Jupyter's interrupt)
    stops the pass within one block per thread and raises KeyboardInterrupt; files the analyses
    were writing are removed, never left half-written. Returns the results by name
    (:class:`Results`, with ``.stats``); each analysis object also keeps its own in ``.results``.
    """
    ds = _open(dataset)
    analyses = list(analyses)
    callback, close = _progress_callback(progress, label)
    try:
        stages = list(stages)
        info = _core.prepared_info(ds._core, stages)
        made = [a._make(ds, info) for a in analyses]
        flat = [c for group in made for c in group]
        stats = _core.run(ds._core, flat, threads=threads, memory=_memory_text(memory), block_frames=block_frames,
                          progress=callback, stages=stages)
    except BaseException:
        for a in analyses:
            a._abort()
        raise
    finally:
        close()
    results = Results()
    results.stats = stats
    try:
        for a, m in zip(analyses, made):
            a.results = a._collect(m, ds)
            for name, value in a.results.items():
                if name in results:
                    raise ValueError(f"two analyses produce a result named {name!r}; give them distinct names")
                results[name] = value
        for a in analyses:  # after every collect: a writer may store other analyses' results
            a._commit(a.results, ds)
    except BaseException:
        for a in analyses:
            a._abort()
        raise
    return results


def _memory_text(memory: int | str | None) -> str:
    return "" if memory is None else str(memory)


def map_frames(dataset: Any, function: Callable[..., Any], shape: Sequence[int] = (), dtype: Any = "float64",
               per_block: bool = False, **run_options: Any) -> Result:
    """``function`` applied to every frame (or block, ``per_block=True``) of the dataset, out of
    core, in one pass: a (ry, rx, *shape) :class:`Result`. See :class:`FrameMap`."""
    return run(dataset, [FrameMap(function, "user", shape, dtype, per_block)], **run_options)["user"]


def reduce_blocks(dataset: Any, function: Callable[[np.ndarray, int], Any],
                  merge: Callable[[Any, Any], Any] = operator.add, finish: Callable[[Any], Any] | None = None,
                  **run_options: Any) -> Any:
    """A deterministic reduction over all frames written in Python. See :class:`BlockReduce`."""
    return run(dataset, [BlockReduce(function, merge, finish, "reduce")], **run_options)["reduce"]
