"""scandiff virtual / com against py4DSTEM (0.14) on the same files.

Axis note: our detector axes are (qy, qx) with qx the column; py4DSTEM's arrays have the same C order
but it calls the first detector axis Qx. So our geometry numbers (qy, qx, ...) are py4DSTEM's
(qx, qy, ...) unchanged, our com_y is its com_x, and its scan rotation angle is minus ours.
"""
import json

import h5py
import numpy as np
import pytest

py4DSTEM = pytest.importorskip("py4DSTEM", reason="py4DSTEM is not installed (pip install py4DSTEM): peer checks skipped")

RTOL = 1e-6  # virtual images and diffraction: max |ours - py4DSTEM| / max |py4DSTEM|
COM_TOL_PX = 0.01

pytestmark = pytest.mark.filterwarnings("ignore")


def _rel(ours, ref):
    return np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-300)


def _read(path, node):
    with h5py.File(path, "r") as f:
        return f[node + "/data"][()]


@pytest.fixture(scope="module")
def crystal(cli, tmp_path_factory):
    """A Poisson-noisy uint16 crystal scan with descan, on a non-square scan and detector."""
    d = tmp_path_factory.mktemp("crystal")
    cli("simulate", d / "c.h5", "--scan", "9,11", "--frame", "60,72", "--g1", "14,3", "--g2", "-4,13",
        "--disk-radius", "5", "--descan-rx", "0.37,0.11", "--descan-ry", "-0.13,0.29", "--dose", "20", "--seed", "3",
        "--quiet")
    with h5py.File(d / "c_truth.h5", "r") as f:
        oy = f["truth_root/origin_qy/data"][()]
        ox = f["truth_root/origin_qx/data"][()]
    # Mask detector: a grayscale PNG whose levels are the weights.
    from PIL import Image
    qy, qx = np.mgrid[0:60, 0:72]
    mask = ((np.hypot(qy - 30, qx - 40) < 14) * (qx % 3 + 1) * 60).astype(np.uint8)
    Image.fromarray(mask).save(d / "mask.png")
    return {"dir": d, "file": d / "c.h5", "truth": d / "c_truth.h5", "origin": (oy, ox), "mask": mask.astype(float)}


def _datacube(path, origin=None):
    dc = py4DSTEM.read(str(path), datapath="datacube_root/datacube")
    if origin is not None:
        dc.calibration.set_origin(origin)  # py4DSTEM's (qx0, qy0) = our (origin_qy, origin_qx) maps
    return dc


