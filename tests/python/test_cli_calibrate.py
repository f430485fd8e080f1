"""scandiff calibrate origin / probe / bad-pixels end to end: simulated descan ground truth,
py4DSTEM (pip) as the peer oracle, real Merlin vacuum probes read with numpy.

Axis mapping: py4DSTEM's DataCube is the same C-order array (Rx, Ry, Qx, Qy) = our (ry, rx, qy, qx);
its "qx0" (first detector index, the row) is our origin_qy and its "qy0" our origin_qx.
"""
import json

import h5py
import numpy as np
import pytest

SIM = ["--scan", "12,10", "--frame", "96,96", "--g1", "22,4", "--g2", "-6,20", "--disk-radius", "5",
       "--descan-rx", "0.05,-0.02", "--descan-ry", "0.01,0.04", "--amorphous", "3", "--seed", "3", "--quiet"]


def _py4dstem():
    try:
        import py4DSTEM  # noqa: F401
    except Exception as e:  # pragma: no cover - depends on the environment
        pytest.skip(f"py4DSTEM is not importable ({e}); the peer comparison needs it (pip install py4DSTEM)")
    return py4DSTEM


def _maps(path, *names):
    with h5py.File(path, "r") as f:
        return [f[f"origin_root/{n}/data"][()] for n in names]


def _truth(path):
    with h5py.File(path, "r") as f:
        return f["truth_root/origin_qy/data"][()], f["truth_root/origin_qx/data"][()]


@pytest.fixture(scope="module")
def scan(tmp_path_factory, cli):
    d = tmp_path_factory.mktemp("calibrate")
    cli("simulate", d / "s.h5", *SIM)
    return d


@pytest.mark.parametrize("model", ["plane", "parabola", "bezier"])
def test_fitted_origin_matches_descan_truth(cli, scan, model):
    out = scan / f"out_{model}"
    cli("calibrate", "origin", scan / "s.h5", "--out", out, "--radius", "5", "--fit", model, "--quiet")
    qy, qx, fy, fx = _maps(out / "origin.h5", "origin_qy_measured", "origin_qx_measured", "origin_qy_fit",
                           "origin_qx_fit")
    ty, tx = _truth(scan / "s_truth.h5")
    assert qy.shape == (12, 10)
    measured = np.sqrt(np.mean((qy - ty) ** 2 + (qx - tx) ** 2))
    fitted = np.sqrt(np.mean((fy - ty) ** 2 + (fx - tx) ** 2))
    assert measured < 0.1, measured
    assert fitted < 0.05, fitted
    for name in ("origin_qy_measured", "origin_qx_fit"):
        assert (out / f"{name}.png").stat().st_size > 100
    # The root calibration carries the fitted maps as py4DSTEM's qx0 (rows) / qy0 (columns).
    with h5py.File(out / "origin.h5", "r") as f:
        cal = f["origin_root/metadatabundle/calibration"]
        np.testing.assert_array_equal(cal["qx0"][()], fy)
        np.testing.assert_array_equal(cal["qy0"][()], fx)
        assert cal["qx0_mean"][()] == pytest.approx(fy.mean())


def test_origin_matches_py4dstem_get_origin(cli, scan):
    py4DSTEM = _py4dstem()
    from py4DSTEM.process.calibration.origin import get_origin

    out = scan / "out_peer"
    cli("calibrate", "origin", scan / "s.h5", "--out", out, "--radius", "5", "--quiet")
    qy, qx = _maps(out / "origin.h5", "origin_qy_measured", "origin_qx_measured")
    dc = py4DSTEM.read(str(scan / "s.h5"), datapath="datacube_root/datacube")
    # float64: scipy's gaussian_filter on uint16 input writes uint16, truncating the blurred
    # values after each axis (ties in the argmax); we blur in float64, as py4DSTEM does on floats.
    dc.data = dc.data.astype(np.float64)
    qx0, qy0, _ = get_origin(dc, r=5)
    assert np.abs(qx0 - qy).max() < 0.01, np.abs(qx0 - qy).max()
    assert np.abs(qy0 - qx).max() < 0.01, np.abs(qy0 - qx).max()

    # py4DSTEM reads our calibration: its origin is our fitted map.
    root = py4DSTEM.read(str(out / "origin.h5")).root
    x0, y0 = root.metadata["calibration"].get_origin()
    fy, fx = _maps(out / "origin.h5", "origin_qy_fit", "origin_qx_fit")
    np.testing.assert_allclose(x0, fy, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y0, fx, rtol=0, atol=1e-12)


