"""Values of the analyses bound after the first Python release: azimuthal integration, polar/FEM
and the ring calibrations, Bragg disks and strain, NMF/PCA/k-means, the MDA/Ripple readers,
against numpy, the simulator's truth or the peers (pyFAI, scikit-learn, rosettasciio) when
importable. Python-vs-CLI identity: test_python_cli_parity.py."""
import signal
import threading

import numpy as np
import pytest

AU_D = ("# Calibrant: Gold (Au)\n2.35454987 # (1, 1, 1) 8\n2.03910000 # (2, 0, 0) 6\n1.44186144 # (2, 2, 0) 12\n"
        "1.22962357 # (3, 1, 1) 24\n1.17727493 # (2, 2, 2) 8\n1.01955000 # (4, 0, 0) 6\n"
        "0.93560325 # (3, 3, 1) 24\n0.91191324 # (4, 2, 0) 24\n")


# -- azimuthal integration ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def geometry(sd):
    return sd.electron_geometry(0.0251, center=(40.0, 45.0), pixel_size_m=55e-6, camera_length_m=0.25)


def test_integrate1d_flat_image_and_pyfai_unpacking(sd, geometry):
    ai = sd.AzimuthalIntegrator(geometry)
    image = np.full((80, 90), 7.0, np.float32)
    q, i = ai.integrate1d(image, 50, correct_solid_angle=False, unit="q_A^-1")
    assert q.shape == i.shape == (50,)
    assert np.all(np.diff(q) > 0)
    np.testing.assert_allclose(i, 7.0, rtol=1e-6)  # a flat image integrates to its value everywhere
    r = ai.integrate1d(image, 50, unit="q_A^-1", error_model="poisson", radial_range=(0.1, 0.5))
    assert len(r) == 3 and r.sigma.shape == (50,) and r.unit == "q_A^-1"
    assert r.radial[0] > 0.1 and r.radial[-1] < 0.5
    assert "poni" in r.provenance and r.results()["intensity"].axes[0]["units"] == "q_A^-1"
    # a masked half contributes nothing: the count halves, the mean does not change
    mask = np.zeros(image.shape, bool)
    mask[:, :45] = True
    half = ai.integrate1d(image, 50, correct_solid_angle=False, mask=mask)
    assert np.nansum(half.count) == pytest.approx(0.5 * np.nansum(ai.integrate1d(image, 50).count), rel=0.05)
    np.testing.assert_allclose(half.intensity[half.count > 0], 7.0, rtol=1e-6)
    cake, radial, chi = ai.integrate2d(image, 40, 36, correct_solid_angle=False)
    assert cake.shape == (36, 40) and chi[0] > -180 and chi[-1] < 180
    med = ai.medfilt1d(image, 50, percentile=50, correct_solid_angle=False)
    np.testing.assert_allclose(med.intensity[med.count > 0], 7.0, rtol=1e-6)


def test_integrate1d_matches_pyfai(sd, geometry, tmp_path):
    pyfai = pytest.importorskip("pyFAI")
    geometry.detector = "Detector"  # pyFAI knows its generic detector class, not our electron one
    sd.write_poni(tmp_path / "g.poni", geometry)
    theirs = pyfai.load(str(tmp_path / "g.poni"))
    rng = np.random.default_rng(0)
    image = rng.poisson(100, (80, 90)).astype(np.float32)
    ours = sd.AzimuthalIntegrator(tmp_path / "g.poni").integrate1d(image, 60, unit="2th_deg", polarization_factor=0.9)
    ref = theirs.integrate1d(image, 60, unit="2th_deg", polarization_factor=0.9, method=("bbox", "csr", "cython"))
    np.testing.assert_allclose(ours.radial, ref.radial, rtol=1e-6)
    keep = ref.intensity > 0
    assert np.median(np.abs(ours.intensity[keep] / ref.intensity[keep] - 1)) < 1e-4


