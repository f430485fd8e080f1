#!/usr/bin/env python3
"""Engine bare pass (mean diffraction pattern of a uint16 dataset in page cache) against numpy
over a memory map of the same file, timed in this one script on this machine.

    python3 bench/compare_numpy.py [--build build] [--size-mib 1024]

Prints GB/s for both and the ratio scandiff / numpy. (Equality of the results is a test, not a benchmark:
see tests/python/test_cli_simulate.py, which checks the engine against numpy.)
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np

FRAME = 256


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--file", default="/tmp/scandiff_bench_u16.raw")
    args = ap.parse_args()

    # The C++ benchmark writes the file (same content as always) and reports its own timings.
    rates = args.file + ".rates.json"
    subprocess.run(
        [os.path.join(args.build, "bench_engine"), "--size-mib", str(args.size_mib), "--file", args.file,
         "--json", rates, "--benchmark_filter=engine_sum_frames/"],
        check=True, capture_output=True, text=True)
    with open(rates) as f:
        ours = json.load(f)

    frames = args.size_mib * (1 << 20) // (FRAME * FRAME * 2)
    data = np.memmap(args.file, dtype="<u2", mode="r", shape=(frames, FRAME * FRAME))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        total = np.zeros(FRAME * FRAME, dtype=np.float64)
        for start in range(0, frames, 64):  # chunked, as a careful user would, to bound memory
            total += data[start:start + 64].sum(axis=0, dtype=np.float64)
        best = min(best, time.perf_counter() - t0)
    numpy_rate = data.nbytes / best

    print(f"mean diffraction pattern of {args.size_mib} MiB uint16 ({frames} frames of {FRAME}x{FRAME}), page cache")
    print(f"  numpy memmap, 1 thread:      {numpy_rate / 1e9:6.2f} GB/s")
    for name, r in sorted(ours.items()):
        rate = r["bytes_per_s"]
        if not name.startswith("engine_sum_frames/") or rate <= 0:
            continue
        threads = name.split("/")[1]
        print(f"  scandiff engine, {threads} thread(s): {rate / 1e9:6.2f} GB/s  = {rate / numpy_rate:5.1f} x numpy")


if __name__ == "__main__":
    main()
