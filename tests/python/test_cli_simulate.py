"""scandiff simulate / demo end to end: files, ground truth, reproducibility, numpy and py4DSTEM as oracles."""
import json
import struct

import h5py
import numpy as np
import pytest


def _datacube(path):
    with h5py.File(path, "r") as f:
        return f["datacube_root/datacube/data"][()]


def test_simulate_emd_and_raw_are_identical_and_reproducible(cli, tmp_path):
    args = ["--scan", "6,5", "--frame", "64,64", "--g1", "12,2", "--g2", "-3,11", "--disk-radius", "3", "--seed", "7"]
    cli("simulate", tmp_path / "a.h5", *args, "--quiet")
    cli("simulate", tmp_path / "b.raw", *args, "--quiet")
    cli("simulate", tmp_path / "c.h5", *args[:-1], "8", "--quiet")
    a = _datacube(tmp_path / "a.h5")
    assert a.shape == (6, 5, 64, 64) and a.dtype == np.uint16
    b = np.fromfile(tmp_path / "b.raw", dtype="<u2").reshape(6, 5, 64, 64)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, _datacube(tmp_path / "c.h5"))
    assert a.sum() > 0
    truth = json.loads((tmp_path / "a_truth.json").read_text())
    assert truth["shape"] == [6, 5, 64, 64] and truth["dtype"] == "uint16"
    with h5py.File(tmp_path / "a_truth.h5", "r") as f:
        names = set(f["truth_root"].keys())
        assert {"origin_qx", "origin_qy", "exx", "eyy", "exy"} <= names, names
        assert f["truth_root/exx/data"].shape == (6, 5)
    # No temporary files are left behind.
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_simulate_info_roundtrip(cli, tmp_path):
    cli("simulate", tmp_path / "s.h5", "--scan", "3,4", "--frame", "32,48", "--dtype", "float32", "--quiet")
    out = json.loads(cli("info", tmp_path / "s.h5", "--json").stdout)
    assert out["shape"] == {"ry": 3, "rx": 4, "qy": 32, "qx": 48}
    assert out["dtype"] == "float32"
    assert "simulation" in out["metadata"]


def test_simulate_bad_parameters(cli, tmp_path):
    p = cli("simulate", tmp_path / "x.h5", "--disk-radius", "-1", check=False)
    assert p.returncode == 2 and "disk" in p.stderr
    p = cli("simulate", tmp_path / "x.txt", check=False)
    assert p.returncode == 2 and "x.txt" in p.stderr
    p = cli("simulate", tmp_path / "missing" / "x.h5", check=False)
    assert p.returncode == 3
    assert not (tmp_path / "x.h5").exists()


def _png_size(path):
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", raw[16:24])
    return height, width


def test_demo_outputs_match_numpy(cli, tmp_path):
    out = tmp_path / "demo"
    proc = cli("demo", "--out", out, "--scan", "12", "--frame", "64")
    assert "demo.h5" in proc.stdout
    for name in ("mean_diffraction", "bright_field", "annular_dark_field", "dark_field_200"):
        assert (out / f"{name}.png").exists()
    assert _png_size(out / "mean_diffraction.png") == (64, 64)
    assert _png_size(out / "bright_field.png") == (12, 12)
    with h5py.File(out / "demo.h5", "r") as f:
        cube = f["datacube_root/datacube/data"][()].astype(np.float64)
        mean = f["datacube_root/mean_diffraction/data"][()]
        bf = f["datacube_root/bright_field/data"][()]
        adf = f["datacube_root/annular_dark_field/data"][()]
    np.testing.assert_allclose(mean, cube.mean(axis=(0, 1)), rtol=1e-12)
    assert bf.shape == (12, 12) and adf.shape == (12, 12)
    # The detectors are circles around the frame centre: recompute them with numpy.
    qy, qx = np.mgrid[0:64, 0:64]
    sim = json.loads((out / "demo_truth.json").read_text())["parameters"]
    assert sim is not None
    d2 = (qy - 31.5) ** 2 + (qx - 31.5) ** 2
    r = 4 * 64 / 128
    np.testing.assert_allclose(bf, (cube * (d2 < (r + 2) ** 2)).sum(axis=(2, 3)), rtol=1e-12)
    np.testing.assert_allclose(adf, (cube * ((d2 > (r + 4) ** 2) & (d2 < (0.48 * 64) ** 2))).sum(axis=(2, 3)), rtol=1e-12)
    assert bf.min() > 0 and adf.min() > 0
    with h5py.File(out / "demo.h5", "r") as f:
        df = f["datacube_root/dark_field_200/data"][()]
    g1 = np.array([22.0, 4.0]) * 64 / 128  # (qx, qy) of g1 at this detector size
    d2 = (qy - 31.5 - 2 * g1[1]) ** 2 + (qx - 31.5 - 2 * g1[0]) ** 2
    np.testing.assert_allclose(df, (cube * (d2 < r**2)).sum(axis=(2, 3)), rtol=1e-12)
    # The strained inclusion in the scan centre moves the (2,0) disk out of the aperture.
    assert df[5:7, 5:7].mean() < 0.9 * df[0:2, 0:2].mean()


