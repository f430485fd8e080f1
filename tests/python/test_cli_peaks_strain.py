"""scandiff peaks / strain end to end: strain maps against the simulator's truth, the vacuum-probe
template from a scan region, PNG outputs, and clear errors (exit code 2) for bad input."""
import h5py
import numpy as np
import pytest


@pytest.fixture(scope="module")
def strained(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("strain")
    cli("simulate", d / "s.h5", "--scan", "10,12", "--frame", "128,128", "--exx", "0.01", "--eyy", "-0.004",
        "--dose", "20", "--seed", "4", "--quiet")
    cli("peaks", d / "s.h5", "--out", d / "p", "--synthetic-probe", "4,1", "--min-spacing", "10", "--edge", "6",
        "--quiet")
    return d


def test_strain_maps_match_truth(cli, strained):
    d = strained
    out = d / "st"
    # Reference: the unstrained corner (the bump is centred), so strain is absolute there.
    cli("strain", d / "p" / "peaks.h5", "--out", out, "--reference-region", "0,2,0,2", "--quiet")
    with h5py.File(out / "strain.h5", "r") as f, h5py.File(d / "s_truth.h5", "r") as t:
        for name in ("exx", "eyy", "exy"):
            ours = f[f"strain/{name}/data"][()]
            truth = t[f"truth_root/{name}/data"][()]
            ref = truth[:2, :2].mean()  # the reference region's own (small) strain
            rms = np.sqrt(np.mean((ours - (truth - ref)) ** 2))
            print(f"{name}: RMS error {rms:.2e}")
            assert rms < 5e-4
    for name in ("exx", "eyy", "exy", "rotation"):
        assert (out / f"{name}.png").stat().st_size > 100


def test_strain_from_scan_equals_strain_from_peaks(cli, strained):
    d = strained
    cli("strain", d / "p" / "peaks.h5", "--out", d / "a", "--quiet")
    cli("strain", d / "s.h5", "--out", d / "b", "--synthetic-probe", "4,1", "--min-spacing", "10", "--edge", "6",
        "--quiet")
    with h5py.File(d / "a" / "strain.h5", "r") as fa, h5py.File(d / "b" / "strain.h5", "r") as fb:
        for name in ("exx", "eyy", "exy", "rotation"):
            np.testing.assert_array_equal(fa[f"strain/{name}/data"][()], fb[f"strain/{name}/data"][()])


def test_peaks_from_vacuum_region_and_lattice_calibration(cli, strained):
    d = strained
    cli("peaks", d / "s.h5", "--out", d / "pv", "--probe-region", "0,1,0,2", "--subpixel", "poly",
        "--min-spacing", "10", "--edge", "6", "--kernel", "logistic", "--quiet")
    with h5py.File(d / "pv" / "peaks.h5", "r") as f:
        assert f["peaks/peak_count/data"][()].min() >= 5
        assert f["peaks/kernel/data"][()].sum() == pytest.approx(0, abs=1e-9)
    proc = cli("strain", d / "pv" / "peaks.h5", "--out", d / "stv", "--lattice-parameter", "4.08",
               "--g1-hkl", "2,0,0", "--g2-hkl", "0,2,0")
    assert "reciprocal pixel size" in proc.stdout


@pytest.mark.parametrize("args, words", [
    (["--upsample", "1"], "upsample_factor"),
    (["--corr-power", "3"], "corr_power"),
    (["--edge", "80"], "edge_boundary"),
    (["--max-peaks", "0"], "max_num_peaks"),
    (["--kernel", "sigmoid_log"], "kernel mode"),
    (["--subpixel", "fourier"], "subpixel"),
])
def test_peaks_bad_parameters(cli, strained, tmp_path, args, words):
    proc = cli("peaks", strained / "s.h5", "--out", tmp_path / "x", "--synthetic-probe", "4,1", *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr


def test_peaks_needs_one_template(cli, strained, tmp_path):
    proc = cli("peaks", strained / "s.h5", "--out", tmp_path / "x", check=False)
    assert proc.returncode == 2 and "--probe-region" in proc.stderr


def test_strain_bad_input(cli, strained, tmp_path):
    # A scan without a template for the detection.
    proc = cli("strain", strained / "s.h5", "--out", tmp_path / "x", check=False)
    assert proc.returncode == 2 and "--probe-region" in proc.stderr
    # Too few peaks per position for a fit.
    proc = cli("strain", strained / "p" / "peaks.h5", "--out", tmp_path / "y", "--min-peaks", "500", check=False)
    assert proc.returncode == 2 and "min-peaks" in proc.stderr
    # Collinear g1, g2.
    proc = cli("strain", strained / "p" / "peaks.h5", "--out", tmp_path / "z", "--g1", "10,0", "--g2", "20,0",
               check=False)
    assert proc.returncode == 2 and "collinear" in proc.stderr
    # No peaks at all: a huge absolute threshold.
    cli("peaks", strained / "s.h5", "--out", tmp_path / "empty", "--synthetic-probe", "4,1",
        "--min-absolute-intensity", "1e30", "--quiet")
    proc = cli("strain", tmp_path / "empty" / "peaks.h5", "--out", tmp_path / "w", check=False)
    assert proc.returncode == 2 and "no peaks" in proc.stderr


def test_fftw_wisdom_is_kept_and_gives_the_same_peaks(cli, strained, tmp_path):
    d = strained
    wisdom = tmp_path / "plans.wisdom"
    args = ["--synthetic-probe", "4,1", "--min-spacing", "10", "--edge", "6", "--subpixel", "multicorr", "--quiet"]
    cli("peaks", d / "s.h5", "--out", tmp_path / "default", *args)
    cli("--fftw-wisdom", wisdom, "peaks", d / "s.h5", "--out", tmp_path / "measured", *args)
    text = wisdom.read_text()
    assert text.startswith("(fftw-3") and "rdft" in text  # the measured 2D real transforms are in it
    proc = cli("--verbose", "--fftw-wisdom", wisdom, "peaks", d / "s.h5", "--out", tmp_path / "again", *args)
    assert f"read FFTW wisdom from {wisdom}" in proc.stderr
    with h5py.File(tmp_path / "default" / "peaks.h5", "r") as fa, \
            h5py.File(tmp_path / "measured" / "peaks.h5", "r") as fb, \
            h5py.File(tmp_path / "again" / "peaks.h5", "r") as fc:
        a, b, c = (f["peaks/braggvectors/_v_uncal/data"][()].ravel() for f in (fa, fb, fc))
    assert sum(len(p) for p in a) > 0
    for pa, pb, pc in zip(a, b, c):
        assert len(pa) == len(pb) == len(pc)
        for name in ("qx", "qy", "intensity"):  # other plans: equal but for the last bits
            np.testing.assert_allclose(pb[name], pa[name], rtol=1e-9, atol=1e-9)
            np.testing.assert_array_equal(pc[name], pb[name])  # the same wisdom: the same bits


def test_fftw_wisdom_that_is_not_wisdom_is_refused(cli, strained, tmp_path):
    bad = tmp_path / "bad.wisdom"
    bad.write_text("not wisdom\n")
    proc = cli("--fftw-wisdom", bad, "peaks", strained / "s.h5", "--out", tmp_path / "p", "--synthetic-probe", "4,1",
               check=False)
    assert proc.returncode == 3
    assert "bad.wisdom" in proc.stderr and "FFTW wisdom" in proc.stderr
    assert bad.read_text() == "not wisdom\n" and not (tmp_path / "p").exists()