def test_azimuthal_profiles_in_one_pass_with_other_analyses(sd, geometry):
    ds = sd.simulate(kind="rings", scan=(3, 4), frame=(80, 90), seed=1)
    r = sd.run(ds, [sd.AzimuthalProfiles(geometry, npt=30, unit="r_mm"), sd.VirtualDiffraction()], progress=False)
    profiles = r["azimuthal_profiles"]
    assert profiles.shape == (3, 4, 30) and profiles.dtype == np.float32
    assert profiles.axes[2]["units"] == "r_mm"
    # the profile of the mean pattern is the mean of the profiles (integration is linear)
    mean = sd.AzimuthalIntegrator(geometry).integrate1d(r["mean_diffraction"].data, 30, unit="r_mm")
    np.testing.assert_allclose(r["mean_profile"].data, mean.intensity, rtol=1e-5, atol=1e-6)


# -- polar transform, FEM, ring calibrations ---------------------------------------------------

def test_polar_transform_of_a_flat_image_and_fem_of_a_flat_scan(sd):
    image = np.full((64, 60), 3.0)
    p = sd.polar_transform(image, (31.5, 29.5), n_annular=72)
    assert p.shape[0] == 72
    assert np.allclose(p[np.isfinite(p)], 3.0)
    r = sd.polar(np.full((2, 3, 64, 60), 3.0), threads=1, progress=False)  # origin: the frame centre
    assert r["azimuthal_mean"].shape[:2] == (2, 3)
    m = r["radial_mean"].data
    assert np.allclose(m[np.isfinite(m)], 3.0)
    v = r["radial_var_norm"].data
    assert np.allclose(v[np.isfinite(v)], 0.0, atol=1e-20)


def test_detector_mask_from_thresholds_and_file(sd, tmp_path):
    tifffile = pytest.importorskip("tifffile")
    frames = np.ones((1, 2, 8, 9), np.float32)
    frames[:, :, 2, 3] = -1   # a gap
    frames[:, :, 5, 5] = 1e6  # a hot pixel
    file_mask = np.zeros((8, 9), np.uint8)
    file_mask[0, 0] = 7
    tifffile.imwrite(tmp_path / "m.tif", file_mask)
    m = sd.detector_mask(frames, tmp_path / "m.tif", below=-0.5, above=1e5)
    assert m.dtype == np.uint8 and m.sum() == 3 and m[2, 3] == m[5, 5] == m[0, 0] == 1
    assert sd.detector_mask() is None


def test_calibrate_ellipse_and_pixel_size(sd, tmp_path):
    ratio, angle, pixel_size = 1.04, 20.0, 0.008
    ds = sd.simulate(kind="rings", scan=(2, 2), frame=(256, 256), pixel_size=pixel_size, ellipse=(ratio, angle),
                     dose=20, seed=1)
    r220 = (1 / 1.44186144) / pixel_size
    e = sd.calibrate_ellipse(ds, annulus=(r220 - 6, r220 * ratio + 6), progress=False)
    a, b, theta = e["ellipse"]
    assert b == pytest.approx(r220, rel=0.002) and a == pytest.approx(r220 * ratio, rel=0.002)
    assert abs((np.rad2deg(theta) - angle + 90) % 180 - 90) < 0.1
    (tmp_path / "Au.D").write_text(AU_D)
    assert sd.read_calibrant(tmp_path / "Au.D")[0] == "Gold (Au)"
    p = sd.calibrate_pixel_size(ds.with_calibration(e["calibration"]), tmp_path / "Au.D", progress=False)
    assert p["inv_A_per_px"] == pytest.approx(pixel_size, rel=0.002)
    assert p["calibration"].detector_units == "A^-1" and len(p["matches"]) >= 4


# -- Bragg disks and strain --------------------------------------------------------------------

def test_find_bragg_disks_on_one_frame(sd):
    ny, nx = 96, 96
    yy, xx = np.mgrid[0:ny, 0:nx]
    truth = [(30.0, 40.0), (60.5, 50.0), (45.0, 70.25)]  # (qy, qx)
    frame = sum(1000 * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 8) for y, x in truth)
    kernel, radius = sd.probe_kernel(sd.synthetic_probe(3, 1, (ny, nx)))
    assert radius == pytest.approx(3, abs=0.5) and abs(kernel.sum()) < 1e-9
    peaks = sd.find_bragg_disks(frame, kernel, min_peak_spacing=10, edge_boundary=6)
    assert peaks.shape == (3, 3)
    found = sorted((round(qy, 1), round(qx, 1)) for qx, qy, _ in peaks)
    for (y, x), (fy, fx) in zip(sorted(truth), found):
        assert abs(fy - y) < 0.2 and abs(fx - x) < 0.2


