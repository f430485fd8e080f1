"""`integrate --scan` with the per-frame filters (--sigma-clip, --percentile): every position's
profile is the single-image CLI result of that frame (as float32), the filter is recorded in the
EMD metadata, and one frame agrees with pyFAI's sigma_clip_ng / medfilt1d_ng (skipped without pyFAI).
"""
import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

PONI = ("PixelSize1: 1e-4\nPixelSize2: 1e-4\nDistance: 0.05\nPoni1: 0.00481\nPoni2: 0.00473\n"
        "Rot1: 0\nRot2: 0\nRot3: 0\nWavelength: 1e-10\n")
GEOMETRY = ["--unit", "2th_deg", "--npt", 40, "--method", "no", "--polarization", "0.95"]


def median_rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b) & (np.abs(b) > 1e-12 * np.abs(b).max())
    return float(np.median(np.abs(a[keep] - b[keep]) / np.abs(b[keep])))


@pytest.fixture(scope="module")
def zinger_scan(cli, tmp_path_factory):
    """A simulated 3 x 4 scan of rings (96 x 96, uint16) with 1 % zingers, and a .poni for it."""
    folder = tmp_path_factory.mktemp("scanfilter")
    path = folder / "rings.h5"
    cli("simulate", path, "--kind", "rings", "--scan", "3,4", "--frame", "96,96", "--seed", "4", "-q")
    rng = np.random.default_rng(8)
    with h5py.File(path, "r+") as f:
        node = f["datacube_root/datacube/data"]
        frames = node[()]
        frames = frames + rng.poisson(50, frames.shape).astype(frames.dtype)
        frames[rng.random(frames.shape) < 0.01] = 60000
        node[...] = frames
    (folder / "g.poni").write_text(PONI)
    return {"path": path, "poni": folder / "g.poni", "frames": frames, "folder": folder}


def single_images(cli, scan, options, out):
    """Every frame as a TIFF integrated by the single-image CLI (--format h5): {name: (ry, rx, npt)}."""
    tifffile = pytest.importorskip("tifffile")
    frames = scan["frames"]
    sy, sx = frames.shape[:2]
    images = []
    for ry in range(sy):
        for rx in range(sx):
            images.append(scan["folder"] / f"frame_{ry}_{rx}.tif")
            if not images[-1].exists():
                tifffile.imwrite(images[-1], frames[ry, rx])
    out.mkdir()
    cli("integrate", *images, "--poni", scan["poni"], *options, "--format", "h5", "-o", out, "-q")
    found = {}
    for name in ("intensity", "sigma", "std", "count"):
        stack = []
        for image in images:
            with h5py.File(out / f"{image.stem}.h5", "r") as f:
                node = f"azimuthal_integration/{name}/data"
                if node in f:
                    stack.append(f[node][()])
        if stack:
            found[name] = np.array(stack).reshape(sy, sx, -1)
    return found


@pytest.mark.parametrize("filter_options, scan_names", [
    (["--sigma-clip", "3", "--max-iter", "4", "--error-model", "azimuthal"],
     {"azimuthal_profiles": "intensity", "sigma_profiles": "sigma", "std_profiles": "std",
      "count_profiles": "count"}),
    (["--sigma-clip", "2.5", "--error-model", "hybrid"],
     {"azimuthal_profiles": "intensity", "sigma_profiles": "sigma", "std_profiles": "std",
      "count_profiles": "count"}),
    (["--percentile", "50"], {"azimuthal_profiles": "intensity"}),
    (["--percentile", "25,75", "--error-model", "poisson"],
     {"azimuthal_profiles": "intensity", "sigma_profiles": "sigma"}),
])
def test_scan_filter_equals_single_images(cli, zinger_scan, tmp_path, filter_options, scan_names):
    options = [*GEOMETRY, *filter_options]
    cli("--threads", 2, "integrate", zinger_scan["path"], "--scan", "--poni", zinger_scan["poni"], *options,
        "-o", tmp_path / "scan.h5", "-q")
    single = single_images(cli, zinger_scan, options, tmp_path / "single")
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        root = f["azimuthal_integration"]
        names = {k for k in root if "data" in root[k]}
        assert names == {"mean_profile", *scan_names}
        for scan_name, single_name in scan_names.items():
            got = root[f"{scan_name}/data"][()]
            assert got.shape == (3, 4, 40) and got.dtype == np.float32
            assert np.array_equal(got, single[single_name].astype(np.float32)), scan_name
        md = root["metadatabundle/integration"]
        text = md["filter"][()].decode()
        if "--sigma-clip" in filter_options:
            threshold = float(filter_options[filter_options.index("--sigma-clip") + 1])
            assert text.startswith("sigma clipping") and md["sigma_clip_threshold"][()] == threshold
            assert md["max_iter"][()] == (4 if "--max-iter" in filter_options else 5)
        else:
            assert "quantile" in text
            p = [float(v) for v in filter_options[filter_options.index("--percentile") + 1].split(",")]
            assert list(md["percentile"][()]) == (p * 2 if len(p) == 1 else p)


