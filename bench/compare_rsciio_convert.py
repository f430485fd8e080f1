#!/usr/bin/env python3
"""Merlin .mib -> HDF5 conversion throughput: `scandiff convert` against rosettasciio's MIB reader +
an h5py write, on the same tiled .mib file (>= 1 GB) read from the page cache, beside the disk's plain
write rate measured with dd. Timed in this one script on this machine.

    python3 bench/compare_rsciio_convert.py [--build build] [--dir /tmp/scandiff_bench] [--size-mib 1100]

The .mib is built by repeating the 9 frames of the public Single_9_Frame_CounterDepth_12 sample
(256x256 uint16, from ../shared/data/mib/rsciio) with fresh frame numbers, as a square scan. Both tools
get the scan shape. GB/s are of decoded frame bytes (scan * 256 * 256 * 2). Every output file is written
to --dir and removed after its run; each tool runs --repeat times and the fastest run counts.
scandiff's convert also computes the mean/max diffraction patterns and the total-intensity image in
the same pass; rosettasciio's side does only load + write.
"""
import argparse
import os
import pathlib
import subprocess
import time
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "mib" / "rsciio" / "Single_9_Frame_CounterDepth_12_Rows_256.mib"
HEADER = 384
FRAME = HEADER + 256 * 256 * 2


def make_mib(path, frames):
    """`frames` frames: the sample's 9 repeated, field 1 (frame number) rewritten 1..frames."""
    raw = SAMPLE.read_bytes()
    sample = [bytearray(raw[i * FRAME:(i + 1) * FRAME]) for i in range(9)]
    with open(path, "wb") as f:
        for i in range(frames):
            frame = sample[i % 9]
            frame[4:10] = b"%06d" % ((i + 1) % 1000000)
            f.write(frame)


def page_cache(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def drop_output(path):
    for p in pathlib.Path(path).parent.glob(pathlib.Path(path).stem + "*"):
        if p.is_file():
            p.unlink()


def timed(fn, repeat, out):
    best = float("inf")
    for _ in range(repeat):
        drop_output(out)
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    drop_output(out)
    return best


def dd_rate(folder, mib, sync):
    target = pathlib.Path(folder) / "dd.bin"
    args = ["dd", "if=/dev/zero", f"of={target}", "bs=8M", f"count={mib // 8}"]
    if sync:
        args.append("conv=fdatasync")
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    target.unlink()
    return mib * 2**20 / seconds / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("SCANDIFF_BUILD", "build"))
    ap.add_argument("--dir", default="/tmp/scandiff_bench")
    ap.add_argument("--out-dir", help="where outputs (and dd's file) go; default --dir (e.g. /dev/shm for a "
                    "disk-free ceiling)")
    ap.add_argument("--size-mib", type=int, default=1100, help="decoded size of the scan (MiB)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-rsciio", action="store_true")
    ap.add_argument("--only", help="run only the scandiff cases whose name contains this text")
    args = ap.parse_args()
    exe = pathlib.Path(args.build) / "scandiff"
    folder = pathlib.Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    out_dir = pathlib.Path(args.out_dir) if args.out_dir else folder
    out_dir.mkdir(parents=True, exist_ok=True)
    side = int((args.size_mib * 2**20 / (256 * 256 * 2)) ** 0.5)
    frames = side * side
    nbytes = frames * 256 * 256 * 2
    mib = folder / "tiled.mib"
    if not mib.exists() or mib.stat().st_size != frames * FRAME:
        make_mib(mib, frames)
    page_cache(mib)
    print(f"input: {mib} ({frames} frames = {side}x{side} scan of 256x256 uint16, {nbytes / 1e9:.2f} GB decoded)")
    print(f"load: {os.getloadavg()[0]:.2f} (2-core machine shared with other work)")

    results = {}
    print(f"outputs: {out_dir}")
    results["dd, buffered (page cache)"] = dd_rate(out_dir, args.size_mib, sync=False)
    results["dd, conv=fdatasync (disk)"] = dd_rate(out_dir, args.size_mib, sync=True)
    cases = {
        "scandiff convert -> EMD, contiguous": ["out.h5"],
        "scandiff convert -> hspy, contiguous": ["out.hspy"],
        "scandiff convert -> hspy, frame chunks": ["out.hspy", "--chunk", "frame"],
        "scandiff convert -> hspy, bitshuffle-lz4": ["out.hspy", "--compression", "bitshuffle-lz4"],
        "scandiff convert -> hspy, gzip 1": ["out.hspy", "--compression", "gzip", "--compression-level", "1"],
    }
    for name, extra in cases.items():
        if args.only and args.only not in name:
            continue
        out = out_dir / extra[0]
        cmd = [str(exe), "convert", str(mib), str(out), *extra[1:], "--scan-shape", f"{side},{side}", "--quiet"]
        seconds = timed(lambda: subprocess.run(cmd, check=True), args.repeat, out)
        results[name] = nbytes / seconds / 1e9

    if not args.skip_rsciio:
        import h5py
        from rsciio.quantumdetector import file_reader

        out = out_dir / "rsciio.h5"

        def rsciio_convert():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = file_reader(str(mib), navigation_shape=(side, side), lazy=False)[0]["data"]
            with h5py.File(out, "w") as f:
                f.create_dataset("data", data=np.asarray(data))

        seconds = timed(rsciio_convert, args.repeat, out)
        results["rosettasciio load + h5py write, contiguous"] = nbytes / seconds / 1e9

    ref = results.get("rosettasciio load + h5py write, contiguous")
    print(f"{'':48s} {'GB/s':>6s}  vs rosettasciio")
    for name, rate in results.items():
        ratio = f"{rate / ref:5.1f}x" if ref and name.startswith("scandiff") else ""
        print(f"{name:48s} {rate:6.2f}  {ratio}")


if __name__ == "__main__":
    main()
