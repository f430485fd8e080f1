"""scandiff virtual / com end to end without peers: numpy as the oracle, outputs, errors and exit codes."""
import h5py
import numpy as np
import pytest


@pytest.fixture(scope="module")
def scan(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("vc")
    cli("simulate", d / "s.h5", "--scan", "5,6", "--frame", "40,48", "--g1", "12,2", "--g2", "-3,11",
        "--disk-radius", "4", "--descan-rx", "0.3,0.2", "--seed", "2", "--quiet")
    with h5py.File(d / "s.h5", "r") as f:
        data = f["datacube_root/datacube/data"][()]
    return d, data


def _read(path, node):
    with h5py.File(path, "r") as f:
        return f[node + "/data"][()]


def test_virtual_images_and_diffraction_match_numpy(cli, scan):
    d, data = scan
    out = cli("virtual", d / "s.h5", "--out", d / "v", "--detector", "bf=circle:19.5,23.5,6",
              "--detector", "annulus:19.5,23.5,8,18", "--detector", "rectangle:2.5,10.5,3.5,20",
              "--diffraction", "mean,max,median")
    assert "bf annulus_1 rectangle_2 mean_diffraction max_diffraction median_diffraction" in out.stdout
    qy, qx = np.mgrid[0:40, 0:48]
    d2 = (qy - 19.5) ** 2 + (qx - 23.5) ** 2
    masks = {"bf": d2 < 36, "annulus_1": (d2 > 64) & (d2 < 324),
             "rectangle_2": (qy >= 2) & (qy < 10) & (qx >= 4) & (qx < 20)}  # round(2.5) = 2, round(10.5) = 10
    for name, m in masks.items():
        ref = (data.astype(float) * m).sum(axis=(2, 3))
        np.testing.assert_array_equal(_read(d / "v" / "virtual.h5", f"virtual/{name}"), ref)
        assert (d / "v" / f"{name}.png").exists()
    np.testing.assert_allclose(_read(d / "v" / "virtual.h5", "virtual/mean_diffraction"), data.mean(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_array_equal(_read(d / "v" / "virtual.h5", "virtual/max_diffraction"), data.max(axis=(0, 1)))
    np.testing.assert_array_equal(_read(d / "v" / "virtual.h5", "virtual/median_diffraction"), np.median(data, axis=(0, 1)))
    with h5py.File(d / "v" / "virtual.h5", "r") as f:
        prov = f["virtual/bf/metadatabundle/provenance"]
        assert prov["analysis"][()] == b"virtual_image"
        assert prov["detector/radius_px"][()] == 6


def test_com_matches_numpy_and_dpc_writes_rotation(cli, scan):
    d, data = scan
    out = cli("com", d / "s.h5", "--out", d / "c", "--dpc")
    assert "scan rotation" in out.stdout
    qy, qx = np.mgrid[0:40, 0:48]
    total = data.sum(axis=(2, 3)).astype(float)
    np.testing.assert_allclose(_read(d / "c" / "com.h5", "com/com_x"), (data * qx).sum(axis=(2, 3)) / total, atol=1e-9)
    np.testing.assert_allclose(_read(d / "c" / "com.h5", "com/com_y"), (data * qy).sum(axis=(2, 3)) / total, atol=1e-9)
    with h5py.File(d / "c" / "com.h5", "r") as f:
        md = f["com/metadatabundle/dpc"]
        assert -90 <= md["rotation_deg"][()] < 90
        assert md["rotation_deg_py4dstem"][()] == -md["rotation_deg"][()]
        assert f["com/idpc_phase/data"].shape == (5, 6)


@pytest.mark.parametrize("args,message", [
    (["--detector", "circle:1,2"], "--detector"),
    (["--detector", "ring:1,2,3"], "unknown shape"),
    (["--detector", "circle:1,2,3", "--subpixel"], "--subpixel"),
    (["--detector", "circle:1,2,3", "--units", "mrad"], "mrad"),
    (["--detector", "circle:1,2,3", "--origin", "nonsense"], "--origin"),
    (["--detector", "a=circle:1,2,3", "--detector", "a=circle:4,5,3"], "used twice"),
    (["--diffraction", "mode"], "--diffraction"),
    ([], "nothing to compute"),
])
def test_virtual_bad_arguments_exit_2_naming_them(cli, scan, args, message):
    d, _ = scan
    r = cli("virtual", d / "s.h5", "--out", d / "bad", *args, check=False)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr


def test_shift_center_without_maps_warns_and_median_takes_passes(cli, scan):
    d, data = scan
    r = cli("virtual", d / "s.h5", "--out", d / "w", "--detector", "circle:0,0,5", "--relative-to-origin",
            "--shift-center", "--quiet")
    assert "no per-position origin maps" in r.stderr
    r = cli("--memory", "120K", "virtual", d / "s.h5", "--out", d / "m", "--diffraction", "median")
    assert "passes" in r.stdout
    np.testing.assert_array_equal(_read(d / "m" / "virtual.h5", "virtual/median_diffraction"), np.median(data, axis=(0, 1)))
