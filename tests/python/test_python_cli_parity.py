"""The Python package and the CLI run the same engine: the same analysis gives bit-identical
results either way (virtual BF/ADF and CoM of a simulated scan; simulate; convert; integrate,
polar, peaks, strain, nmf)."""
import h5py
import numpy as np
import pytest

SIM = ["--scan", "12,10", "--frame", "64,64", "--seed", "7", "--descan-rx", "0.2,0.1"]


def test_virtual_and_com_identical_to_cli(cli, sd, tmp_path):
    data = tmp_path / "scan.h5"
    cli("simulate", data, *SIM, "-q")
    cli("virtual", data, "--out", tmp_path / "v", "--detector", "bf=circle:31.5,31.5,6",
        "--detector", "adf=annulus:31.5,31.5,9,28", "--diffraction", "mean,max", "-q")
    cli("com", data, "--out", tmp_path / "c", "-q")
    ds = sd.open(data)
    r = sd.run(ds, [sd.VirtualImages({"bf": "circle:31.5,31.5,6", "adf": sd.annulus(31.5, 31.5, 9, 28)}),
                    sd.VirtualDiffraction(), sd.CenterOfMass()], threads=2, progress=False)
    with h5py.File(tmp_path / "v" / "virtual.h5", "r") as f:
        for name in ("bf", "adf", "mean_diffraction", "max_diffraction"):
            cli_values = f[f"virtual/{name}/data"][()]
            assert cli_values.dtype == r[name].data.dtype
            assert np.array_equal(cli_values, r[name].data), name
    with h5py.File(tmp_path / "c" / "com.h5", "r") as f:
        for name in ("com_x", "com_y"):
            assert np.array_equal(f[f"com/{name}/data"][()], r[name].data, equal_nan=True), name


def test_simulate_and_convert_identical_to_cli(cli, sd, tmp_path):
    cli("simulate", tmp_path / "cli.h5", *SIM, "-q")
    sd.simulate(tmp_path / "py.h5", scan=(12, 10), frame=(64, 64), seed=7, descan_rx=(0.2, 0.1), progress=False)
    with h5py.File(tmp_path / "cli.h5", "r") as a, h5py.File(tmp_path / "py.h5", "r") as b:
        assert np.array_equal(a["datacube_root/datacube/data"][()], b["datacube_root/datacube/data"][()])
    with h5py.File(tmp_path / "cli_truth.h5", "r") as a, h5py.File(tmp_path / "py_truth.h5", "r") as b:
        assert np.array_equal(a["truth_root/origin_qx/data"][()], b["truth_root/origin_qx/data"][()])
    cli("convert", tmp_path / "cli.h5", tmp_path / "cli_conv.h5", "-q")
    sd.convert(tmp_path / "cli.h5", tmp_path / "py_conv.h5", progress=False)
    with h5py.File(tmp_path / "cli_conv.h5", "r") as a, h5py.File(tmp_path / "py_conv.h5", "r") as b:
        for node in ("datacube", "mean_diffraction", "max_diffraction", "total_intensity"):
            assert np.array_equal(a[f"datacube_root/{node}/data"][()], b[f"datacube_root/{node}/data"][()]), node


def test_demo_identical_to_cli(cli, sd, tmp_path):
    cli("demo", "--out", tmp_path / "cli", "--scan", "8", "--frame", "64", "-q")
    results = sd.demo(tmp_path / "py", scan=8, frame=64, progress=False)
    with h5py.File(tmp_path / "cli" / "demo.h5", "r") as a, h5py.File(tmp_path / "py" / "demo.h5", "r") as b:
        for node in ("datacube", "mean_diffraction", "bright_field", "annular_dark_field", "dark_field_200"):
            assert np.array_equal(a[f"datacube_root/{node}/data"][()], b[f"datacube_root/{node}/data"][()]), node
    assert results["dark_field_200"].data.shape == (8, 8)
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == sorted(p.name for p in (tmp_path / "py").iterdir())


# -- the analyses bound later: integrate, polar, peaks, strain, nmf ----------------------------

