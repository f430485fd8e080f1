"""Crop / thin / bin in R and crop / bin / resample / pad in Q on the command line, end to end:
numpy, scipy and py4DSTEM (bin_R, resample_data_diffraction) as oracles."""
import h5py
import numpy as np
import pytest


@pytest.fixture(scope="module")
def scan(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    cli("simulate", d / "s.h5", "--scan", "7,9", "--frame", "40,48", "--g1", "12,2", "--g2", "-3,11",
        "--disk-radius", "4", "--seed", "3", "--quiet")
    with h5py.File(d / "s.h5", "r") as f:
        data = f["datacube_root/datacube/data"][()]
    return d, data


def _read(path, node):
    with h5py.File(path, "r") as f:
        return f[node + "/data"][()]


def _max_diffraction(cli, d, name, *prep):
    cli("virtual", d / "s.h5", "--out", d / name, "--diffraction", "max", "--quiet", *prep)
    return _read(d / name / "virtual.h5", "virtual/max_diffraction")


def test_bin_r_and_bin_q_sum_without_overflow(cli, scan):
    d, data = scan
    cli("virtual", d / "s.h5", "--out", d / "b", "--detector", "all=rectangle:0,20,0,24", "--bin-r", "2",
        "--bin-q", "2", "--quiet")
    binned = data[:6, :8].astype(np.int64).reshape(3, 2, 4, 2, 40, 48).sum(axis=(1, 3))
    binned = binned.reshape(3, 4, 20, 2, 24, 2).sum(axis=(3, 5))
    np.testing.assert_array_equal(_read(d / "b" / "virtual.h5", "virtual/all"), binned.sum(axis=(2, 3)))


def test_crop_and_thin_r_and_crop_pad_q(cli, scan):
    d, data = scan
    got = _max_diffraction(cli, d, "c", "--crop-r", "1,7,2,9", "--thin-r", "2", "--crop-q", "5,35,4,40",
                           "--pad-q", "1,2,3,4")
    sub = data[1:7:2, 2:9:2, 5:35, 4:40]
    ref = np.pad(sub.max(axis=(0, 1)), ((1, 2), (3, 4)))
    np.testing.assert_array_equal(got, ref)


def test_resample_q_matches_scipy_zoom_as_py4dstem_uses_it(cli, scan):
    scipy_ndimage = pytest.importorskip("scipy.ndimage", reason="scipy not installed: no resampling oracle")
    d, data = scan
    got = _max_diffraction(cli, d, "r", "--resample-q", "0.5")
    ref = np.max([scipy_ndimage.zoom(f.astype(np.float32), 0.5, order=1, mode="nearest", grid_mode=True)
                  for f in data.reshape(-1, 40, 48)], axis=0)
    assert got.shape == (20, 24)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-4)


def test_bin_r_matches_py4dstem(cli, scan):
    py4dstem = pytest.importorskip("py4DSTEM", reason="py4DSTEM not installed: no bin_R oracle")
    d, data = scan
    cli("virtual", d / "s.h5", "--out", d / "p", "--diffraction", "mean", "--bin-r", "3", "--quiet")
    dc = py4dstem.DataCube(data=data[:6, :9].astype(np.float64))
    dc.bin_R(3)
    np.testing.assert_allclose(_read(d / "p" / "virtual.h5", "virtual/mean_diffraction"),
                               dc.data.mean(axis=(0, 1)), rtol=1e-12)


@pytest.mark.parametrize("args,message", [
    (["--bin-r", "8"], "--bin-r"),
    (["--crop-r", "0,9,0,9"], "--crop-r"),
    (["--resample-q", "1000"], "resample_q"),
    (["--crop-q", "0,41,0,48"], "crop_q"),
])
def test_bad_preparation_arguments_exit_2_naming_them(cli, scan, args, message):
    d, _ = scan
    proc = cli("virtual", d / "s.h5", "--out", d / "bad", "--diffraction", "mean", *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
