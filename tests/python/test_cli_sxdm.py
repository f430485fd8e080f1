"""scandiff sxdm centroid / roi end to end: numpy (and scipy.signal.medfilt) implementations of
sxdm's method as the oracle, the real 26-ID-C frame, errors and exit codes."""
import h5py
import numpy as np
import pytest

BOX = (5, 4, 75, 60)  # x0, y0, x1, y1


@pytest.fixture(scope="module")
def scan(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("sxdm")
    cli("simulate", d / "s.h5", "--kind", "sxdm", "--scan", "6,7", "--frame", "64,80", "--dtype", "int32",
        "--noise", "poisson", "--seed", "3", "--quiet")
    with h5py.File(d / "s.h5", "r") as f:
        data = f["datacube_root/datacube/data"][()]
    return d, data


def _read(path, node):
    with h5py.File(path, "r") as f:
        return f[node + "/data"][()]


def _selective(p, d, height, with_low=True):
    """sxdm's selective rule, written from its description: in place, window clipped at the ends."""
    p = p.astype(float).copy()
    n = len(p)
    for j in range(n):
        m = np.median(p[max(0, j - d):min(n - 1, j + d) + 1])
        if p[j] > m + height or (with_low and p[j] < m - height):
            p[j] = m
    return p


def _segmented_centroid(p, stdev_min):
    p = p.copy()
    if np.std(p) < stdev_min:
        p[p <= np.max(p)] = 0
    else:
        p[p <= np.mean(p)] = 0
    return np.nan if p.sum() == 0 else (np.arange(len(p)) * p).sum() / p.sum()


def _reference(data, filt, stdev_min=35):
    x0, y0, x1, y1 = BOX
    cx = np.empty(data.shape[:2])
    cy = np.empty(data.shape[:2])
    total = np.empty(data.shape[:2])
    for iy in range(data.shape[0]):
        for ix in range(data.shape[1]):
            frame = data[iy, ix, y0:y1, x0:x1].astype(float)
            ptt, pchi = filt(frame.sum(axis=0)), filt(frame.sum(axis=1))
            total[iy, ix] = ptt.sum()
            cx[iy, ix] = x0 + _segmented_centroid(ptt, stdev_min)
            cy[iy, ix] = y0 + _segmented_centroid(pchi, stdev_min)
    return cx, cy, total


def test_centroid_selective_matches_numpy(cli, scan):
    d, data = scan
    out = cli("sxdm", "centroid", d / "s.h5", "--out", d / "c", "--roi", ",".join(map(str, BOX)),
              "--filter", "selective", "--filter-distance", "4", "--filter-height", "500")
    assert "centroid_x centroid_y roi_sum" in out.stdout
    cx, cy, total = _reference(data, lambda p: _selective(p, 4, 500))
    h5 = d / "c" / "sxdm_centroid.h5"
    np.testing.assert_allclose(_read(h5, "sxdm_centroid/centroid_x"), cx, rtol=0, atol=1e-9)
    np.testing.assert_allclose(_read(h5, "sxdm_centroid/centroid_y"), cy, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(_read(h5, "sxdm_centroid/roi_sum"), total)
    assert (d / "c" / "centroid_x.png").exists()


def test_centroid_median_filter_matches_scipy_medfilt(cli, scan):
    signal = pytest.importorskip("scipy.signal")
    d, data = scan
    cli("sxdm", "centroid", d / "s.h5", "--out", d / "m", "--roi", ",".join(map(str, BOX)), "--filter", "median",
        "--filter-distance", "5", "--quiet")
    cx, cy, total = _reference(data, lambda p: signal.medfilt(p, 5))
    h5 = d / "m" / "sxdm_centroid.h5"
    np.testing.assert_allclose(_read(h5, "sxdm_centroid/centroid_x"), cx, rtol=0, atol=1e-9)
    np.testing.assert_allclose(_read(h5, "sxdm_centroid/centroid_y"), cy, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(_read(h5, "sxdm_centroid/roi_sum"), total)


def test_roi_maps_match_numpy(cli, scan):
    d, data = scan
    boxes = [(0, 0, 80, 64), (30, 20, 50, 44), (10, 10, 11, 11)]
    cli("sxdm", "roi", d / "s.h5", "--out", d / "r", *[a for b in boxes for a in ("--box", ",".join(map(str, b)))],
        "--quiet")
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        ref = data[:, :, y0:y1, x0:x1].astype(float).sum(axis=(2, 3))
        np.testing.assert_array_equal(_read(d / "r" / "sxdm_roi.h5", f"sxdm_roi/roi_{k}"), ref)
        assert (d / "r" / f"roi_{k}.png").exists()


def test_hot_pixel_stage_removes_the_simulated_hot_pixels(cli, scan):
    d, data = scan
    with h5py.File(d / "s_truth.h5", "r") as f:
        hot = f["truth_root/hot_pixels/data"][()].astype(int)
    cli("sxdm", "roi", d / "s.h5", "--out", d / "h", "--box", "0,0,80,64", "--hot-pixels", "1,1000", "--quiet")
    full = _read(d / "h" / "sxdm_roi.h5", "sxdm_roi/roi_0")
    raw = data.astype(float).sum(axis=(2, 3))
    assert hot.shape == (4, 2)
    # Each hot pixel reads 100000 counts; after the repair the totals drop by about that much each.
    assert np.all(raw - full > 3.9e5) and np.all(raw - full < 4.0e5)


def test_real_26idc_frame(cli, shared_data, tmp_path):
    tif = shared_data / "sxdm" / "scan_294_img_176194.tif"
    if not tif.exists():
        pytest.skip(f"{tif} not found")
    cli("sxdm", "centroid", tif, "--out", tmp_path / "raw", "--quiet")
    h5 = tmp_path / "raw" / "sxdm_centroid.h5"
    # numpy on the same frame (tifffile): profiles sum(0) / sum(1), values <= mean zeroed.
    assert _read(h5, "sxdm_centroid/centroid_x")[0, 0] == pytest.approx(240.10161662817552, abs=1e-9)
    assert _read(h5, "sxdm_centroid/centroid_y")[0, 0] == pytest.approx(124.23122065727699, abs=1e-9)
    assert _read(h5, "sxdm_centroid/roi_sum")[0, 0] == 2164
    # Two hot pixels make that centroid; repaired, the frame has no signal above stdev_min.
    cli("sxdm", "centroid", tif, "--out", tmp_path / "rep", "--hot-pixels", "1,100", "--quiet")
    assert np.isnan(_read(tmp_path / "rep" / "sxdm_centroid.h5", "sxdm_centroid/centroid_x")[0, 0])


def test_errors_name_the_option(cli, scan):
    d, _ = scan
    bad = cli("sxdm", "roi", d / "s.h5", "--out", d / "e", "--box", "0,0,81,64", check=False)
    assert bad.returncode == 2 and "--box" not in bad.stdout and "x1 <= 80" in bad.stderr
    bad = cli("sxdm", "centroid", d / "s.h5", "--out", d / "e", "--filter", "gauss", check=False)
    assert bad.returncode == 2 and "--filter 'gauss'" in bad.stderr
    bad = cli("sxdm", "centroid", d / "s.h5", "--out", d / "e", "--filter", "median", "--filter-distance", "4",
              check=False)
    assert bad.returncode == 2 and "odd" in bad.stderr
    bad = cli("sxdm", "centroid", d / "s.h5", "--out", d / "e", "--hot-pixels", "1", check=False)
    assert bad.returncode == 2 and "--hot-pixels '1'" in bad.stderr
