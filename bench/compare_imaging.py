#!/usr/bin/env python3
"""Bright field + annular dark field + centre of mass: scandiff (one pass, bench_stem_imaging) against
py4DSTEM and LiberTEM on the same simulated uint16 file of 256x256 frames, timed in this one script
on this machine, one core each (BLAS/numba threads pinned to 1, LiberTEM's inline executor).

    python3 bench/compare_imaging.py [--build build] [--size-mib 4096] [--py4dstem-frames 4096]
                                     [--budget-mib 256]

scandiff runs over the whole file (memory-mapped from the page cache) and over an in-memory subset,
then once more over the whole file with a --budget-mib memory budget, reporting the peak resident
set size the OS saw. LiberTEM (ApplyMasksUDF for BF + ADF and CoMUDF in one run_udf pass) reads the
whole raw file from the page cache as scandiff does. py4DSTEM (0.14) runs over the first
--py4dstem-frames frames held in memory (its virtual images are Python loops over scan positions and
its vectorised CoM makes a float32 copy, so the whole file would take long and need 2x its size in
memory). Rates are per frame, so the sizes need not match. Agreement of the numbers is a test
(tests/python/test_virtual_py4dstem.py), not this. Every tool is also timed in CPU seconds of its
process (all in-process, one core each), and scandiff's one-thread rate per CPU second is set
against the memory read rate per CPU second measured in the same bench_stem_imaging process: on a
machine shared with other work these per-CPU-second figures are the comparable ones.
"""
import argparse
import json
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # one core per tool: set before numpy/numba load

import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

SIDE = 256
SCAN_X = 128


