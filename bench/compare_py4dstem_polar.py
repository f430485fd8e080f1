#!/usr/bin/env python3
"""Polar transform + per-position azimuthal mean and variance (FEM): `scandiff polar` against
py4DSTEM's PolarDatacube.calculate_FEM_local on the same simulated uint16 gold-ring scan of 256x256
frames with an elliptical distortion, timed in this one script on this machine.

    python3 bench/compare_py4dstem_polar.py [--build build] [--scan 64] [--py4dstem-frames 64]

scandiff runs the whole CLI command (read, transform, statistics, EMD/PNG/text output) over a
memory-mapped raw file in the page cache, with 1 thread and with all cores; py4DSTEM (0.14) runs
calculate_FEM_local (one polar transform per pattern, then the masked mean and variance over the
angle) over the first --py4dstem-frames frames held in memory. Rates are per frame. Agreement of the
numbers is a test (tests/python/test_polar_fem.py), not this.
"""
import argparse
import os
import subprocess
import tempfile
import time
import warnings

import numpy as np

SIDE = 256
RATIO, ANGLE_DEG = 1.04, 20.0


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--scan", type=int, default=64, help="scan side (frames = scan^2)")
    ap.add_argument("--py4dstem-frames", type=int, default=64)
    ap.add_argument("--file", default="/tmp/scandiff_bench_polar_u16.raw")
    args = ap.parse_args()
    exe = os.path.join(args.build, "scandiff")
    n = args.scan * args.scan
    if not os.path.exists(args.file) or os.path.getsize(args.file) != n * SIDE * SIDE * 2:
        subprocess.run([exe, "simulate", args.file, "--kind", "rings", "--scan", f"{args.scan},{args.scan}",
                        "--frame", f"{SIDE},{SIDE}", "--pixel-size", "0.008", "--ellipse", f"{RATIO},{ANGLE_DEG}",
                        "--dose", "5", "--quiet"], check=True)
    c = (SIDE - 1) / 2
    common = [exe, "polar", args.file, "--raw-shape", f"{args.scan},{args.scan},{SIDE},{SIDE}", "--dtype", "uint16",
              "--origin", f"{c},{c}", "--ellipse", f"{RATIO},1,{ANGLE_DEG}", "--quiet"]
    with tempfile.TemporaryDirectory() as out:
        timed(common + ["--out", out])  # page cache warm-up
        t1 = min(timed(common + ["--out", out, "--threads", "1"]) for _ in range(2))
        tn = min(timed(common + ["--out", out]) for _ in range(2))
    gb = n * SIDE * SIDE * 2 / 1e9

    warnings.filterwarnings("ignore")
    import py4DSTEM

    m = args.py4dstem_frames
    data = np.fromfile(args.file, dtype="<u2", count=m * SIDE * SIDE).reshape(1, m, SIDE, SIDE)
    dc = py4DSTEM.DataCube(data=data)
    dc.calibration.set_origin((c, c))
    dc.calibration.set_p_ellipse((c, c, RATIO, 1.0, np.pi / 2 - np.deg2rad(ANGLE_DEG)))
    pdc = py4DSTEM.process.polar.PolarDatacube(dc, n_annular=180)
    t0 = time.perf_counter()
    pdc.calculate_FEM_local(progress_bar=False)
    tp = time.perf_counter() - t0

    rate_p = m / tp
    print(f"frames: scandiff {n} ({gb:.2f} GB uint16), py4DSTEM {m}; {os.cpu_count()} cores; load {os.getloadavg()}")
    print(f"scandiff polar, 1 thread : {n / t1:8.0f} frames/s  {gb / t1:6.3f} GB/s  ({n / t1 / rate_p:5.1f}x py4DSTEM)")
    print(f"scandiff polar, all cores: {n / tn:8.0f} frames/s  {gb / tn:6.3f} GB/s  ({n / tn / rate_p:5.1f}x py4DSTEM)")
    print(f"py4DSTEM calculate_FEM_local: {rate_p:8.1f} frames/s")


if __name__ == "__main__":
    main()
