"""scandiff from Python, end to end on simulated data (run: python docs/tutorial.py [OUTDIR]).

Executed by the tests (tests/python/test_python_tutorial.py), so every line here works.
In Jupyter, paste the cells (# %% markers) one by one; progress bars appear when tqdm is installed
and the interrupt button stops a running pass cleanly.
"""
# %% Setup
import sys
import tempfile
from pathlib import Path

import numpy as np

import scandiff as sd

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="scandiff-tutorial-"))
out.mkdir(parents=True, exist_ok=True)

# %% 1. A dataset. Simulate a strained crystal with descan and write it as EMD 1.0 (py4DSTEM reads it).
# Axis order everywhere: (ry, rx, qy, qx) = scan row, scan column, detector row, detector column.
params = dict(scan=(24, 24), frame=(96, 96), disk_radius=4, descan_rx=(0.15, 0.05), descan_ry=(-0.05, 0.1), seed=1)
ds = sd.simulate(out / "crystal.h5", **params)   # written: frames + OUT_truth.h5/.json; returns it opened
truth = sd.ground_truth(sd.simulate(**params))   # the same scan, lazy (nothing stored): exact origin maps
print(ds)
print("calibration", ds.calibration)
frame = ds[3, 5]                      # one frame, (qy, qx) numpy array
print("frame", frame.shape, frame.dtype, "max", frame.max())

# %% 2. Several analyses in ONE pass over the frames: virtual bright/dark field, CoM, mean pattern.
qc = (96 - 1) / 2                     # the detector centre, pixels
results = sd.run(ds, [
    sd.VirtualImages({"bf": sd.circle(qc, qc, 7), "adf": sd.annulus(qc, qc, 10, 45)}),
    sd.CenterOfMass(),
    sd.VirtualDiffraction(),
], threads=0, memory="256M")
bf = results["bf"]                    # a Result: .data (numpy, no copy), .axes, .units, .provenance
print(bf, "stats:", results.stats.frames, "frames in", round(results.stats.seconds, 3), "s")

# %% 3. Calibrate the origin (descan), then measure the CoM relative to it. The disk radius is
# given: measured on the max pattern it would include the Bragg disks, nearly as bright here.
origin = sd.calibrate_origin(ds, fit="plane", radius_px=4)
print("origin fit RMS (qy, qx) px:", origin.fit.rms_qy_px, origin.fit.rms_qx_px)
print("fitted origin vs truth, max error px:", float(np.abs(origin.fit.qx - truth["origin_qx"].data).max()))
calibrated = ds.with_calibration(origin.calibration)
com = sd.center_of_mass(calibrated, relative_to_origin=True)
print("CoM relative to origin, mean |shift| px:", float(np.nanmean(np.hypot(com["com_x"].data, com["com_y"].data))))

# %% 4. Your own analysis, out of core: a per-frame function and an ordered reduction.
def peak_to_background(frame):
    """Brightest pixel over the median, per frame."""
    return frame.max() / max(np.median(frame), 1)

ptb = sd.map_frames(ds, peak_to_background, dtype="float32")
radial = sd.reduce_blocks(ds, lambda frames, first: frames.sum(axis=0, dtype=np.float64))  # summed pattern
print("peak/background map", ptb.data.shape, "summed pattern total", radial.sum())

# %% 5. numpy arrays are datasets too, without copying.
arr = ds.to_numpy()                   # fits in memory here (else: BudgetError, stream instead)
mem = sd.from_numpy(arr)
assert np.array_equal(sd.virtual_image(mem, sd.circle(qc, qc, 7)).data, bf.data)

# %% 6. Save results (EMD 1.0 + PNGs) and convert the scan.
sd.save_results(out / "results.h5", results, calibration=ds.calibration, pngs=True)
sd.convert(ds, out / "converted.h5")
print("wrote", sorted(p.name for p in out.iterdir()))