def test_integrate_identical_to_cli(cli, sd, tmp_path):
    """One image (TIFF) in 1D and 2D, with mask, dark, polarization and errors: the same numbers
    (EMD output) and the same .xy / .dat bytes; and --scan against AzimuthalProfiles in run()."""
    tifffile = pytest.importorskip("tifffile")
    rng = np.random.default_rng(5)
    image = rng.poisson(50, (60, 70)).astype(np.int32)
    dark = np.full((60, 70), 2, np.int32)
    mask = np.zeros((60, 70), np.uint8)
    mask[10:14, 20:40] = 1
    for name, a in (("img", image), ("dark", dark), ("mask", mask)):
        tifffile.imwrite(tmp_path / f"{name}.tif", a)
    geometry = sd.electron_geometry(0.0251, center=(30.2, 33.7), pixel_size_m=55e-6, camera_length_m=0.3)
    sd.write_poni(tmp_path / "g.poni", geometry)
    opts = ["--poni", tmp_path / "g.poni", "--npt", 80, "--unit", "q_A^-1", "--method", "full", "--polarization",
            0.95, "--error-model", "poisson", "--mask", tmp_path / "mask.tif", "--dark", tmp_path / "dark.tif"]
    cli("integrate", tmp_path / "img.tif", *opts, "-o", tmp_path / "cli.xy", "-q")
    cli("integrate", tmp_path / "img.tif", *opts, "--format", "h5", "-o", tmp_path / "cli1.h5", "-q")
    cli("integrate", tmp_path / "img.tif", *opts, "--npt-azim", 12, "-o", tmp_path / "cli.dat", "-q")
    ai = sd.AzimuthalIntegrator(sd.load_poni(tmp_path / "g.poni"))
    kw = dict(unit="q_A^-1", method="full", polarization_factor=0.95, error_model="poisson",
              mask=sd.read_image(tmp_path / "mask.tif"), dark=dark)
    r1 = ai.integrate1d(image, 80, **kw)
    r1.save(tmp_path / "py.xy", source=str(tmp_path / "img.tif"))
    assert (tmp_path / "py.xy").read_bytes() == (tmp_path / "cli.xy").read_bytes()
    with h5py.File(tmp_path / "cli1.h5", "r") as f:
        for name in ("intensity", "count", "sigma"):
            assert np.array_equal(f[f"azimuthal_integration/{name}/data"][()], getattr(r1, name)), name
    r2 = ai.integrate2d(image, 80, 12, **kw)
    r2.save(tmp_path / "py.dat", source=str(tmp_path / "img.tif"))
    assert (tmp_path / "py.dat").read_bytes() == (tmp_path / "cli.dat").read_bytes()
    intensity, radial, chi = r2
    assert intensity.shape == (12, 80) and radial.shape == (80,) and chi.shape == (12,)

    data = tmp_path / "scan.h5"
    cli("simulate", data, "--kind", "rings", "--scan", "3,4", "--frame", "60,70", "--seed", "2", "-q")
    cli("integrate", data, "--scan", "--poni", tmp_path / "g.poni", "--npt", 50, "-o", tmp_path / "cli_scan.h5", "-q")
    r = sd.run(data, [sd.AzimuthalProfiles(tmp_path / "g.poni", npt=50)], threads=2, progress=False)
    assert r["azimuthal_profiles"].shape == (3, 4, 50) and r["azimuthal_profiles"].axes[2]["units"] == "q_nm^-1"
    with h5py.File(tmp_path / "cli_scan.h5", "r") as f:
        for name in ("azimuthal_profiles", "mean_profile"):
            assert np.array_equal(f[f"azimuthal_integration/{name}/data"][()], r[name].data), name

    # --npt-azim: per-position 2D cakes streamed into an EMD file, the same file from both sides
    cli("integrate", data, "--scan", "--poni", tmp_path / "g.poni", "--npt", 50, "--npt-azim", 16, "--method", "full",
        "-o", tmp_path / "cli_cakes.h5", "-q")
    mean = sd.integrate_scan(data, tmp_path / "g.poni", npt=50, npt_azim=16, method="full",
                             out=tmp_path / "py_cakes.h5", threads=2, progress=False)["mean_cake"]
    with h5py.File(tmp_path / "cli_cakes.h5", "r") as a, h5py.File(tmp_path / "py_cakes.h5", "r") as b:
        for name in ("azimuthal_cakes", "mean_cake"):
            node = f"azimuthal_integration/{name}/data"
            assert np.array_equal(a[node][()], b[node][()]), name
        assert b["azimuthal_integration/azimuthal_cakes/data"].shape == (3, 4, 16, 50)
        assert np.array_equal(a["azimuthal_integration/mean_cake/data"][()], mean.data)