ABSOLUTE = {  # name: (our spec, py4DSTEM mode, py4DSTEM geometry)
    "pt": ("point:29.7,36.2", "point", (29.7, 36.2)),
    "bf": ("circle:29.5,35.5,8", "circle", ((29.5, 35.5), 8)),
    "adf": ("annulus:29.5,35.5,10,26.5", "annulus", ((29.5, 35.5), (10, 26.5))),
    "rect": ("rectangle:10.4,20.5,40.5,60.2", "rectangle", (10.4, 20.5, 40.5, 60.2)),
}
RELATIVE = {
    "pt": ("point:-1.3,0.6", "point", (-1.3, 0.6)),
    "bf": ("circle:0,0,8", "circle", ((0, 0), 8)),
    "adf": ("annulus:0.5,-0.5,10,26.5", "annulus", ((0.5, -0.5), (10, 26.5))),
    "rect": ("rectangle:-20.4,-10.5,3.5,22.2", "rectangle", (-20.4, -10.5, 3.5, 22.2)),
}
CONFIGS = {  # name: (detectors, our flags, py4DSTEM keywords)
    "corner": (ABSOLUTE, [], {}),
    "relative": (RELATIVE, ["--relative-to-origin"], {"centered": True}),
    "shift": (RELATIVE, ["--relative-to-origin", "--shift-center"], {"centered": True, "shift_center": True}),
    "subpixel": (RELATIVE, ["--relative-to-origin", "--shift-center", "--subpixel"],
                 {"centered": True, "shift_center": True, "subpixel": True}),
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_virtual_images_every_mode_match_py4dstem(cli, crystal, config):
    detectors, flags, kw = CONFIGS[config]
    out = crystal["dir"] / f"vi_{config}"
    args = [f"{n}={spec}" for n, (spec, _, _) in detectors.items()] + [f"mask=mask:{crystal['dir'] / 'mask.png'}"]
    cli("virtual", crystal["file"], "--out", out, *sum((["--detector", a] for a in args), []), *flags,
        "--origin", crystal["truth"], "--quiet")
    dc = _datacube(crystal["file"], crystal["origin"])
    cases = {n: (mode, g, kw) for n, (_, mode, g) in detectors.items()}
    cases["mask"] = ("mask", crystal["mask"], {k: v for k, v in kw.items() if k != "centered"})
    for name, (mode, geometry, kwargs) in cases.items():
        ref = dc.get_virtual_image(mode=mode, geometry=geometry, verbose=False, **kwargs).data
        ours = _read(out / "virtual.h5", f"virtual/{name}")
        assert ours.shape == ref.shape == (9, 11)
        assert np.max(ref) > 0, name
        assert _rel(ours, ref) <= RTOL, f"{config} {name}: relative difference {_rel(ours, ref):.2e}"
    assert (out / "bf.png").exists() and (out / "mask.png").exists()
    # py4DSTEM opens our result file too.
    bf = py4DSTEM.read(str(out / "virtual.h5"), datapath="virtual/bf")
    assert type(bf).__name__ == "RealSlice"
    np.testing.assert_array_equal(np.asarray(bf.data), _read(out / "virtual.h5", "virtual/bf"))


def _calibrate_detector(src, dst, pixel_size, units):
    """A copy of an EMD file whose root calibration says the detector is in `units`."""
    import shutil
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        g = f["datacube_root/metadatabundle/calibration"]
        g["Q_pixel_size"][()] = pixel_size
        attrs = dict(g["Q_pixel_units"].attrs)
        del g["Q_pixel_units"]
        g.create_dataset("Q_pixel_units", data=units, dtype=h5py.string_dtype())
        g["Q_pixel_units"].attrs.update(attrs)


def test_calibrated_geometry_matches_py4dstem(cli, crystal, tmp_path):
    _calibrate_detector(crystal["file"], tmp_path / "r.h5", 0.01, "A^-1")
    dets = {"bf": ("circle:0.3,0.35,0.1", "circle", ((0.3, 0.35), 0.1)),
            "adf": ("annulus:0.31,0.4,0.12,0.3", "annulus", ((0.31, 0.4), (0.12, 0.3))),
            "rect": ("rectangle:0.05,0.2,0.1,0.45", "rectangle", (0.05, 0.2, 0.1, 0.45)),
            "pt": ("point:0.305,0.417", "point", (0.305, 0.417))}
    args = sum((["--detector", f"{n}={s}"] for n, (s, _, _) in dets.items()), [])
    cli("virtual", tmp_path / "r.h5", "--out", tmp_path / "v", "--units", "A^-1", *args, "--quiet")
    dc = _datacube(tmp_path / "r.h5")
    assert dc.calibration.get_Q_pixel_units() == "A^-1"
    for name, (_, mode, g) in dets.items():
        ref = dc.get_virtual_image(mode=mode, geometry=g, calibrated=True, verbose=False).data
        ours = _read(tmp_path / "v" / "virtual.h5", f"virtual/{name}")
        assert _rel(ours, ref) <= RTOL, name
    # Relative to the origin and calibrated: we convert units first, then add the origin in pixels.
    # (py4DSTEM adds the origin before dividing by the pixel size, so give it the pixel geometry.)
    cli("virtual", tmp_path / "r.h5", "--out", tmp_path / "w", "--units", "A^-1", "--relative-to-origin",
        "--detector", "adf=annulus:0.01,-0.02,0.12,0.3", "--quiet")
    ref = dc.get_virtual_image(mode="annulus", geometry=((1, -2), (12, 30)), centered=True, verbose=False).data
    assert _rel(_read(tmp_path / "w" / "virtual.h5", "virtual/adf"), ref) <= RTOL
    # Units that are not the file's: refused, naming both.
    bad = cli("virtual", tmp_path / "r.h5", "--out", tmp_path / "x", "--units", "mrad", "--detector",
              "circle:1,1,1", check=False)
    assert bad.returncode == 2 and "mrad" in bad.stderr and "A^-1" in bad.stderr


def test_virtual_diffraction_matches_py4dstem(cli, crystal):
    d = crystal["dir"]
    rng = np.random.default_rng(5)
    sel = (rng.random((9, 11)) > 0.4).astype(np.uint8)
    w = rng.random((9, 11)) * 2 - 0.3
    py4DSTEM.save(str(d / "sel.h5"), py4DSTEM.RealSlice(data=sel, name="sel"), mode="o")
    py4DSTEM.save(str(d / "w.h5"), py4DSTEM.RealSlice(data=w, name="w"), mode="o")
    runs = {
        "all": ([], {}),
        "select": (["--select", f"{d / 'sel.h5'}:sel_root/sel"], {"mask": sel.astype(bool)}),
        "weights": (["--weights", f"{d / 'w.h5'}:w_root/w"], {"mask": w}),
    }
    dc = _datacube(crystal["file"], crystal["origin"])
    for name, (flags, kw) in runs.items():
        out = d / f"vd_{name}"
        cli("virtual", crystal["file"], "--out", out, "--diffraction", "mean,max,median", *flags, "--quiet")
        for method in ("mean", "max", "median"):
            ref = dc.get_virtual_diffraction(method=method, verbose=False, **kw).data
            ours = _read(out / "virtual.h5", f"virtual/{method}_diffraction")
            assert ours.shape == (60, 72)
            assert _rel(ours, ref) <= RTOL, f"{name} {method}: {_rel(ours, ref):.2e}"
    for method in ("mean", "max", "median"):  # the named shortcuts agree too
        ref = getattr(dc, f"get_dp_{method}")(returncalc=True).data
        assert _rel(_read(d / "vd_all" / "virtual.h5", f"virtual/{method}_diffraction"), ref) <= RTOL
    # Origin-shifted mean and max: integer roll and Fourier shift.
    for sub in (False, True):
        out = d / f"vd_shift_{sub}"
        cli("virtual", crystal["file"], "--out", out, "--diffraction", "mean,max", "--shift-center",
            *(["--subpixel"] if sub else []), "--origin", crystal["truth"], "--quiet")
        for method in ("mean", "max"):
            ref = dc.get_virtual_diffraction(method=method, shift_center=True, subpixel=sub, verbose=False).data
            assert _rel(_read(out / "virtual.h5", f"virtual/{method}_diffraction"), ref) <= RTOL, (sub, method)
    # A median that does not fit half the budget takes several passes and gives the same result.
    out = d / "vd_median_small"
    cli("--memory", "300K", "virtual", crystal["file"], "--out", out, "--diffraction", "median", "--quiet")
    ref = dc.get_dp_median(returncalc=True).data
    assert _rel(_read(out / "virtual.h5", "virtual/median_diffraction"), ref) <= RTOL


def _com_reference(dc, mask=None):
    """py4DSTEM's get_CoM on every pattern (float64): its (xCoM, yCoM) = our (com_y, com_x)."""
    from py4DSTEM.process.utils import get_CoM
    ry, rx = dc.data.shape[:2]
    cy = np.empty((ry, rx))
    cx = np.empty((ry, rx))
    for i in range(ry):
        for j in range(rx):
            dp = dc.data[i, j].astype(float)
            cy[i, j], cx[i, j] = get_CoM(dp * mask if mask is not None else dp)
    return cx, cy


def test_center_of_mass_matches_py4dstem(cli, crystal):
    d = crystal["dir"]
    dc = _datacube(crystal["file"], crystal["origin"])
    cli("com", crystal["file"], "--out", d / "com", "--quiet")
    cx, cy = _com_reference(dc)
    ox, oy = _read(d / "com" / "com.h5", "com/com_x"), _read(d / "com" / "com.h5", "com/com_y")
    assert np.max(np.abs(ox - cx)) < COM_TOL_PX and np.max(np.abs(oy - cy)) < COM_TOL_PX
    # The DPC class computes the same CoM (float32): its com_measured_x is our com_y.
    dpc = py4DSTEM.process.phase.DPC(datacube=dc, energy=300e3, verbose=False)
    dpc.preprocess(plot_rotation=False, plot_center_of_mass=None)
    assert np.max(np.abs(oy - np.asarray(dpc._com_measured_x))) < COM_TOL_PX
    assert np.max(np.abs(ox - np.asarray(dpc._com_measured_y))) < COM_TOL_PX
    # Inside a circular mask centred on the mean origin, relative to the per-position origin.
    cli("com", crystal["file"], "--out", d / "com_mask", "--mask", "circle:0.5,-1,12", "--relative-to-origin",
        "--origin", crystal["truth"], "--quiet")
    oy0, ox0 = crystal["origin"]
    qy, qx = np.mgrid[0:60, 0:72]
    mask = ((qy - oy0.mean() - 0.5) ** 2 + (qx - ox0.mean() + 1) ** 2 < 144).astype(float)
    cx, cy = _com_reference(dc, mask)
    mx = _read(d / "com_mask" / "com.h5", "com/com_x")
    my = _read(d / "com_mask" / "com.h5", "com/com_y")
    assert np.max(np.abs(mx - (cx - ox0))) < COM_TOL_PX
    assert np.max(np.abs(my - (cy - oy0))) < COM_TOL_PX


def _phase_object_scan(theta_deg, flip, H=36, W=40, F=48):
    """Gaussian probe images displaced by the gradient of a known phase, rotated into the detector by
    -theta (and flipped), so the detector-to-scan rotation is theta in our convention."""
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    phi = np.zeros((H, W))
    gx = np.zeros((H, W))
    gy = np.zeros((H, W))
    for by, bx, a, s in [(0.3 * H, 0.35 * W, 1.0, 4.0), (0.62 * H, 0.6 * W, -0.7, 5.5), (0.4 * H, 0.75 * W, 0.5, 3.0)]:
        e = a * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * s * s))
        phi += e
        gx += -(xx - bx) / s ** 2 * e
        gy += -(yy - by) / s ** 2 * e
    t = np.deg2rad(-theta_deg)
    dx = 3.0 * (np.cos(t) * gx - np.sin(t) * gy)
    dy = 3.0 * (np.sin(t) * gx + np.cos(t) * gy)
    if flip:
        dx, dy = dy, dx
    qy, qx = np.mgrid[0:F, 0:F].astype(float)
    data = np.empty((H, W, F, F), np.float32)
    for i in range(H):
        for j in range(W):
            data[i, j] = 1000 * np.exp(-((qx - 23.6 - dx[i, j]) ** 2 + (qy - 24.2 - dy[i, j]) ** 2) / 18.0)
    return data, phi