def test_quiet_is_silent(cli, tmp_path):
    proc = cli("--quiet", "simulate", tmp_path / "q.h5", "--scan", "2,2", "--frame", "32,32")
    assert proc.stderr == "" and proc.stdout == ""


def test_py4dstem_reads_our_emd(cli, tmp_path):
    py4DSTEM = pytest.importorskip("py4DSTEM", reason="py4DSTEM is not installed (pip install py4DSTEM)")
    cli("simulate", tmp_path / "p.h5", "--scan", "4,3", "--frame", "32,40", "--quiet")
    ours = _datacube(tmp_path / "p.h5")
    dc = py4DSTEM.read(str(tmp_path / "p.h5"), datapath="datacube_root/datacube")
    assert type(dc).__name__ == "DataCube"
    np.testing.assert_array_equal(np.asarray(dc.data), ours)
    assert dc.calibration.get_R_pixel_size() == 1
    assert dc.calibration.get_Q_pixel_units() == "pixels"
    # The demo file: the datacube and the results, all readable.
    cli("demo", "--out", tmp_path / "d", "--scan", "8", "--frame", "64", "--quiet")
    dc = py4DSTEM.read(str(tmp_path / "d" / "demo.h5"), datapath="datacube_root/datacube")
    assert np.asarray(dc.data).shape == (8, 8, 64, 64)
    bf = py4DSTEM.read(str(tmp_path / "d" / "demo.h5"), datapath="datacube_root/bright_field")
    assert np.asarray(bf.data).shape == (8, 8)
    mean = py4DSTEM.read(str(tmp_path / "d" / "demo.h5"), datapath="datacube_root/mean_diffraction")
    assert np.asarray(mean.data).shape == (64, 64)


def test_simulate_gold_rings(cli, tmp_path):
    """Powder rings: the file and its truth are written, and the ring radii are (1/d)/pixel size."""
    cli("simulate", tmp_path / "au.h5", "--kind", "rings", "--scan", "1,2", "--frame", "128,128",
        "--pixel-size", "0.02", "--noise", "none", "--quiet")
    truth = json.loads((tmp_path / "au_truth.json").read_text())["parameters"]
    rings = truth["rings"]
    assert rings["label"][:3] == ["111", "200", "220"]
    for d, r in zip(rings["d_A"], rings["radius_px"]):
        assert abs(r - (1 / d) / 0.02) < 1e-9
    cube = _datacube(tmp_path / "au.h5").astype(float)
    frame = cube[0, 0]
    # Azimuthal profile around the centre peaks at the (111) radius.
    qy, qx = np.mgrid[0:128, 0:128]
    radius = np.hypot(qy - 63.5, qx - 63.5)
    profile = np.bincount(radius.astype(int).ravel(), frame.ravel()) / np.bincount(radius.astype(int).ravel())
    r111 = rings["radius_px"][0]
    assert abs(np.argmax(profile[5:60]) + 5 - r111) <= 1.0