def test_friedel_origin_matches_py4dstem_and_truth(cli, scan):
    py4DSTEM = _py4dstem()
    from py4DSTEM.process.calibration.origin import get_origin_friedel

    out = scan / "out_friedel"
    cli("calibrate", "origin", scan / "s.h5", "--out", out, "--method", "friedel", "--quiet")
    qy, qx, fy, fx = _maps(out / "origin.h5", "origin_qy_measured", "origin_qx_measured", "origin_qy_fit",
                           "origin_qx_fit")
    ty, tx = _truth(scan / "s_truth.h5")
    assert np.sqrt(np.mean((fy - ty) ** 2 + (fx - tx) ** 2)) < 0.05
    dc = py4DSTEM.read(str(scan / "s.h5"), datapath="datacube_root/datacube")
    qx0, qy0 = get_origin_friedel(dc)  # FFTs promote to float: no integer caveat here
    assert np.abs(qx0 - qy).max() < 0.01, np.abs(qx0 - qy).max()
    assert np.abs(qy0 - qx).max() < 0.01, np.abs(qy0 - qx).max()


def test_default_radius_is_py4dstem_probe_size_of_the_max_pattern(cli, scan):
    _py4dstem()
    from py4DSTEM.process.calibration.probe import get_probe_size

    out = scan / "out_auto"
    cli("calibrate", "origin", scan / "s.h5", "--out", out, "--quiet")
    with h5py.File(out / "origin.h5", "r") as f:
        radius = f["origin_root/metadatabundle/origin_fit/radius_px"][()]
    with h5py.File(scan / "s.h5", "r") as f:
        dp_max = f["datacube_root/datacube/data"][()].max(axis=(0, 1)).astype(np.float64)
    assert radius == pytest.approx(get_probe_size(dp_max)[0], abs=1e-9)


def test_calibrate_origin_bad_parameters(cli, scan, tmp_path):
    p = cli("calibrate", "origin", scan / "s.h5", "--out", tmp_path / "o", "--fit", "cubic", check=False)
    assert p.returncode == 2 and "--fit" in p.stderr
    p = cli("calibrate", "origin", scan / "s.h5", "--out", tmp_path / "o", "--method", "magic", check=False)
    assert p.returncode == 2 and "--method" in p.stderr
    p = cli("calibrate", "origin", scan / "s.h5", "--out", tmp_path / "o", "--radius", "-3", check=False)
    assert p.returncode == 2 and "--radius" in p.stderr
    p = cli("calibrate", "origin", tmp_path / "missing.h5", "--out", tmp_path / "o", check=False)
    assert p.returncode == 3


def _merlin_frame(path):
    raw = path.read_bytes()
    header = int(raw[:64].split(b",")[2])
    return np.frombuffer(raw[header:header + 256 * 256 * 2], ">u2").reshape(256, 256).astype(np.float64)


RAW_MIB = ["--raw-shape", "1,1,256,256", "--dtype", "uint16", "--header-bytes", "384", "--big-endian"]


def test_probe_on_real_merlin_probes(cli, shared_data):
    _py4dstem()
    from py4DSTEM.process.calibration.probe import get_probe_size

    probe = shared_data / "mib" / "merlintools" / "probe_300kV_CL_60mm.mib"
    got = json.loads(cli("calibrate", "probe", probe, *RAW_MIB, "--json").stdout)
    r, x0, y0 = get_probe_size(_merlin_frame(probe))
    assert got["radius_px"] == pytest.approx(r, abs=1e-9)
    assert got["center_qy_px"] == pytest.approx(x0, abs=1e-9)  # py4DSTEM x0 = row
    assert got["center_qx_px"] == pytest.approx(y0, abs=1e-9)

    # The 200 kV probe has a hot pixel at (qy, qx) = (220, 99), brighter than the disk: py4DSTEM
    # on the raw frame measures a one-pixel disk; repaired (set to its 3x3 median, 0) it is ~30 px.
    probe = shared_data / "mib" / "merlintools" / "probe_200kV_CL_100mm.mib"
    frame = _merlin_frame(probe)
    assert np.unravel_index(frame.argmax(), frame.shape) == (220, 99)
    assert get_probe_size(frame)[0] < 1
    bad = json.loads(cli("calibrate", "bad-pixels", probe, *RAW_MIB, "--json", "--quiet").stdout)["bad_pixels"]
    assert [(b["qy"], b["qx"], b["kind"]) for b in bad] == [(220, 99, "hot")]
    got = json.loads(cli("calibrate", "probe", probe, *RAW_MIB, "--repair-bad-pixels", "--json").stdout)
    frame[220, 99] = np.median(frame[219:222, 98:101])
    r, x0, y0 = get_probe_size(frame)
    assert 25 < r < 35
    assert got["radius_px"] == pytest.approx(r, abs=1e-9)
    assert got["center_qy_px"] == pytest.approx(x0, abs=1e-9)
    assert got["center_qx_px"] == pytest.approx(y0, abs=1e-9)
    assert got["bad_pixels_repaired"] == 1


def test_bad_pixels_on_a_clean_simulation(cli, scan):
    got = json.loads(cli("calibrate", "bad-pixels", scan / "s.h5", "--json", "--quiet").stdout)
    assert got["frames"] == 120 and got["bad_pixels"] == []
