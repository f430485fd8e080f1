#!/usr/bin/env python3
"""NMF time of `scandiff nmf` beside scikit-learn's NMF on the same matrix, both solvers.

    python3 bench/compare_sklearn_nmf.py [--build build] [--rows 65536] [--cols 500] [-k 5] [--iter 200]
                                         [--threads N]

The matrix is planted non-negative data (k Gaussian profiles, random coefficients, 1% noise),
float64, written once as an EMD file. Both run exactly --iter iterations (tol = 0) from nndsvda.
scandiff's time is the factorisation alone (summary.json "seconds": no file reading or writing);
scikit-learn's is fit_transform on the in-memory array (numpy's BLAS threads as configured by
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS). Prints seconds, iterations/s, GB/s of X read per
iteration (once per iteration for scandiff, whose blocked update reads X once; the figure is
computed the same way for both), the final reconstruction errors and the ratio.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
from emd_input import write_emd_array  # noqa: E402


def planted(rows, cols, k, seed=0):
    rng = np.random.default_rng(seed)
    q = np.arange(cols)
    h = np.array([np.exp(-0.5 * ((q - (c + 0.5) * cols / k) / (0.05 * cols)) ** 2) for c in range(k)]) + 0.01
    w = rng.random((rows, k))
    return w @ h + 0.01 * rng.random((rows, cols))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--rows", type=int, default=65536)
    ap.add_argument("--cols", type=int, default=500)
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--iter", type=int, default=200)
    ap.add_argument("--threads", type=int, default=0, help="scandiff --threads (0 = all cores)")
    ap.add_argument("--solvers", default="mu,cd")
    args = ap.parse_args()
    from sklearn.decomposition import NMF
    import sklearn

    x = planted(args.rows, args.cols, args.k)
    gb_per_iter = x.nbytes / 1e9
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.h5")
        node = write_emd_array(path, x.reshape(args.rows, 1, args.cols))
        print(f"X: {args.rows} x {args.cols} float64 ({x.nbytes / 2**20:.0f} MiB), k = {args.k}, {args.iter} iterations, "
              f"nndsvda; scikit-learn {sklearn.__version__}; {os.cpu_count()} CPUs")
        for solver in args.solvers.split(","):
            out = os.path.join(tmp, solver)
            subprocess.run([os.path.join(args.build, "scandiff"), "--threads", str(args.threads), "--quiet", "nmf", path,
                            "--datapath", node, "--out", out, "-k", str(args.k), "--solver", solver, "--init", "nndsvda",
                            "--max-iter", str(args.iter), "--tol", "0"], check=True)
            with open(os.path.join(out, "summary.json")) as f:
                ours = json.load(f)["nmf"]
            t0 = time.perf_counter()
            model = NMF(n_components=args.k, init="nndsvda", solver=solver, max_iter=args.iter, tol=0)
            model.fit_transform(x)
            theirs_s = time.perf_counter() - t0
            for name, sec, it, err in (("scandiff", ours["seconds"], ours["iterations"], ours["reconstruction_error"]),
                                       ("scikit-learn", theirs_s, model.n_iter_, model.reconstruction_err_)):
                print(f"  {solver:2} {name:12} {sec:8.2f} s  {it / sec:7.1f} it/s  {it * gb_per_iter / sec:6.2f} GB/s  "
                      f"error {err:.6g}")
            print(f"  {solver:2} ratio scandiff / scikit-learn speed: {theirs_s / ours['seconds']:.2f}x")


if __name__ == "__main__":
    main()