def test_sigma_clip_removes_zingers_from_a_scan(cli, zinger_scan, tmp_path):
    common = ["--scan", "--poni", zinger_scan["poni"], *GEOMETRY, "--error-model", "azimuthal", "-q"]
    cli("integrate", zinger_scan["path"], *common, "-o", tmp_path / "mean.h5")
    cli("integrate", zinger_scan["path"], *common, "--sigma-clip", 3, "-o", tmp_path / "clip.h5")
    cli("integrate", zinger_scan["path"], *common, "--percentile", 50, "-o", tmp_path / "median.h5")
    read = {}
    for name in ("mean", "clip", "median"):
        with h5py.File(tmp_path / f"{name}.h5", "r") as f:
            read[name] = f["azimuthal_integration/azimuthal_profiles/data"][()]
    with h5py.File(tmp_path / "clip.h5", "r") as f:
        count = f["azimuthal_integration/count_profiles/data"][()]
    filled = count > 30
    # 1 % of the pixels at 60000 counts add ~600 to the mean; clipping and the median remove them.
    assert np.median(read["mean"][filled] - read["clip"][filled]) > 300
    assert np.median(np.abs(read["clip"][filled] - read["median"][filled]) / read["median"][filled]) < 0.05


def test_scan_frame_matches_pyfai(cli, zinger_scan, tmp_path):
    """Position (1, 2) of the scan against pyFAI's sigma_clip_ng and medfilt1d_ng of that frame."""
    pyfai = pytest.importorskip("pyFAI")
    frame = zinger_scan["frames"][1, 2]
    ai = pyfai.load(str(zinger_scan["poni"]))
    common = ["--scan", "--poni", zinger_scan["poni"], *GEOMETRY, "-q"]
    cli("integrate", zinger_scan["path"], *common, "--sigma-clip", 3, "--max-iter", 5, "--error-model", "azimuthal",
        "-o", tmp_path / "clip.h5")
    cli("integrate", zinger_scan["path"], *common, "--percentile", 50, "-o", tmp_path / "median.h5")
    with h5py.File(tmp_path / "clip.h5", "r") as f:
        clip = {k: f[f"azimuthal_integration/{k}_profiles/data"][1, 2] for k in ("azimuthal", "std", "count")}
    with h5py.File(tmp_path / "median.h5", "r") as f:
        median = f["azimuthal_integration/azimuthal_profiles/data"][1, 2]
    ref = ai.sigma_clip_ng(frame, 40, unit="2th_deg", method=("no", "csr", "cython"), error_model="azimuthal",
                           thres=3, max_iter=5, polarization_factor=0.95)
    assert median_rel(clip["azimuthal"], ref.intensity) <= 1e-4
    assert median_rel(clip["std"], ref.std) <= 1e-4
    assert median_rel(clip["count"], ref.count) <= 1e-4
    ref = ai.medfilt1d_ng(frame, 40, unit="2th_deg", method=("no", "csr", "cython"), percentile=50,
                          polarization_factor=0.95)
    assert median_rel(median, ref.intensity) <= 1e-4


def test_scan_filter_options_refused(cli, zinger_scan, tmp_path):
    base = ["integrate", zinger_scan["path"], "--scan", "--poni", zinger_scan["poni"], *GEOMETRY,
            "-o", tmp_path / "x.h5"]
    for options, message in ((["--sigma-clip", 3], "error model"),
                             (["--sigma-clip", 3, "--error-model", "poisson", "--max-iter", 5000], "iterations"),
                             (["--percentile", 150], "percentile 150,150: expected values in 0..100"),
                             (["--percentile", 50, "--sigma-clip", 3, "--error-model", "poisson"], "choose one")):
        proc = cli(*base, *options, check=False)
        assert proc.returncode != 0 and message in proc.stderr, (options, proc.stderr)
        assert not (tmp_path / "x.h5").exists()
