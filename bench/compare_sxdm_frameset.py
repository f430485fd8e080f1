"""SXDM frameset throughput: `scandiff sxdm align` and `sxdm rocking` over a synthetic frameset
(2 scans of 34 x 30 = 1020 positions, 516 x 516 int32 TIFFs: the 26-ID-C frame size, ~2.2 GB),
beside the same rocking curve computed with tifffile + numpy (read every frame, subtract the
mean of the first/last 3 frames, sum a detector box), frames/s and GB/s of decoded frames.
sxdm itself (Python 3.6, PyQt5, HDF5 copies of the data) is not run.

    python3 bench/compare_sxdm_frameset.py --build build [--dir /tmp/sxdm-bench] [--threads 2]
"""
import argparse
import json
import pathlib
import resource
import subprocess
import time

import numpy as np
import tifffile

ROWS, COLS, F, SCANS = 34, 30, 516, 2
BOX = (300, 200, 330, 220)  # x0, y0, x1, y1


def make(root):
    if (root / "fs.json").exists():
        return root / "fs.json"
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    base = rng.poisson(3, size=(F, F)).astype(np.int32)
    scans = []
    for s in range(SCANS):
        lines = ["frame,x,y"]
        for r in range(ROWS):
            for c in range(COLS):
                n = s * 10000 + r * COLS + c
                f = base.copy()
                f[200:220, 300:330] += r * c + s
                tifffile.imwrite(root / f"s{s}_{n:06d}.tif", f)
                lines.append(f"{n},{c * 0.03:.3f},{r * 0.03:.3f}")
        (root / f"s{s}.csv").write_text("\n".join(lines) + "\n")
        scans.append({"name": f"s{s}", "theta": 8 + 0.05 * s, "positions": f"s{s}.csv",
                      "images": f"s{s}_{{:06d}}.tif", "shift": {"dy": 0, "dx": 0}})
    (root / "fs.json").write_text(json.dumps({"sxdm_frameset": 1, "scans": scans}))
    return root / "fs.json"


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def numpy_rocking(root):
    x0, y0, x1, y1 = BOX
    out = []
    for s in range(SCANS):
        names = [root / f"s{s}_{s * 10000 + k:06d}.tif" for k in range(ROWS * COLS)]
        edge = [tifffile.imread(p).astype(np.float64) for p in names[:3] + names[-3:]]
        bg = np.mean(edge, axis=0)[y0:y1, x0:x1]
        out.append(sum(float((tifffile.imread(p)[y0:y1, x0:x1] - bg).sum()) for p in names))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--dir", default="/tmp/sxdm-bench")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    exe = str(pathlib.Path(a.build) / "scandiff")
    manifest = make(pathlib.Path(a.dir))
    frames = SCANS * ROWS * COLS
    gb = frames * F * F * 4 / 1e9
    x0, y0, x1, y1 = BOX
    common = [exe, "--threads", str(a.threads), "--quiet"]
    t_open = timed(common + ["info", str(manifest)])
    t_align = timed(common + ["sxdm", "align", str(manifest), "--map", f"roi:{x0},{y0},{x1},{y1}"])
    out = pathlib.Path(a.dir) / "rock"
    t_rock = timed(common + ["sxdm", "rocking", str(manifest), "--box", f"{x0},{y0},{x1},{y1}", "--out", str(out)])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    t = time.perf_counter()
    ref = numpy_rocking(pathlib.Path(a.dir))
    t_np = time.perf_counter() - t
    got = [float(line.split(",")[2]) for line in (out / "rocking_curve.csv").read_text().splitlines()[1:]]
    print(f"{frames} frames of {F}x{F} int32 ({gb:.2f} GB), {a.threads} threads; load {open('/proc/loadavg').read().split()[0]}")
    print(f"open (info)        {t_open:7.2f} s")
    print(f"sxdm align (roi)   {t_align:7.2f} s  {frames / t_align:7.0f} frames/s  {gb / t_align:5.2f} GB/s")
    print(f"sxdm rocking       {t_rock:7.2f} s  {frames / t_rock:7.0f} frames/s  {gb / t_rock:5.2f} GB/s")
    print(f"tifffile + numpy   {t_np:7.2f} s  {frames / t_np:7.0f} frames/s  (1 thread)  ratio {t_np / t_rock:.2f}x")
    print(f"peak RSS of the scandiff runs {rss:.0f} MiB; rocking intensities agree: "
          f"{np.allclose(sorted(got), sorted(ref), rtol=1e-5)}")


if __name__ == "__main__":
    main()
