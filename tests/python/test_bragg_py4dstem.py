"""scandiff peaks against py4DSTEM's find_Bragg_disks (0.14, CPU) on the same simulated scans, and
py4DSTEM reading the BraggVectors we write.

Both sides get the same kernel (ours, read back from peaks.h5; the kernel itself is compared with
py4DSTEM's get_kernel separately). Axis note: our BraggVectors are written with py4DSTEM's field
names, qx = detector row, so the records compare field by field.
"""
import h5py
import numpy as np
import pytest
from bragg_match import match_peaks

py4DSTEM = pytest.importorskip("py4DSTEM", reason="py4DSTEM is not installed (pip install py4DSTEM): peer checks skipped")

MATCH_PX = 0.1
MIN_MATCHED = 0.99

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module", params=[(96, 100), (95, 101)], ids=["even", "odd"])
def crystal(cli, tmp_path_factory, request):
    """A small Poisson-noisy crystal scan with descan and elliptical distortion."""
    ny, nx = request.param
    d = tmp_path_factory.mktemp("bragg")
    cli("simulate", d / "c.h5", "--scan", "4,5", "--frame", f"{ny},{nx}", "--g1", "17,3", "--g2", "-4,16",
        "--disk-radius", "4", "--descan-rx", "0.21,0.07", "--ellipse", "1.03,20", "--dose", "5", "--seed", "7",
        "--quiet")
    return d


def _peaks(cli, d, name, *args):
    out = d / name
    cli("peaks", d / "c.h5", "--out", out, "--synthetic-probe", "4,1.5", *args, "--quiet")
    return out / "peaks.h5"


PARAMS = {
    "default": dict(args=[], py=dict(corrPower=1, sigma_dp=0, sigma_cc=2, minRelativeIntensity=0.005,
                                     minPeakSpacing=60, edgeBoundary=20, maxNumPeaks=70)),
    "dense": dict(args=["--min-spacing", "8", "--edge", "3", "--max-peaks", "40", "--min-relative-intensity", "0.01"],
                  py=dict(corrPower=1, sigma_dp=0, sigma_cc=2, minRelativeIntensity=0.01, minPeakSpacing=8,
                          edgeBoundary=3, maxNumPeaks=40)),
    "hybrid": dict(args=["--corr-power", "0.6", "--sigma-dp", "0.7", "--sigma-cc", "1", "--min-spacing", "8",
                         "--edge", "5", "--min-absolute-intensity", "1e-3"],
                   py=dict(corrPower=0.6, sigma_dp=0.7, sigma_cc=1, minRelativeIntensity=0.005, minPeakSpacing=8,
                           edgeBoundary=5, maxNumPeaks=70, minAbsoluteIntensity=1e-3)),
}


@pytest.mark.parametrize("subpixel", ["pixel", "poly", "multicorr"])
@pytest.mark.parametrize("params", list(PARAMS))
def test_find_bragg_disks_matches_py4dstem(cli, crystal, subpixel, params):
    p = PARAMS[params]
    path = _peaks(cli, crystal, f"{params}_{subpixel}", "--subpixel", subpixel, *p["args"])
    ours = py4DSTEM.read(path, datapath="peaks/braggvectors")
    kernel = py4DSTEM.read(path, datapath="peaks/kernel").data
    dc = py4DSTEM.read(crystal / "c.h5")
    # scipy blurs uint16 input (sigma_dp) into uint16, truncating; scandiff blurs in float64.
    dc.data = dc.data.astype(np.float64)
    ref = dc.find_Bragg_disks(template=kernel, subpixel=subpixel, upsample_factor=16, **p["py"])
    m = match_peaks(ref, ours, MATCH_PX)
    total, matched, worst, n_ours = m["total"], m["matched"], m["worst"], m["ours"]
    assert total >= 20  # py4DSTEM defaults (60 px spacing) keep about one peak per pattern
    print(f"{params}/{subpixel}: py4DSTEM {total} peaks, ours {n_ours}, matched {matched} within {MATCH_PX} px, "
          f"worst {worst:.2e} px")
    assert matched >= MIN_MATCHED * total
    assert abs(n_ours - total) <= (1 - MIN_MATCHED) * total


