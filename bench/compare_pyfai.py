#!/usr/bin/env python3
"""Azimuthal integration per core: scandiff (bench_azimuthal, CSR applied with TBB on 1 thread) against
pyFAI (integrate1d / integrate2d, method (split, "csr", "cython"), OMP_NUM_THREADS=1) on the same
Pilatus-1M-sized int32 image (1043 x 981, CeO2_Pilatus1M geometry), 1000 radial bins, 360 azimuthal
bins for 2D, q_nm^-1, polarization 0.99, solid angle on, timed in this one script on this machine;
and sigma clipping (sigma_clip_ng, 1D, no splitting, azimuthal errors, thres 5, max_iter 5).

    OMP_NUM_THREADS=1 python3 bench/compare_pyfai.py [--build build] [--repeat 20]

pyFAI's matrix is built by a warm-up call (as ours is built outside the timed loop). Both sides are
timed in CPU time of the one working thread (best of --repeat for pyFAI, Google Benchmark's mean for
scandiff), so that a machine shared with other work still gives a fair per-core ratio. Agreement of
the numbers is a test (tests/python/test_integrate_pyfai.py), not this.
"""
import argparse
import json
import os
import subprocess
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROWS, COLS = 1043, 981
PONI = dict(dist=0.208651380603, poni1=0.0872948482846, poni2=0.0799601126306, rot1=-0.0184422457059,
            rot2=0.00413760084465, rot3=-2.77645988275e-08, wavelength=4.066e-11)


def best_cpu_time(n, fn):
    best = float("inf")
    for _ in range(n):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    out = "/tmp/scandiff_bench_azimuthal.json"
    subprocess.run([os.path.join(args.build, "bench_azimuthal"), f"--benchmark_out={out}",
                    "--benchmark_out_format=json",
                    "--benchmark_filter=(integrate.d_[a-z]+/[0-9]/[0-9]/1/|sigma_clip1d_no/1/)",
                    "--benchmark_min_time=1s"], check=True, capture_output=True, text=True)
    with open(out) as f:
        ours = {b["name"].replace("/real_time", ""): 1e3 / b["cpu_time"] for b in json.load(f)["benchmarks"]
                if b.get("time_unit") == "ms"}

    from pyFAI.detectors import Detector
    from pyFAI.integrator.azimuthal import AzimuthalIntegrator
    det = Detector(pixel1=172e-6, pixel2=172e-6, max_shape=(ROWS, COLS))
    ai = AzimuthalIntegrator(detector=det, **PONI)
    img = np.random.default_rng(7).poisson(200, (ROWS, COLS)).astype(np.int32)

    print(f"{'':22s} {'scandiff':>12s} {'pyFAI':>12s} {'ratio':>7s}   (frames/s per core, {ROWS}x{COLS} int32)")
    for split_code, split in enumerate(["no", "bbox", "full"]):
        for two_d in (0, 1):
            method = (split, "csr", "cython")
            if two_d:
                call = lambda: ai.integrate2d(img, 1000, 360, unit="q_nm^-1", method=method, polarization_factor=0.99)
            else:
                call = lambda: ai.integrate1d(img, 1000, unit="q_nm^-1", method=method, polarization_factor=0.99)
            call()  # builds and caches the CSR matrix
            t = best_cpu_time(args.repeat, call)
            name = f"integrate{'2d' if two_d else '1d'}_{split}"
            mine = ours.get(f"{name}/{split_code}/{two_d}/1", float("nan"))
            theirs = 1.0 / t
            print(f"{name:22s} {mine:12.1f} {theirs:12.1f} {mine / theirs:6.1f}x")
    # Sigma clipping: sigma_clip_ng, no splitting, azimuthal errors, thres 5, max_iter 5.
    call = lambda: ai.sigma_clip_ng(img, 1000, unit="q_nm^-1", method=("no", "csr", "cython"), polarization_factor=0.99,
                                    error_model="azimuthal", thres=5, max_iter=5)
    call()
    theirs = 1.0 / best_cpu_time(args.repeat, call)
    mine = ours.get("sigma_clip1d_no/1", float("nan"))
    print(f"{'sigma_clip1d_no':22s} {mine:12.1f} {theirs:12.1f} {mine / theirs:6.1f}x")


if __name__ == "__main__":
    main()
