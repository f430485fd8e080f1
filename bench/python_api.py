#!/usr/bin/env python3
"""The scandiff Python package on a numpy array (borrowed, not copied): one pass of BF + ADF + CoM
against numpy doing the same, and user Python functions run by the engine (per frame, per block)
against a plain Python loop over the frames and against LiberTEM's UDFs (the peer for user
functions; inline executor, same array; skipped when LiberTEM is not installed).

    python3 bench/python_api.py [--scan 64] [--frame 128] [--threads 0]

Prints GB/s (or frames/s) for each and the ratio scandiff / numpy. Needs the installed package
(make python). Equality of the results is a test (tests/python/test_python_api.py), not a benchmark.
"""
import argparse
import time

import numpy as np

import scandiff as sd


def best_of(f, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scan", type=int, default=64)
    ap.add_argument("--frame", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    n, q = args.scan, args.frame
    data = sd.simulate(scan=(n, n), frame=(q, q), seed=1).to_numpy()  # uint16 (ry, rx, qy, qx)
    ds = sd.from_numpy(data)
    gb = data.nbytes / 1e9
    c = (q - 1) / 2
    analyses = lambda: [sd.VirtualImages({"bf": sd.circle(c, c, 6), "adf": sd.annulus(c, c, 10, 0.48 * q)}),
                        sd.CenterOfMass()]
    ours = best_of(lambda: sd.run(ds, analyses(), threads=args.threads, progress=False))

    qy, qx = np.mgrid[:q, :q]
    d2 = (qy - c) ** 2 + (qx - c) ** 2
    masks = np.stack([d2 < 36, (d2 > 100) & (d2 < (0.48 * q) ** 2), np.ones_like(d2, bool), ]).astype(np.float64)
    weights = np.concatenate([masks, (qx * 1.0)[None], (qy * 1.0)[None]]).reshape(5, -1).T  # (q*q, 5)

    def numpy_pass():
        out = np.empty((n * n, 5))
        flat = data.reshape(n * n, q * q)
        for i in range(0, n * n, 256):  # blocks, so the float64 copy stays small
            out[i:i + 256] = flat[i:i + 256].astype(np.float64) @ weights
        return out[:, 0], out[:, 1], out[:, 3] / out[:, 2], out[:, 4] / out[:, 2]

    theirs = best_of(numpy_pass)
    print(f"BF + ADF + CoM, {n}x{n} scan of {q}x{q} uint16 ({data.nbytes / 2**20:.0f} MiB), threads={args.threads}:")
    print(f"  scandiff sd.run   {gb / ours:6.2f} GB/s")
    print(f"  numpy (matmul)    {gb / theirs:6.2f} GB/s   ratio scandiff/numpy {theirs / ours:.2f}")

    frames = n * n
    per_frame = best_of(lambda: sd.map_frames(ds, lambda f: f.sum(), threads=args.threads, progress=False))
    per_block = best_of(lambda: sd.map_frames(ds, lambda f, first: f.sum(axis=(1, 2)), per_block=True,
                                              threads=args.threads, progress=False))
    loop = best_of(lambda: np.array([f.sum() for f in data.reshape(frames, q, q)]))
    print("user function f(frame) = frame.sum():")
    print(f"  sd.map_frames per frame   {frames / per_frame:9.0f} frames/s")
    print(f"  sd.map_frames per block   {frames / per_block:9.0f} frames/s")
    print(f"  Python loop over numpy    {frames / loop:9.0f} frames/s   ratio per-frame/loop {loop / per_frame:.2f}")
    try:
        import libertem.api as lt
        from libertem.udf.base import UDF
        from libertem.udf.sumsigudf import SumSigUDF
    except ImportError:
        print("  LiberTEM not installed: peer comparison skipped")
        return

    class FrameSum(UDF):
        def get_result_buffers(self):
            return {"s": self.buffer(kind="nav", dtype="float64")}

        def process_frame(self, frame):
            self.results.s[:] = frame.sum()

    ctx = lt.Context.make_with("inline")
    lds = ctx.load("memory", data=data, sig_dims=2)
    lt_frame = best_of(lambda: ctx.run_udf(dataset=lds, udf=FrameSum()))
    lt_tiles = best_of(lambda: ctx.run_udf(dataset=lds, udf=SumSigUDF()))
    print(f"  LiberTEM process_frame UDF {frames / lt_frame:8.0f} frames/s   ratio scandiff per-frame/LiberTEM "
          f"{lt_frame / per_frame:.2f}")
    print(f"  LiberTEM SumSigUDF (tiles) {frames / lt_tiles:8.0f} frames/s   ratio scandiff per-block/LiberTEM "
          f"{lt_tiles / per_block:.2f}")


if __name__ == "__main__":
    main()