def test_strain_matches_the_simulator_truth(sd):
    ds = sd.simulate(scan=(6, 7), frame=(96, 96), exx=0.01, eyy=-0.004, dose=20, seed=4)
    r = sd.run(ds, [sd.BraggDisks(sd.probe_kernel(sd.synthetic_probe(4, 1, ds.frame_shape))[0],
                                  min_peak_spacing=10, edge_boundary=6)], progress=False)
    v = r["braggvectors"]
    assert v.scan_shape == (6, 7) and v.total_peaks == r["peak_count"].data.sum()
    assert v.at(2, 3).shape[1] == 3
    s = sd.strain(v, calibration=ds.calibration, reference_region=(0, 2, 0, 2), lattice_parameter=4.08,
                  g1_hkl=(2, 0, 0), g2_hkl=(0, 2, 0))
    ref, g = s["reference"], 2 / 4.08  # |g_200| in 1/A
    expected = (g / np.hypot(ref.g1x, ref.g1y) + g / np.hypot(ref.g2x, ref.g2y)) / 2
    assert s["reciprocal_pixel_size_inv_A"] == pytest.approx(expected, rel=1e-12)
    truth = sd.ground_truth(ds)
    for name in ("exx", "eyy", "exy"):
        t = truth[name].data
        err = s[name].data - (t - t[:2, :2].mean())
        assert np.sqrt(np.mean(err ** 2)) < 5e-4, name
    # the flat arrays give the same vectors back
    a = v.arrays()
    w = sd.BraggVectors(6, 7, 96, 96, a["counts"], a["qx"], a["qy"], a["intensity"])
    assert np.array_equal(w.at(5, 6), v.at(5, 6))


# -- factorisations and readers ----------------------------------------------------------------

