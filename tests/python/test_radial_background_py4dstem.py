"""The radial background (``peaks --radial-background``, ``sd.radial_background``) against
py4DSTEM 0.14: DataCube.get_radial_bkgrnd / get_radial_bksb_dp image by image, and
find_Bragg_disks(radial_bksb=True) peak by peak, on simulated crystal scans with an amorphous
ring, descan (an origin per position) and with or without an elliptical distortion.

Axis notes: py4DSTEM's first detector axis is our qy, so its origin is (qy0, qx0) and its scan
position (rx, ry) indexes our (ry, rx); the files we write already hold its ellipse angle.
"""
import h5py
import numpy as np
import pytest
from bragg_match import match_peaks

py4DSTEM = pytest.importorskip("py4DSTEM", reason="py4DSTEM is not installed (pip install py4DSTEM): peer checks skipped")

MATCH_PX = 0.1
MIN_MATCHED = 0.99

pytestmark = pytest.mark.filterwarnings("ignore")

# The same polar bins as scandiff's --qmin/--qmax/--qstep/--n-annular/--two-fold, py4DSTEM's
# PolarDatacube parameters and sd.radial_background's. 90 and 45 annular bins are not multiples
# of 4: py4DSTEM's angle bins are then not a permutation of scandiff's `polar` ones.
BINS = {
    "default": ([], {}, {}),
    "coarse": (["--qmin", "2", "--qmax", "60", "--qstep", "1.5", "--n-annular", "90"],
               dict(qmin=2.0, qmax=60.0, qstep=1.5, n_annular=90),
               dict(qmin_px=2.0, qmax_px=60.0, qstep_px=1.5, n_annular=90)),
    "two_fold": (["--two-fold", "--n-annular", "45", "--qstep", "0.7"],
                 dict(two_fold_symmetry=True, n_annular=45, qstep=0.7),
                 dict(two_fold=True, n_annular=45, qstep_px=0.7)),
}


@pytest.fixture(scope="module", params=["ellipse", "circular"])
def scan(cli, tmp_path_factory, request):
    """A Poisson-noisy crystal scan on a strong amorphous ring, with descan."""
    d = tmp_path_factory.mktemp("radial")
    extra = ["--ellipse", "1.04,25"] if request.param == "ellipse" else []
    cli("simulate", d / "c.h5", "--scan", "4,5", "--frame", "96,100", "--g1", "17,3", "--g2", "-4,16",
        "--disk-radius", "4", "--descan-rx", "0.21,0.07", "--descan-ry", "-0.05,0.13", "--amorphous", "40",
        "--dose", "5", "--seed", "11", *extra, "--quiet")
    with h5py.File(d / "c_truth.h5", "r") as f:
        origin = f["truth_root/origin_qy/data"][()], f["truth_root/origin_qx/data"][()]
    return d, origin, request.param == "ellipse"


def _datacube(d, origin, bins):
    dc = py4DSTEM.read(d / "c.h5")
    dc.data = dc.data.astype(np.float64)
    dc.calibration.set_origin(origin)  # py4DSTEM's (qx0, qy0) = our (qy0, qx0) maps
    py4DSTEM.PolarDatacube(dc, **bins)  # attaches itself as dc.polar
    return dc


@pytest.mark.parametrize("bins", list(BINS))
def test_background_images_match_py4dstem(sd, scan, bins):
    d, origin, has_ellipse = scan
    dc = _datacube(d, origin, BINS[bins][1])
    ellipse = sd.open(d / "c.h5").calibration.ellipse if has_ellipse else None
    opts = BINS[bins][2]
    worst_bg = worst_sub = 0.0
    scale = 0.0
    for ry in range(dc.R_Nx):
        for rx in range(dc.R_Ny):
            frame = dc.data[ry, rx]
            o = (origin[0][ry, rx], origin[1][ry, rx])
            ref_bg = dc.get_radial_bkgrnd(ry, rx)
            ref_sub = dc.get_radial_bksb_dp(ry, rx)
            bg = sd.radial_background(frame, o, ellipse, **opts)
            sub = sd.radial_background(frame, o, ellipse, subtract=True, **opts)
            worst_bg = max(worst_bg, np.abs(bg - ref_bg).max())
            worst_sub = max(worst_sub, np.abs(sub - ref_sub).max())
            scale = max(scale, np.abs(ref_bg).max())
    print(f"{bins}/{'ellipse' if has_ellipse else 'circular'}: max |background - py4DSTEM| {worst_bg:.2e} "
          f"(max background {scale:.1f}), subtracted {worst_sub:.2e}")
    assert worst_bg <= 1e-9 * scale
    assert worst_sub <= 1e-9 * scale