def test_integrate_scan_filters_identical_to_cli(cli, sd, tmp_path):
    """integrate --scan --sigma-clip / --percentile against sd.integrate_scan(sigma_clip=, percentile=):
    the same profiles (and sigma, std, count), the same filter metadata; cakes too."""
    data = tmp_path / "scan.h5"
    cli("simulate", data, "--kind", "rings", "--scan", "3,4", "--frame", "60,70", "--seed", "2", "-q")
    geometry = sd.electron_geometry(0.0251, center=(30.2, 33.7), pixel_size_m=55e-6, camera_length_m=0.3)
    sd.write_poni(tmp_path / "g.poni", geometry)
    cases = [
        (["--sigma-clip", 3, "--max-iter", 4, "--error-model", "azimuthal", "--method", "no"],
         dict(sigma_clip=3, max_iter=4, error_model="azimuthal", method="no")),
        (["--percentile", 50], dict(percentile=50)),
        (["--percentile", "25,75", "--error-model", "poisson", "--method", "full"],
         dict(percentile=(25, 75), error_model="poisson", method="full")),
    ]
    for k, (flags, options) in enumerate(cases):
        cli("integrate", data, "--scan", "--poni", tmp_path / "g.poni", "--npt", 50, *flags,
            "-o", tmp_path / f"cli{k}.h5", "-q")
        r = sd.integrate_scan(data, tmp_path / "g.poni", npt=50, out=tmp_path / f"py{k}.h5", threads=2,
                              progress=False, **options)
        with h5py.File(tmp_path / f"cli{k}.h5", "r") as a, h5py.File(tmp_path / f"py{k}.h5", "r") as b:
            names = [n for n in a["azimuthal_integration"] if n != "metadatabundle"]
            assert sorted(names) == sorted(n for n in b["azimuthal_integration"] if n != "metadatabundle")
            assert sorted(names) == sorted(r)
            for name in names:
                node = f"azimuthal_integration/{name}/data"
                assert np.array_equal(a[node][()], b[node][()]), (k, name)
                assert np.array_equal(a[node][()], r[name].data), (k, name)
            md_a, md_b = a["azimuthal_integration/metadatabundle/integration"], \
                b["azimuthal_integration/metadatabundle/integration"]
            for key in ("filter", "percentile", "sigma_clip_threshold", "max_iter"):
                assert (key in md_a) == (key in md_b), key
                if key in md_a:
                    assert np.array_equal(md_a[key][()], md_b[key][()]), key
        if "sigma_clip" in options:
            assert {"sigma_profiles", "std_profiles", "count_profiles"} <= set(r)

    # 2D cakes with the median, streamed into the same file from both sides
    cli("integrate", data, "--scan", "--poni", tmp_path / "g.poni", "--npt", 40, "--npt-azim", 8, "--percentile",
        50, "-o", tmp_path / "cli_cakes.h5", "-q")
    sd.integrate_scan(data, tmp_path / "g.poni", npt=40, npt_azim=8, percentile=50, out=tmp_path / "py_cakes.h5",
                      progress=False)
    with h5py.File(tmp_path / "cli_cakes.h5", "r") as a, h5py.File(tmp_path / "py_cakes.h5", "r") as b:
        for name in ("azimuthal_cakes", "mean_cake"):
            node = f"azimuthal_integration/{name}/data"
            assert np.array_equal(a[node][()], b[node][()]), name


