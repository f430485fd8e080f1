"""SXDM from Python: centroid and ROI maps, the hot-pixel stage, the 1-D filters, rocking
curves and alignment of framesets, and sigma clipping along chi — each bit-identical to the CLI
run of the same analysis, and checked against numpy/scipy where the CLI tests do not."""
import json

import h5py
import numpy as np
import pytest

BOX = (5, 4, 75, 60)  # x0, y0, x1, y1


@pytest.fixture(scope="module")
def scan(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("pysxdm")
    cli("simulate", d / "s.h5", "--kind", "sxdm", "--scan", "5,6", "--frame", "64,80", "--dtype", "int32",
        "--noise", "poisson", "--seed", "4", "--quiet")
    return d


def _read(path, node):
    with h5py.File(path, "r") as f:
        return f[node + "/data"][()]


def test_centroid_maps_identical_to_cli(cli, sd, scan):
    x0, y0, x1, y1 = BOX
    cli("sxdm", "centroid", scan / "s.h5", "--out", scan / "c", "--roi", f"{x0},{y0},{x1},{y1}", "--filter",
        "selective", "--filter-distance", "4", "--filter-height", "50", "--hot-pixels", "1,500", "--quiet")
    r = sd.centroid_maps(scan / "s.h5", roi=BOX, filter="selective", filter_distance=4, filter_height=50,
                         hot_pixels=(1, 500), threads=2, progress=False)
    h5 = scan / "c" / "sxdm_centroid.h5"
    for name in ("centroid_x", "centroid_y", "roi_sum"):
        assert np.array_equal(_read(h5, f"sxdm_centroid/{name}"), r[name].data, equal_nan=True), name
    assert r["centroid_x"].data.shape == (5, 6)
    assert np.isfinite(r["centroid_x"].data).all()


def test_roi_maps_identical_to_cli_and_numpy(cli, sd, scan):
    boxes = [(0, 0, 80, 64), (30, 20, 50, 40), (10, 10, 11, 11)]
    cli("sxdm", "roi", scan / "s.h5", "--out", scan / "r", *sum((["--box", ",".join(map(str, b))] for b in boxes), []),
        "--quiet")
    ds = sd.open(scan / "s.h5")
    r = sd.run(ds, [sd.RoiMaps(boxes, names=["all", "peak", "pixel"])], progress=False)
    data = ds.to_numpy().astype(np.float64)
    for k, (name, (x0, y0, x1, y1)) in enumerate(zip(("all", "peak", "pixel"), boxes)):
        assert np.array_equal(_read(scan / "r" / "sxdm_roi.h5", f"sxdm_roi/roi_{k}"), r[name].data), name
        assert np.array_equal(data[:, :, y0:y1, x0:x1].sum(axis=(2, 3)), r[name].data), name


def test_one_pass_with_virtual_images_and_the_hot_pixel_stage(sd, scan):
    ds = sd.open(scan / "s.h5")
    stage = sd.hot_pixel_stage(1, 500)
    r = sd.run(ds, [sd.CentroidMaps(roi=BOX), sd.RoiMaps([BOX]), sd.VirtualImage("rectangle:4,60,5,75", name="box")],
               stages=[stage], progress=False)
    assert np.array_equal(r["roi_0"].data, r["box"].data)  # a ROI box is a rectangle virtual detector
    frames = ds.to_numpy()
    repaired = sd.selective_median(frames[2, 3], half_window=1, height=500)
    assert repaired.dtype == frames.dtype
    x0, y0, x1, y1 = BOX
    assert r["roi_0"].data[2, 3] == repaired[y0:y1, x0:x1].sum()


def test_profile_filters_match_their_definitions():
    import scandiff as sd
    p = np.array([1, 2, 900, 3, 2, 1, 2, -500, 2, 1], dtype=float)
    out = sd.selective_median(p, half_window=2, height=100, with_low=True)
    assert out[2] == 2 and out[7] == 1  # replaced by their window medians: [1,2,900,3,2] -> 2, [1,2,-500,2,1] -> 1
    assert np.array_equal(np.delete(out, [2, 7]), np.delete(p, [2, 7]))
    high_only = sd.selective_median(p, half_window=2, height=100)
    assert high_only[7] == -500
    scipy_signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(1)
    q = rng.normal(size=41)
    for k in (1, 3, 7):
        assert np.array_equal(sd.medfilt(q, k), scipy_signal.medfilt(q, k))
    with pytest.raises(sd.InvalidArgument):
        sd.medfilt(q, 4)


def test_rocking_curve_and_alignment_identical_to_cli(cli, sd, tmp_path):
    from test_sxdm_frameset import BOX as FBOX, SHIFTS, write_frameset  # noqa: PLC0415 (skips without tifffile)
    manifest = write_frameset(tmp_path)
    x0, y0, x1, y1 = FBOX
    box = f"{x0},{y0},{x1},{y1}"
    shifts = sd.align_frameset(manifest, map=f"roi:{box}", upsample=1, write=True, progress=False)
    assert [(s["dy"], s["dx"]) for s in shifts] == [tuple(map(float, s)) for s in SHIFTS]
    assert shifts[0]["reference"] and not shifts[1]["reference"]
    saved = json.loads(manifest.read_text())
    assert (saved["scans"][1]["shift"]["dy"], saved["scans"][1]["shift"]["dx"]) == (1, -2)

    cli("sxdm", "rocking", manifest, "--box", box, "--fov", "3,2,9,8", "--out", tmp_path / "rock", "--quiet")
    c = sd.rocking_curve(manifest, box=FBOX, fov=(3, 2, 9, 8), progress=False)
    with h5py.File(tmp_path / "rock" / "rocking_curve.h5", "r") as f:
        assert np.array_equal(f["sxdm_rocking/rocking_intensity/data"][()], c["intensity"], equal_nan=True)
        assert np.array_equal(f["sxdm_rocking/rocking_theta/data"][()], c["theta"])
        assert np.array_equal(f["sxdm_rocking/roi_map/data"][()], c["roi_map"])
    assert list(c["theta"]) == sorted(c["theta"])
    fit = json.loads((tmp_path / "rock" / "rocking_fit.json").read_text())["fit"]
    assert c["fit"]["ok"] and c["fit"]["centre"] == fit["centre_deg"] and c["fit"]["fwhm"] == fit["fwhm_deg"]
    assert abs(c["fit"]["centre"] - 8.23) < 2e-3


def test_sigma_clip_identical_to_cli(cli, sd, shared_data, tmp_path):
    image = shared_data / "xray/dioptas/CeO2_Pilatus1M.tif"
    poni = shared_data / "xray/dioptas/CeO2_Pilatus1M.poni"
    cli("integrate", image, "--poni", poni, "--npt", "500", "--unit", "2th_deg", "--method", "no",
        "--error-model", "azimuthal", "--sigma-clip", "3", "--max-iter", "4", "--output", tmp_path / "cli.xy",
        "--quiet")
    ai = sd.AzimuthalIntegrator(sd.load_poni(poni))
    r = ai.sigma_clip_ng(sd.read_image(image), npt=500, unit="2th_deg", thres=3, max_iter=4,
                         error_model="azimuthal", method="no", filename=tmp_path / "py.xy")
    assert r.std is not None and r.sigma is not None
    cli_text = [ln for ln in (tmp_path / "cli.xy").read_text().splitlines() if not ln.startswith("#")]
    py_text = [ln for ln in (tmp_path / "py.xy").read_text().splitlines() if not ln.startswith("#")]
    assert cli_text == py_text
    plain = ai.integrate1d(sd.read_image(image), npt=500, unit="2th_deg", method="no")
    assert np.all(r.count <= plain.count) and np.any(r.count < plain.count)  # clipping only removes pixels