def _peaks(cli, d, name, *args):
    out = d / name
    cli("peaks", d / "c.h5", "--out", out, "--synthetic-probe", "4,1.5", "--radial-background", "--origin",
        d / "c_truth.h5", *args, "--quiet")
    return out / "peaks.h5"


@pytest.mark.parametrize("subpixel", ["poly", "multicorr"])
@pytest.mark.parametrize("bins", list(BINS))
def test_find_bragg_disks_radial_bksb_matches_py4dstem(cli, scan, bins, subpixel):
    d, origin, has_ellipse = scan
    args, py_bins, _ = BINS[bins]
    path = _peaks(cli, d, f"{bins}_{subpixel}", "--subpixel", subpixel, "--min-spacing", "8", "--edge", "3",
                  "--sigma-dp", "0.5", *args)
    ours = py4DSTEM.read(path, datapath="peaks/braggvectors")
    kernel = py4DSTEM.read(path, datapath="peaks/kernel").data
    dc = _datacube(d, origin, py_bins)
    ref = dc.find_Bragg_disks(template=kernel, subpixel=subpixel, upsample_factor=16, corrPower=1, sigma_dp=0.5,
                              sigma_cc=2, minRelativeIntensity=0.005, minPeakSpacing=8, edgeBoundary=3,
                              maxNumPeaks=70, radial_bksb=True)
    m = match_peaks(ref, ours, MATCH_PX)
    total, matched, worst, n_ours = m["total"], m["matched"], m["worst"], m["ours"]
    worst_rel_intensity = m["worst_rel_intensity"]
    print(f"{bins}/{subpixel}/{'ellipse' if has_ellipse else 'circular'}: py4DSTEM {total} peaks, ours {n_ours}, "
          f"matched {matched} ({100 * matched / max(total, 1):.1f}%) within {MATCH_PX} px, worst {worst:.2e} px, "
          f"intensity {worst_rel_intensity:.1e} relative")
    assert total >= 100
    assert matched >= MIN_MATCHED * total
    assert abs(n_ours - total) <= (1 - MIN_MATCHED) * total
    assert worst_rel_intensity <= 1e-9


def test_radial_background_options_are_recorded_and_checked(cli, scan):
    d, _, _ = scan
    path = _peaks(cli, d, "recorded", "--subpixel", "pixel", "--qstep", "2", "--n-annular", "60")
    with h5py.File(path, "r") as f:
        prov = f["peaks/peak_count/metadatabundle/provenance"]
        assert prov["radial_background"][()] and prov["radial_ellipse"][()] == scan[2]
        assert prov["radial_qstep_px"][()] == 2 and prov["radial_n_annular"][()] == 60
    bad = cli("peaks", d / "c.h5", "--out", d / "bad", "--synthetic-probe", "4,1.5", "--radial-background",
              "--origin", d / "c_truth.h5", "--qstep", "0", "--quiet", check=False)
    assert bad.returncode != 0 and "qstep" in bad.stderr
    no_origin = cli("peaks", d / "c.h5", "--out", d / "bad2", "--synthetic-probe", "4,1.5", "--radial-background",
                    "--qmin", "70", "--quiet", check=False)
    assert no_origin.returncode != 0 and "radial bins" in no_origin.stderr


def test_python_find_peaks_radial_options_match_cli(sd, cli, scan):
    """sd.find_peaks(radial_background=True, radial_*=...) = peaks --radial-background --q... (the
    file's global origin here)."""
    d, _, _ = scan
    out = d / "cli_global"
    cli("peaks", d / "c.h5", "--out", out, "--synthetic-probe", "4,1.5", "--radial-background", "--subpixel", "poly",
        "--min-spacing", "8", "--edge", "3", "--qmin", "1", "--qstep", "1.5", "--n-annular", "90", "--quiet")
    ref = sd.read_bragg_vectors(out / "peaks.h5")
    res = sd.find_peaks(d / "c.h5", synthetic=(4, 1.5), radial_background=True, subpixel="poly", min_peak_spacing=8,
                        edge_boundary=3, radial_qmin_px=1.0, radial_qstep_px=1.5, radial_n_annular=90)
    ours = res["braggvectors"]
    assert ours.total_peaks == ref.total_peaks > 0
    for ry in range(4):
        for rx in range(5):
            np.testing.assert_array_equal(ours.at(ry, rx), ref.at(ry, rx))
    with pytest.raises(ValueError, match="qstep"):
        sd.find_peaks(d / "c.h5", synthetic=(4, 1.5), radial_background=True, radial_qstep_px=0.0)