def test_polar_identical_to_cli(cli, sd, tmp_path):
    data = tmp_path / "rings.h5"
    cli("simulate", data, "--kind", "rings", "--scan", "2,3", "--frame", "64,70", "--ellipse", "1.05,20",
        "--seed", "3", "-q")
    cli("polar", data, "--out", tmp_path / "p", "--origin", "31.5,34.5", "--ellipse", "1.05,1,20", "--qstep", "0.5",
        "--n-annular", "90", "-q")
    ds = sd.open(data).with_calibration(origin_qy_px=31.5, origin_qx_px=34.5)
    r = sd.polar(ds, ellipse=(1.05, 1.0, np.deg2rad(20)), qstep_px=0.5, n_annular=90, threads=1, progress=False)
    with h5py.File(tmp_path / "p" / "polar.h5", "r") as f:
        for name in ("azimuthal_mean", "azimuthal_var", "radial_mean", "radial_var", "radial_var_norm",
                     "local_var_norm"):
            assert np.array_equal(f[f"polar_root/{name}/data"][()], r[name].data, equal_nan=True), name


@pytest.fixture(scope="module")
def crystal(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("crystal")
    cli("simulate", d / "s.h5", "--scan", "6,7", "--frame", "96,96", "--exx", "0.01", "--dose", "20", "--seed", "4",
        "-q")
    return d


PEAKS = ["--synthetic-probe", "4,1", "--min-spacing", "10", "--edge", "6"]
PEAKS_PY = dict(synthetic=(4, 1), min_peak_spacing=10, edge_boundary=6)


def test_peaks_identical_to_cli(cli, sd, crystal):
    d = crystal
    cli("peaks", d / "s.h5", "--out", d / "p", *PEAKS, "-q")
    r = sd.find_peaks(d / "s.h5", **PEAKS_PY, threads=2, progress=False, out=d / "py_peaks.h5")
    ours = r["braggvectors"].arrays()
    theirs = sd.read_bragg_vectors(d / "p" / "peaks.h5").arrays()
    for key in ("qx", "qy", "intensity", "counts"):
        assert np.array_equal(ours[key], theirs[key]), key
    with h5py.File(d / "p" / "peaks.h5", "r") as f:
        for name in ("bragg_vector_map", "peak_count", "kernel"):
            assert np.array_equal(f[f"peaks/{name}/data"][()], np.asarray(r[name])), name
        # py4DSTEM's layout: the vectors of position (0, 0), its qx being our qy (the row)
        v00 = f["peaks/braggvectors/_v_uncal/data"][0, 0]
    assert np.array_equal(v00["qx"], r["braggvectors"].at(0, 0)[:, 1])
    with h5py.File(d / "p" / "peaks.h5", "r") as a, h5py.File(d / "py_peaks.h5", "r") as b:
        for node in ("bragg_vector_map", "peak_count", "probe", "kernel"):
            assert np.array_equal(a[f"peaks/{node}/data"][()], b[f"peaks/{node}/data"][()]), node
        va, vb = a["peaks/braggvectors/_v_uncal/data"][()], b["peaks/braggvectors/_v_uncal/data"][()]
        assert va.shape == vb.shape and all(np.array_equal(x, y) for x, y in zip(va.ravel(), vb.ravel()))


def test_strain_identical_to_cli(cli, sd, crystal):
    d = crystal
    cli("strain", d / "s.h5", "--out", d / "st", *PEAKS, "--reference-region", "0,2,0,2", "-q")
    r = sd.strain(d / "s.h5", reference_region=(0, 2, 0, 2), **PEAKS_PY, progress=False)
    with h5py.File(d / "st" / "strain.h5", "r") as f:
        for name in ("exx", "eyy", "exy", "rotation", "g1x", "g2y", "fit_error", "indexed_peaks"):
            assert np.array_equal(f[f"strain/{name}/data"][()], r[name].data, equal_nan=True), name


def test_nmf_identical_to_cli(cli, sd, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.random((5, 6, 3)) @ rng.random((3, 40)) + 0.01 * rng.random((5, 6, 40))
    axes = [{"name": n, "origin": 0.0, "step": 1.0, "units": "pixels"} for n in ("ry", "rx", "q")]
    sd.save_results(tmp_path / "in.h5", [sd.Result("profiles", x, axes, "", {})])
    cli("nmf", tmp_path / "in.h5", "--datapath", "results/profiles", "--out", tmp_path / "o", "-k", 3, "--pca", 2,
        "--kmeans", 2, "--seed", 3, "-q")
    n = sd.nmf(sd.read_result(tmp_path / "in.h5", "results/profiles"), 3, seed=3)
    p = sd.pca(x, 2)
    k = sd.kmeans(x, 2, seed=3)
    with h5py.File(tmp_path / "o" / "nmf.h5", "r") as f:
        assert np.array_equal(f["nmf/nmf_components/data"][()], n["components"])
        for c in range(3):
            assert np.array_equal(f[f"nmf/nmf_map_{c}/data"][()], n["maps"][c])
        assert np.array_equal(f["nmf/pca_components/data"][()], p["components"])
        assert np.array_equal(f["nmf/pca_score_1/data"][()], p["scores"][1])
        assert np.array_equal(f["nmf/kmeans_labels/data"][()], k["labels"])


def test_convert_hyperspy_compressed_identical_to_cli(cli, sd, tmp_path):
    cli("simulate", tmp_path / "in.h5", *SIM, "-q")
    cli("convert", tmp_path / "in.h5", tmp_path / "cli.hspy", "--chunk", "row", "--compression", "gzip", "-q")
    sd.convert(tmp_path / "in.h5", tmp_path / "py.hspy", chunk="row", compression="gzip", progress=False)
    with h5py.File(tmp_path / "cli.hspy", "r") as a, h5py.File(tmp_path / "py.hspy", "r") as b:
        da, db = a["Experiments/__unnamed__/data"], b["Experiments/__unnamed__/data"]
        assert da.chunks == db.chunks == (1, 10, 64, 64) and db.compression == "gzip"
        assert np.array_equal(da[()], db[()])
    with h5py.File(tmp_path / "cli_summary.h5", "r") as a, h5py.File(tmp_path / "py_summary.h5", "r") as b:
        for node in ("mean_diffraction", "max_diffraction", "total_intensity"):
            assert np.array_equal(a[f"datacube_root/{node}/data"][()], b[f"datacube_root/{node}/data"][()]), node
    sd.convert(tmp_path / "in.h5", tmp_path / "py_emd.h5", chunk="frame", compression="gzip", compression_level=6,
               progress=False)
    with h5py.File(tmp_path / "py_emd.h5", "r") as f:
        d = f["datacube_root/datacube/data"]
        assert d.chunks == (1, 1, 64, 64) and d.compression_opts == 6
    assert np.array_equal(sd.open(tmp_path / "py_emd.h5").to_numpy(), sd.open(tmp_path / "in.h5").to_numpy())


def test_calibrate_ellipse_and_pixel_size_identical_to_cli(cli, sd, tmp_path):
    import json
    data = tmp_path / "au.h5"
    cli("simulate", data, "--kind", "rings", "--scan", "2,2", "--frame", "160,160", "--pixel-size", "0.012",
        "--ellipse", "1.03,30", "--dose", "20", "-q")
    r220 = (1 / 1.44186144) / 0.012
    cli("calibrate", "ellipse", data, "--annulus", f"{r220 - 5},{r220 * 1.03 + 5}", "--out", tmp_path / "e", "-q")
    e = sd.calibrate_ellipse(data, annulus=(r220 - 5, r220 * 1.03 + 5), progress=False)
    doc = json.loads((tmp_path / "e" / "ellipse.json").read_text())
    assert (doc["ellipse"]["a_px"], doc["ellipse"]["b_px"], doc["ellipse"]["theta_rad"]) == e["ellipse"]
    assert (doc["origin"]["qy_px"], doc["origin"]["qx_px"]) == (e["center_qy_px"], e["center_qx_px"])
    (tmp_path / "Au.D").write_text("2.35454987\n2.03910000\n1.44186144\n1.22962357\n1.17727493\n1.01955000\n")
    cli("calibrate", "pixel-size", data, "--calibrant", tmp_path / "Au.D", "--calibration",
        tmp_path / "e" / "ellipse.json", "--out", tmp_path / "p", "-q")
    p = sd.calibrate_pixel_size(sd.open(data).with_calibration(e["calibration"]), tmp_path / "Au.D", progress=False)
    doc = json.loads((tmp_path / "p" / "pixel_size.json").read_text())
    assert doc["reciprocal_space_pix(1/A)"] == p["inv_A_per_px"]
    profile = np.loadtxt(tmp_path / "p" / "profile.txt")
    np.testing.assert_allclose(profile[:, 2], p["profile"][1], rtol=1e-9)  # text: 10 significant digits
