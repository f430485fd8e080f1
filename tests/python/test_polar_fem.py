"""`scandiff polar` against a direct numpy computation of the documented transform
(docs/polar.md) and against py4DSTEM's PolarDatacube radial statistics / local FEM (skipped
when py4DSTEM is missing); `calibrate ellipse` and `calibrate pixel-size` on simulated gold
rings with a known ellipse and pixel size."""
import json

import h5py
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

ORIGIN = (45.3, 50.6)  # (qy, qx) pixels
ELLIPSE = (1.05, 25.0)  # a/b, degrees from +qx toward +qy


@pytest.fixture(scope="module")
def rings(tmp_path_factory, cli):
    d = tmp_path_factory.mktemp("polar")
    path = d / "rings.h5"
    cli("simulate", path, "--kind", "rings", "--scan", "2,3", "--frame", "96,100", "--pixel-size", "0.016",
        "--ellipse", f"{ELLIPSE[0]},{ELLIPSE[1]}", "--dose", "30", "--seed", "3", "--quiet")
    out = d / "polar"
    cli("polar", path, "--out", out, "--origin", f"{ORIGIN[0]},{ORIGIN[1]}",
        "--ellipse", f"{ELLIPSE[0]},1,{ELLIPSE[1]}", "--quiet")
    with h5py.File(path, "r") as f:
        data = f["datacube_root/datacube/data"][()]
    res = {}
    with h5py.File(out / "polar.h5", "r") as f:
        for name in ["azimuthal_mean", "azimuthal_var", "radial_mean", "radial_var", "radial_var_norm",
                     "local_var_norm"]:
            res[name] = f[f"polar_root/{name}/data"][()]
    return data, res, out


def numpy_polar(frame, origin, ratio, theta, n_annular=180, qstep=1.0):
    """The transform as docs/polar.md states it, written directly in numpy."""
    ny, nx = frame.shape
    qy, qx = np.mgrid[0:ny, 0:nx].astype(float)
    dx, dy = qx - origin[1], qy - origin[0]
    xc = dx * np.cos(theta) + dy * np.sin(theta)
    yc = (dy * np.cos(theta) - dx * np.sin(theta)) * ratio
    r = np.hypot(xc, yc) / ratio
    phi = np.mod(np.arctan2(yc, xc) + theta, 2 * np.pi)
    radii = np.arange(0, min(ny, nx) / np.sqrt(2), qstep)
    nr, dphi = len(radii), 2 * np.pi / n_annular
    ri, ti = r / qstep, phi / dphi
    r0, t0 = np.floor(ri).astype(int), np.floor(ti).astype(int)
    dr, dt = ri - r0, ti - t0

    def splat(values):
        acc = np.zeros((n_annular, nr))
        for rr, wr in ((r0, 1 - dr), (r0 + 1, dr)):
            for tt, wt in ((t0 % n_annular, 1 - dt), ((t0 + 1) % n_annular, dt)):
                ok = (rr >= 0) & (rr < nr)
                np.add.at(acc, (tt[ok], rr[ok]), (values * wr * wt)[ok])
        sigma = 0.5 / (dphi * (radii + qstep / 2))
        for j in np.nonzero(sigma > 0.1669)[0]:
            acc[:, j] = gaussian_filter1d(acc[:, j], sigma[j], mode="wrap")
        return acc

    norm = splat(np.ones_like(frame, dtype=float))
    density = 1 / (dphi * (radii + qstep / 2))
    bad = norm * density[None] < 0.1
    out = np.where(bad, np.nan, splat(frame.astype(float)) / np.where(bad, 1, norm))
    return out