def test_braggvectors_file_layout(cli, crystal):
    path = _peaks(cli, crystal, "layout", "--subpixel", "poly", "--min-spacing", "8", "--edge", "3")
    bv = py4DSTEM.read(path, datapath="peaks/braggvectors")
    with h5py.File(crystal / "c.h5", "r") as f:
        shape = next(iter(f.values()))["datacube/data"].shape
    assert tuple(bv.Rshape) == shape[:2] and tuple(bv.Qshape) == shape[2:]
    with h5py.File(path, "r") as f:
        node = f["peaks/braggvectors"]
        assert node.attrs["emd_group_type"] == "custom" and node.attrs["python_class"] == "BraggVectors"
        data = node["_v_uncal/data"]
        assert data.shape == shape[:2]
        assert h5py.check_vlen_dtype(data.dtype).names == ("qx", "qy", "intensity")
        # the vector map is the intensity-weighted histogram of the stored vectors
        bvm = f["peaks/bragg_vector_map/data"][()]
        total = sum(rec["intensity"].sum() for rec in data[()].ravel())
        assert bvm.sum() == pytest.approx(total, rel=1e-9)


@pytest.mark.parametrize("mode", ["flat", "gaussian", "sigmoid"])
def test_kernel_matches_py4dstem(cli, crystal, mode):
    path = _peaks(cli, crystal, f"kernel_{mode}", "--kernel", mode, "--kernel-sigma", "1.7", "--kernel-radii", "4,9",
                  "--subpixel", "pixel")
    with h5py.File(path, "r") as f:
        probe = f["peaks/probe/data"][()]
        ours = f["peaks/kernel/data"][()]
    r, x0, y0 = py4DSTEM.process.calibration.get_probe_size(probe)
    kw = dict(sigma=1.7) if mode == "gaussian" else dict(radii=(4, 9)) if mode == "sigmoid" else {}
    ref = py4DSTEM.Probe(probe).get_kernel(mode=mode, origin=(x0, y0), returncalc=True, **kw)
    assert np.abs(ours - ref).max() <= 1e-9 * np.abs(ref).max()


def test_strain_reads_braggvectors_saved_by_py4dstem(cli, crystal):
    path = _peaks(cli, crystal, "resave", "--subpixel", "poly", "--min-spacing", "8", "--edge", "3")
    bv = py4DSTEM.read(path, datapath="peaks/braggvectors")
    resaved = crystal / "py4dstem_bv.h5"
    py4DSTEM.save(str(resaved), bv, mode="o")
    cli("strain", path, "--out", crystal / "st_ours", "--quiet")
    cli("strain", resaved, "--out", crystal / "st_py", "--quiet")
    with h5py.File(crystal / "st_ours" / "strain.h5", "r") as a, h5py.File(crystal / "st_py" / "strain.h5", "r") as b:
        for name in ("exx", "eyy", "exy", "rotation"):
            np.testing.assert_array_equal(a[f"strain/{name}/data"][()], b[f"strain/{name}/data"][()])


@pytest.mark.parametrize("threshold", ["0.2", "0.5"])
def test_soft_probe_mask_matches_from_vacuum_data(cli, crystal, threshold):
    """--probe-file applies the soft mask (threshold, opening 3, dilation, cos² taper over 12 px)."""
    synthetic = _peaks(cli, crystal, "synthetic_probe", "--subpixel", "pixel")
    with h5py.File(synthetic, "r") as f:
        raw = f["peaks/probe/data"][()]
    raw = raw + 0.3 * (np.indices(raw.shape).sum(axis=0) % 7 == 0)  # stray bright pixels for the opening
    src = crystal / f"probe_{threshold}.h5"
    with h5py.File(synthetic, "r") as f, h5py.File(src, "w") as g:
        for k, v in f.attrs.items():
            g.attrs[k] = v
        f.copy("peaks", g)
        del g["peaks/probe/data"]
        g["peaks/probe/data"] = raw
        g["peaks/probe/data"].attrs["units"] = "counts"
    out = crystal / f"masked_{threshold}"
    cli("peaks", crystal / "c.h5", "--out", out, "--probe-file", f"{src}:peaks/probe", "--probe-threshold", threshold,
        "--subpixel", "pixel", "--quiet")
    with h5py.File(out / "peaks.h5", "r") as f:
        ours = f["peaks/probe/data"][()]
    ref = py4DSTEM.Probe.from_vacuum_data(raw.copy(), threshold=float(threshold)).probe
    assert np.abs(ours - ref).max() <= 1e-12 * np.abs(ref).max()
