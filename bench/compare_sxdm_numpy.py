#!/usr/bin/env python3
"""SXDM centroid and ROI maps: `scandiff sxdm centroid` / `scandiff sxdm roi` against a vectorised
numpy implementation of sxdm's method (2theta / chi projections, segmentation: std < stdev_min gives
no signal, else values <= mean are zeroed, centroid = sum(x*I)/sum(I); ROI = box sums), on the same
simulated 516x516 int32 scan (raw file in the page cache, numpy through a memory map), timed in this
one script.

    python3 bench/compare_sxdm_numpy.py [--build build] [--scan 40,50] [--boxes 4]

Prints frames/s and GB/s for both, the ratio scandiff / numpy, and the largest difference of the
maps (they must agree: same method, no profile filter). The scandiff times are whole CLI runs
(start, read, analyse, write EMD + PNG); numpy's include only the computation over the memory map.
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py
import numpy as np

FRAME = 516
STDEV_MIN = 35


def boxes(n):
    return [(100 + 40 * (k % 8), 180 + 40 * (k // 8), 140 + 40 * (k % 8), 220 + 40 * (k // 8)) for k in range(n)]


def numpy_centroid(data, chunk=64):
    n = data.shape[0]
    cx, cy, total = np.empty(n), np.empty(n), np.empty(n)
    idx = np.arange(FRAME, dtype=float)
    for s in range(0, n, chunk):
        f = np.asarray(data[s:s + chunk], dtype=np.int64)
        for prof, out in ((f.sum(axis=1), cx), (f.sum(axis=2), cy)):  # 2theta: sum over rows; chi: over columns
            p = prof.astype(float)
            if out is cx:
                total[s:s + chunk] = p.sum(axis=1)
            cut = np.where(p.std(axis=1) < STDEV_MIN, p.max(axis=1), p.mean(axis=1))
            p[p <= cut[:, None]] = 0
            w = p.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[s:s + chunk] = np.where(w == 0, np.nan, (p * idx).sum(axis=1) / w)
    return cx, cy, total


def numpy_roi(data, bx, chunk=64):
    n = data.shape[0]
    out = np.empty((len(bx), n))
    for s in range(0, n, chunk):
        f = data[s:s + chunk]
        for k, (x0, y0, x1, y1) in enumerate(bx):
            out[k, s:s + chunk] = f[:, y0:y1, x0:x1].sum(axis=(1, 2), dtype=np.int64)
    return out


def best_of(fn, repeats=2):
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--scan", default="40,50")
    ap.add_argument("--boxes", type=int, default=4)
    args = ap.parse_args()
    sy, sx = map(int, args.scan.split(","))
    exe = os.path.join(args.build, "scandiff")
    bx = boxes(args.boxes)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "s.raw")
        subprocess.run([exe, "-q", "simulate", raw, "--kind", "sxdm", "--scan", f"{sy},{sx}", "--frame",
                        f"{FRAME},{FRAME}", "--dtype", "int32", "--noise", "poisson"], check=True)
        n = sy * sx
        gb = n * FRAME * FRAME * 4 / 1e9
        data = np.memmap(raw, dtype="<i4", mode="r", shape=(n, FRAME, FRAME))
        data.sum()  # page cache warm
        shape = ["--raw-shape", f"{sy},{sx},{FRAME},{FRAME}", "--dtype", "int32"]

        def cli(*a):
            subprocess.run([exe, "-q", "sxdm", *a, raw, *shape, "--out", os.path.join(tmp, a[0])], check=True)

        t_cc, _ = best_of(lambda: cli("centroid"))
        t_nc, (cx, cy, total) = best_of(lambda: numpy_centroid(data))
        t_cr, _ = best_of(lambda: cli("roi", *[x for b in bx for x in ("--box", ",".join(map(str, b)))]))
        t_nr, roi = best_of(lambda: numpy_roi(data, bx))

        with h5py.File(os.path.join(tmp, "centroid", "sxdm_centroid.h5"), "r") as f:
            ours = [f[f"sxdm_centroid/{k}/data"][()].ravel() for k in ("centroid_x", "centroid_y", "roi_sum")]
        with h5py.File(os.path.join(tmp, "roi", "sxdm_roi.h5"), "r") as f:
            ours_roi = np.array([f[f"sxdm_roi/roi_{k}/data"][()].ravel() for k in range(len(bx))])
        diff = max(np.nanmax(np.abs(ours[0] - cx)), np.nanmax(np.abs(ours[1] - cy)), np.max(np.abs(ours[2] - total)),
                   np.max(np.abs(ours_roi - roi)))
        same_nan = np.array_equal(np.isnan(ours[0]), np.isnan(cx)) and np.array_equal(np.isnan(ours[1]), np.isnan(cy))
    print(f"{n} frames of {FRAME}x{FRAME} int32 ({gb:.2f} GB), page cache; largest map difference {diff:.3g}, "
          f"NaN positions {'equal' if same_nan else 'DIFFER'}")
    for what, ours_t, np_t in (("centroid", t_cc, t_nc), (f"roi ({len(bx)} boxes)", t_cr, t_nr)):
        print(f"  {what:16s} scandiff {ours_t:6.2f} s ({n / ours_t:7.0f} frames/s, {gb / ours_t:5.2f} GB/s)   "
              f"numpy {np_t:6.2f} s ({n / np_t:7.0f} frames/s, {gb / np_t:5.2f} GB/s)   ratio {np_t / ours_t:5.1f}x")


if __name__ == "__main__":
    main()