def planted(ry=6, rx=5, k=3, n=30, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.random((k, n))
    w = rng.random((ry * rx, k)) ** 4
    return (w @ h).reshape(ry, rx, n), w, h


def test_nmf_pca_kmeans_values(sd):
    x, _, _ = planted()
    r = sd.nmf(x, 3, max_iter=500, tol=0)
    assert r["maps"].shape == (3, 6, 5) and r["components"].shape == (3, 30)
    assert r["reconstruction_error"] < 0.05 * np.linalg.norm(x)
    assert np.allclose(np.einsum("kyx,kn->yxn", r["maps"], r["components"]), x, atol=0.1)
    p = sd.pca(x, 2)
    s = np.linalg.svd(x.reshape(30, 30) - x.reshape(30, 30).mean(0), compute_uv=False)
    np.testing.assert_allclose(p["singular_values"], s[:2], rtol=1e-10)
    two = np.concatenate([np.zeros((10, 4)), np.ones((10, 4))]).reshape(4, 5, 4)
    k = sd.kmeans(two + 0.01 * np.random.default_rng(1).random(two.shape), 2)
    labels = k["labels"].ravel()
    assert len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1 and labels[0] != labels[10]
    spectra = np.arange(6 * 5 * 8, dtype=np.float64).reshape(6, 5, 8)
    c = sd.edx_class_means(r, spectra, threshold=0.9)
    m0 = c["masks"][0].astype(bool)
    np.testing.assert_allclose(c["means"][0], spectra[m0].mean(axis=0))


def test_nmf_matches_sklearn(sd):
    sklearn = pytest.importorskip("sklearn.decomposition")
    x, _, _ = planted(seed=2)
    ours = sd.nmf(x, 3, solver="cd")
    model = sklearn.NMF(n_components=3, init="nndsvda", solver="cd", max_iter=200, tol=1e-4)
    model.fit_transform(x.reshape(30, -1))
    assert ours["reconstruction_error"] == pytest.approx(model.reconstruction_err_, rel=0.01)


def test_read_ripple_round_trip(sd, tmp_path):
    ripple = pytest.importorskip("rsciio.ripple", reason="rosettasciio writes the Ripple file")
    data = np.random.default_rng(3).integers(0, 100, (4, 5, 16)).astype(np.uint16)
    axes = [{"name": "y", "size": 4, "offset": 0.0, "scale": 2.0, "units": "nm", "navigate": True},
            {"name": "x", "size": 5, "offset": 0.0, "scale": 2.0, "units": "nm", "navigate": True},
            {"name": "Energy", "size": 16, "offset": -0.1, "scale": 0.01, "units": "keV", "navigate": False}]
    md = {"General": {"title": "edx", "date": "", "time": ""}, "Signal": {"signal_type": "EDS_TEM"},
          "Acquisition_instrument": {"TEM": {"beam_energy": 200.0, "Detector": {"EDS": {
              "energy_resolution_MnKa": 130.0, "elevation_angle": 20.0, "azimuth_angle": 0.0, "live_time": 1.0}}}}}
    ripple.file_writer(str(tmp_path / "m.rpl"), {"data": data, "axes": axes, "metadata": md, "original_metadata": {}})
    r = sd.read_ripple(tmp_path / "m.rpl")
    assert np.array_equal(r.data, data)
    assert sd.info(tmp_path / "m.rpl")["shape"] == (4, 5, 16)
    assert r.axes[2]["units"] == "keV" and r.axes[2]["step"] == pytest.approx(0.01)


def test_read_mda_scan_294(sd, shared_data):
    mda = shared_data / "sxdm" / "294.mda"
    if not mda.exists():
        pytest.skip(f"{mda} not found")
    f = sd.read_mda(mda)
    assert f["dimensions"] == (34, 27) and f["scan_number"] == 294
    assert sd.info(mda)["format"] == "APS MDA"
    outer, inner = f["dims"]
    assert outer["positioners"][0]["units"] == "\u00b5m"
    frames = next(d for d in inner["detectors"] if d["name"] == "QMPX3:TIFF1:FileNumber_RBV")
    assert frames["data"].shape == (34, 27)
    assert (frames["data"].min(), frames["data"].max()) == (176194, 177111)


def test_read_image_and_calibrate_xray_as_the_cli(sd, cli, shared_data, tmp_path):
    folder = shared_data / "xray"
    tif, poni, calibrant = folder / "dioptas/CeO2_Pilatus1M.tif", folder / "dioptas/CeO2_Pilatus1M.poni", \
        folder / "calibrants/CeO2.D"
    if not tif.exists() or not calibrant.exists():
        pytest.skip(f"{tif} or {calibrant} not found")
    image = sd.read_image(tif)
    assert image.ndim == 2
    start = sd.load_poni(poni)
    start.distance_m *= 1.01
    sd.write_poni(tmp_path / "start.poni", start)
    r = sd.calibrate_xray(image, calibrant, start, flip_ud=True, out=tmp_path / "py.poni")
    assert r["geometry"].distance_m == pytest.approx(sd.load_poni(poni).distance_m, rel=1e-3)
    cli("calibrate", "xray", tif, "--calibrant", calibrant, "--poni", tmp_path / "start.poni", "--flip-ud",
        "-o", tmp_path / "cli.poni")
    assert (tmp_path / "py.poni").read_bytes() == (tmp_path / "cli.poni").read_bytes()


# -- Ctrl-C in a long analysis leaves nothing behind --------------------------------------------

def test_ctrl_c_stops_disk_detection_and_writes_nothing(sd, tmp_path):
    ds = sd.simulate(scan=(64, 64), frame=(128, 128), seed=1)  # far longer than the interrupt delay
    kernel = sd.probe_kernel(sd.synthetic_probe(4, 1, ds.frame_shape))[0]
    out = tmp_path / "copy.h5"
    timer = threading.Timer(0.5, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sd.run(ds, [sd.BraggDisks(kernel, min_peak_spacing=10, edge_boundary=6), sd.WriteEMD(out),
                        sd.Polar(), sd.AzimuthalProfiles(sd.electron_geometry(0.0251, (64, 64), k_per_pixel=0.01))],
                   threads=2, progress=False)
    finally:
        timer.cancel()
    assert list(tmp_path.iterdir()) == []