def best_of(n, fn):
    """(best wall-clock seconds, best CPU seconds of this process) over n calls."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--size-mib", type=int, default=4096)
    ap.add_argument("--memory-mib", type=int, default=512, help="scandiff's in-memory subset")
    ap.add_argument("--py4dstem-frames", type=int, default=4096)
    ap.add_argument("--budget-mib", type=int, default=256, help="memory budget of the budget run (0: skip)")
    ap.add_argument("--file", default="/tmp/scandiff_bench_stem_u16.raw")
    args = ap.parse_args()

    # scandiff: the C++ benchmark writes the file with the simulator (once) and times itself.
    rates = args.file + ".rates.json"
    subprocess.run([os.path.join(args.build, "bench_stem_imaging"), "--size-mib", str(args.size_mib),
                    "--memory-mib", str(args.memory_mib), "--file", args.file, "--json", rates,
                    "--benchmark_filter=bf_adf_com|memory_read|page_cache_mapping", "--benchmark_repetitions=3"], check=True, capture_output=True, text=True)
    with open(rates) as f:
        ours = json.load(f)
    budget = None
    if args.budget_mib > 0:
        bjson = args.file + ".budget.json"
        proc = subprocess.run([os.path.join(args.build, "bench_stem_imaging"), "--size-mib", str(args.size_mib),
                               "--file", args.file, "--budget-mib", str(args.budget_mib), "--json", bjson],
                              capture_output=True, text=True)
        with open(bjson) as f:
            budget = json.load(f)
        budget["within"] = proc.returncode == 0

    warnings.filterwarnings("ignore")
    import py4DSTEM
    from py4DSTEM.process.utils import get_CoM

    frames = args.py4dstem_frames - args.py4dstem_frames % SCAN_X
    data = np.fromfile(args.file, dtype="<u2", count=frames * SIDE * SIDE).reshape(frames // SCAN_X, SCAN_X, SIDE, SIDE)
    dc = py4DSTEM.DataCube(data=data)
    c = (SIDE - 1) / 2
    t_bf, c_bf = best_of(2, lambda: dc.get_virtual_image(mode="circle", geometry=((c, c), 10), verbose=False))
    t_adf, c_adf = best_of(2, lambda: dc.get_virtual_image(mode="annulus", geometry=((c, c), (12, 122)), verbose=False))

    def com_dpc():
        dpc = py4DSTEM.process.phase.DPC(datacube=dc, energy=300e3, verbose=False)
        dpc.preprocess(force_com_rotation=0, force_com_transpose=False, fit_function=None,
                       vectorized_com_calculation=True, plot_rotation=False, plot_center_of_mass=None)

    t_com, c_com = best_of(2, com_dpc)
    sub = data.reshape(-1, SIDE, SIDE)[:512]
    t_com_loop = best_of(1, lambda: [get_CoM(f) for f in sub])[0] * frames / len(sub)

    # LiberTEM: BF + ADF (ApplyMasksUDF) and CoM (CoMUDF) in one pass over the raw file, one core.
    libertem = None
    try:
        import libertem
        import libertem.api as lt
        from libertem.udf.com import CoMUDF
        from libertem.udf.masks import ApplyMasksUDF
    except ImportError as e:
        print(f"LiberTEM not available ({e}); skipping it")
    else:
        all_frames = args.size_mib * (1 << 20) // (SIDE * SIDE * 2)
        nav = (all_frames // SCAN_X, SCAN_X)
        qy, qx = np.mgrid[0:SIDE, 0:SIDE]
        d2 = (qy - c) ** 2 + (qx - c) ** 2
        bf_mask = (d2 < 10 ** 2).astype(np.float32)
        adf_mask = ((d2 > 12 ** 2) & (d2 < 122 ** 2)).astype(np.float32)
        with lt.Context.make_with("inline") as ctx:
            ds = ctx.load("raw", path=args.file, nav_shape=nav, sig_shape=(SIDE, SIDE), dtype="uint16")
            udfs = [ApplyMasksUDF(mask_factories=[lambda: bf_mask, lambda: adf_mask]), CoMUDF.with_params(cy=c, cx=c)]
            t_lt, c_lt = best_of(2, lambda: ctx.run_udf(dataset=ds, udf=udfs))
        libertem = (libertem.__version__, nav[0] * nav[1], t_lt, c_lt)

    frame_bytes = SIDE * SIDE * 2
    total = t_bf + t_adf + t_com
    total_cpu = c_bf + c_adf + c_com
    mem = ours.get("memory_read_1thread", {})
    if mem:
        print(f"single-thread memory read (64-bit sum, in bench_stem_imaging): {mem['bytes_per_s'] / 1e9:.2f} GB/s, "
              f"{mem['bytes_per_cpu_s'] / 1e9:.2f} GB/s per CPU second; page-cache mapping "
              f"{ours.get('page_cache_mapping_1thread', {}).get('bytes_per_s', 0) / 1e9:.2f} GB/s")
    print(f"BF (r 10 px) + ADF (12-122 px) + CoM of 256x256 uint16 frames")
    print(f"  py4DSTEM {py4DSTEM.__version__}, {frames} frames in memory, 1 process:")
    for name, t in (("get_virtual_image circle", t_bf), ("get_virtual_image annulus", t_adf),
                    ("DPC.preprocess CoM (vectorised, float32)", t_com), ("get_CoM per frame (loop)", t_com_loop)):
        print(f"    {name:42s} {frames / t:9.0f} frames/s  {frames * frame_bytes / t / 1e9:6.3f} GB/s")
    print(f"    {'all three (BF + ADF + vectorised CoM)':42s} {frames / total:9.0f} frames/s  "
          f"{frames * frame_bytes / total / 1e9:6.3f} GB/s; per CPU second {frames / total_cpu:9.0f} frames/s")
    lt_fps = lt_cpu_fps = None
    if libertem:
        version, n, t, tc = libertem
        lt_fps, lt_cpu_fps = n / t, n / tc
        print(f"  LiberTEM {version}, one run_udf pass over the raw file (page cache), inline executor (1 core):")
        print(f"    {'ApplyMasksUDF (BF, ADF) + CoMUDF':42s} {lt_fps:9.0f} frames/s  {n * frame_bytes / t / 1e9:6.3f} GB/s; "
              f"per CPU second {lt_cpu_fps:9.0f} frames/s")
    print(f"  scandiff, one pass over {args.size_mib} MiB (page cache) / {args.memory_mib} MiB (in memory):")
    for key in sorted(ours):
        if not key.startswith("bf_adf_com"):
            continue
        name, threads, cached = key.split("/")[:3]
        r = ours[key]
        where = "page cache" if cached == "1" else "in memory "
        print(f"    {where}, {threads} thread(s)                   {r['frames_per_s']:9.0f} frames/s  "
              f"{r['bytes_per_s'] / 1e9:6.3f} GB/s  = {r['frames_per_s'] * total / frames:6.0f}x py4DSTEM"
              + (f", {r['frames_per_s'] / lt_fps:5.1f}x LiberTEM" if lt_fps else ""))
        if threads == "1" and r.get("bytes_per_cpu_s"):
            cpu_fps = r["bytes_per_cpu_s"] / frame_bytes
            print(f"      per CPU second: {r['bytes_per_cpu_s'] / 1e9:6.3f} GB/s"
                  + (f" = {100 * r['bytes_per_cpu_s'] / mem['bytes_per_cpu_s']:.0f}% of the memory read rate" if mem else "")
                  + f", {cpu_fps * total_cpu / frames:6.0f}x py4DSTEM"
                  + (f", {cpu_fps / lt_cpu_fps:5.1f}x LiberTEM" if lt_cpu_fps else ""))
    if budget:
        print(f"  scandiff with a {budget['budget_mib']} MiB budget, all threads, whole file: {budget['seconds']:.2f} s, "
              f"peak RSS {budget['peak_rss_mib']:.1f} MiB ({'within' if budget['within'] else 'OVER'} the budget)")


if __name__ == "__main__":
    main()