@pytest.mark.parametrize("theta_deg,flip", [(23.0, False), (-47.0, True)])
def test_dpc_rotation_matches_py4dstem_and_truth(cli, tmp_path, theta_deg, flip):
    data, phi = _phase_object_scan(theta_deg, flip)
    raw = tmp_path / "p.raw"
    data.tofile(raw)
    shape = ",".join(map(str, data.shape))
    cli("com", raw, "--raw-shape", shape, "--dtype", "float32", "--out", tmp_path / "c", "--dpc", "--quiet")
    with h5py.File(tmp_path / "c" / "com.h5", "r") as f:
        md = f["com/metadatabundle/dpc"]
        ours_deg = float(md["rotation_deg"][()])
        ours_flip = bool(md["flip"][()])
        phase = f["com/idpc_phase/data"][()]
    assert abs(ours_deg - theta_deg) < 0.5
    assert ours_flip == flip
    dpc = py4DSTEM.process.phase.DPC(datacube=py4DSTEM.DataCube(data=data), energy=300e3, verbose=False)
    dpc.preprocess(plot_rotation=False, plot_center_of_mass=None)
    theirs_deg = float(np.rad2deg(dpc._rotation_best_rad))
    assert bool(dpc._rotation_best_transpose) == ours_flip
    # py4DSTEM searches a 1 degree grid; its angle is minus ours (modulo 180).
    assert abs(((theirs_deg + ours_deg) + 90) % 180 - 90) <= 1.0
    # The integrated phase is the known phase up to a constant and the plane the background removed.
    A = np.c_[np.ones(phi.size), np.indices(phi.shape).reshape(2, -1).T]
    resid = lambda p: p.ravel() - A @ np.linalg.lstsq(A, p.ravel(), rcond=None)[0]
    assert np.corrcoef(resid(phase), resid(phi))[0, 1] > 0.98