def test_matches_numpy_transform(rings):
    data, res, _ = rings
    theta = np.deg2rad(ELLIPSE[1])
    for ry in range(data.shape[0]):
        for rx in range(data.shape[1]):
            p = numpy_polar(data[ry, rx], ORIGIN, ELLIPSE[0], theta)
            with np.errstate(invalid="ignore"):
                mean = np.nanmean(p, axis=0)
                var = np.nanmean((p - mean[None]) ** 2, axis=0)
            np.testing.assert_allclose(res["azimuthal_mean"][ry, rx], mean, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(res["azimuthal_var"][ry, rx], var, rtol=1e-8, atol=1e-10)
    m = res["azimuthal_mean"].reshape(-1, res["azimuthal_mean"].shape[-1])
    np.testing.assert_allclose(res["radial_mean"], m.mean(0), rtol=1e-12)
    np.testing.assert_allclose(res["radial_var"], ((m - m.mean(0)) ** 2).mean(0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["radial_var_norm"], res["radial_var"] / res["radial_mean"] ** 2, rtol=1e-12)
    v = res["azimuthal_var"].reshape(m.shape)
    np.testing.assert_allclose(res["local_var_norm"], (v / m**2).mean(0), rtol=1e-9)


def test_matches_py4dstem(rings):
    py4DSTEM = pytest.importorskip("py4DSTEM")
    data, res, _ = rings
    dc = py4DSTEM.DataCube(data=data.astype(float))
    # py4DSTEM's first detector axis is our qy: its origin is (qy0, qx0) and its ellipse angle
    # is measured from qy, so theta_py = pi/2 - theta.
    dc.calibration.set_origin(ORIGIN)
    dc.calibration.set_p_ellipse((ORIGIN[0], ORIGIN[1], ELLIPSE[0], 1.0, np.pi / 2 - np.deg2rad(ELLIPSE[1])))
    pdc = py4DSTEM.process.polar.PolarDatacube(dc, n_annular=180)
    mean, var, var_norm = pdc.calculate_radial_statistics(returnval=True, progress_bar=False)
    ours = res["azimuthal_mean"]
    assert pdc.radial_all.shape == ours.shape
    ok = np.isfinite(ours)
    np.testing.assert_allclose(ours[ok], pdc.radial_all[ok], rtol=1e-8, atol=1e-10)
    fin = np.isfinite(res["radial_mean"])
    np.testing.assert_allclose(res["radial_mean"][fin], mean[fin], rtol=1e-8)
    np.testing.assert_allclose(res["radial_var"][fin], var[fin], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res["radial_var_norm"][fin], var_norm[fin], rtol=1e-6, atol=1e-12)
    pdc.calculate_FEM_local(progress_bar=False)
    np.testing.assert_allclose(res["azimuthal_var"][ok], np.asarray(pdc.local_radial_var)[ok], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("ratio,angle,pixel_size", [(1.04, 20.0, 0.008), (1.02, -55.0, 0.009)])
def test_calibrate_ellipse_and_pixel_size(cli, tmp_path, ratio, angle, pixel_size):
    path = tmp_path / "au.h5"
    cli("simulate", path, "--kind", "rings", "--scan", "2,2", "--frame", "256,256", "--pixel-size", pixel_size,
        "--ellipse", f"{ratio},{angle}", "--dose", "20", "--quiet")
    R220 = (1 / 1.44186144) / pixel_size  # the (220) ring's radius = b
    cli("calibrate", "ellipse", path, "--annulus", f"{R220 - 6},{R220 * ratio + 6}", "--out", tmp_path / "e",
        "--quiet")
    e = json.loads((tmp_path / "e/ellipse.json").read_text())["ellipse"]
    assert e["b_px"] == pytest.approx(R220, rel=0.002)
    assert e["a_px"] == pytest.approx(R220 * ratio, rel=0.002)
    d = (e["theta_deg"] - angle + 90) % 180 - 90
    assert abs(d) < 0.1
    au = tmp_path / "Au.D"
    au.write_text("# Calibrant: Gold (Au)\n2.35454987 # (1, 1, 1) 8\n2.03910000 # (2, 0, 0) 6\n"
                  "1.44186144 # (2, 2, 0) 12\n1.22962357 # (3, 1, 1) 24\n1.17727493 # (2, 2, 2) 8\n"
                  "1.01955000 # (4, 0, 0) 6\n0.93560325 # (3, 3, 1) 24\n0.91191324 # (4, 2, 0) 24\n")
    cli("calibrate", "pixel-size", path, "--calibrant", au, "--calibration", tmp_path / "e/ellipse.json",
        "--out", tmp_path / "p", "--quiet")
    p = json.loads((tmp_path / "p/pixel_size.json").read_text())
    assert p["reciprocal_space_pix(1/A)"] == pytest.approx(pixel_size, rel=0.002)
    # The file feeds `polar`: its q axis is then in 1/A.
    cli("polar", path, "--calibration", tmp_path / "p/pixel_size.json", "--out", tmp_path / "q", "--quiet")
    first = (tmp_path / "q/fem.txt").read_text().splitlines()[1]
    assert "q_A^-1" in first


def test_epsic_json_is_read(cli, rings, tmp_path):
    data, res, _ = rings
    # epsic/py4DSTEM p_ellipse: (x0 = qy, y0 = qx, a, b, theta from qy).
    doc = {"reciprocal_space_pix(1/A)": 0.016,
           "p_ellipse": [ORIGIN[0], ORIGIN[1], ELLIPSE[0], 1.0, np.pi / 2 - np.deg2rad(ELLIPSE[1])],
           "nominal_camera_length(m)": 0.2}
    cal = tmp_path / "epsic.json"
    cal.write_text(json.dumps(doc))
    src = tmp_path / "rings.h5"
    cli("simulate", src, "--kind", "rings", "--scan", "2,3", "--frame", "96,100", "--pixel-size", "0.016",
        "--ellipse", f"{ELLIPSE[0]},{ELLIPSE[1]}", "--dose", "30", "--seed", "3", "--quiet")
    cli("polar", src, "--calibration", cal, "--out", tmp_path / "o", "--quiet")
    with h5py.File(tmp_path / "o/polar.h5", "r") as f:
        np.testing.assert_allclose(f["polar_root/azimuthal_mean/data"][()], res["azimuthal_mean"], rtol=1e-9,
                                   equal_nan=True)


def test_bad_options_exit_2(cli, rings, tmp_path):
    _, _, out = rings
    proc = cli("polar", out.parent / "rings.h5", "--out", tmp_path / "x", "--qstep", "0", check=False)
    assert proc.returncode == 2 and "qstep" in proc.stderr
    proc = cli("calibrate", "pixel-size", out.parent / "rings.h5", "--calibrant", tmp_path / "missing.D",
               "--out", tmp_path / "y", check=False)
    assert proc.returncode == 3
