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

given = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else None  # (Jupyter passes -f ...)
out = Path(given) if given else Path(tempfile.mkdtemp(prefix="scandiff-tutorial-"))
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

# %% 7. Bragg disks and strain, in one more pass: the template from a synthetic probe, peaks at
# every position (a BraggVectors object: .at(ry, rx) -> (n, 3) array of qx, qy, intensity), then
# the lattice fit and strain maps against the median lattice (exx, eyy, exy; rotation in rad).
kernel, probe_radius = sd.probe_kernel(sd.synthetic_probe(4, 1, ds.frame_shape))
peaks = sd.run(calibrated, [sd.BraggDisks(kernel, min_peak_spacing=10, edge_boundary=6)])
vectors = peaks["braggvectors"]
print("peaks:", vectors.total_peaks, "at (0, 0):", vectors.at(0, 0)[:3].round(2).tolist())
strain = sd.strain(vectors, calibration=calibrated.calibration)
print("exx range", np.nanmin(strain["exx"].data), np.nanmax(strain["exx"].data))

# %% 8. Polar transform and FEM statistics; NMF of the azimuthal profiles (positions x radius).
fem = sd.polar(calibrated, qstep_px=1, n_annular=90)
print("radial_var_norm (FEM V(k))", fem["radial_var_norm"].shape, fem["radial_var_norm"].axes[0]["units"])
factors = sd.nmf(np.nan_to_num(fem["azimuthal_mean"].data), components=2)
print("NMF maps", factors["maps"].shape, "error", round(factors["reconstruction_error"], 3))

# %% 9. X-ray style azimuthal integration (pyFAI's keywords) of an image, and of every frame in run().
geometry = sd.electron_geometry(0.0251, center=(qc, qc), pixel_size_m=55e-6, camera_length_m=0.25)
ai = sd.AzimuthalIntegrator(geometry)
q, intensity = ai.integrate1d(results["mean_diffraction"].data, 100, unit="q_A^-1")
ai.integrate1d(frame, 100, unit="q_A^-1", filename=out / "frame.xy")   # pyFAI-style text, as the CLI
profiles = sd.run(ds, [sd.AzimuthalProfiles(ai, npt=100, unit="q_A^-1")])["azimuthal_profiles"]
print("profiles", profiles.shape, "q from", round(q[0], 4), "to", round(q[-1], 4), "1/A")
