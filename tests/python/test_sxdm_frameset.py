"""SXDM framesets end to end: a synthetic frameset of TIFF series (tifffile) with known shifts
between scans and a Gaussian rocking curve in theta; `scandiff info`, `sxdm align`, `sxdm rocking`
and an existing command (`virtual`) reading the manifest through io::open, checked against
numpy. Real data: a manifest over 294.mda names the first frame that is not shipped."""
import csv
import json
import math

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")

ROWS, COLS, FY, FX = 10, 12, 8, 8
SHIFTS = [(0, 0), (1, -2), (-1, 1), (2, 0), (0, 3)]  # (dy, dx): feature at p in scan 0 is at p + shift
THETAS = [8.0, 8.4, 7.8, 8.2, 8.6]  # manifest order is not theta order
CENTRE, SIGMA = 8.23, 0.15
BOX = (4, 3, 6, 5)  # x0, y0, x1, y1: columns 4..5, rows 3..4


def scan_frames(s, shifts=SHIFTS):
    """(ROWS, COLS, FY, FX) uint16 frames of scan s: flat level 10 + s, and a detector spot in
    BOX whose intensity follows a real-space blob at (4.5, 5.5) + shift and a Gaussian in theta."""
    dy, dx = shifts[s]
    r, c = np.mgrid[0:ROWS, 0:COLS]
    blob = np.exp(-((r - 4.5 - dy) ** 2 + (c - 5.5 - dx) ** 2) / 2.0)
    g = math.exp(-((THETAS[s] - CENTRE) ** 2) / (2 * SIGMA**2))
    frames = np.full((ROWS, COLS, FY, FX), 10 + s, dtype=np.float64)
    x0, y0, x1, y1 = BOX
    frames[:, :, y0:y1, x0:x1] += (20000 * g * blob)[:, :, None, None]
    return np.rint(frames).astype(np.uint16)


def write_frameset(tmp_path, shifts=SHIFTS):
    scans = []
    for s in range(len(shifts)):
        frames = scan_frames(s, shifts)
        lines = ["frame,x,y"]
        for r in range(ROWS):
            for c in range(COLS):
                number = 1000 * s + r * COLS + c
                tifffile.imwrite(tmp_path / f"scan{s}_img_{number:06d}.tif", frames[r, c])
                lines.append(f"{number},{10 + 0.05 * c:.3f},{-2 + 0.05 * r:.3f}")
        (tmp_path / f"scan{s}.csv").write_text("\n".join(lines[:1] + lines[:0:-1]) + "\n")  # reversed rows
        scans.append({"name": f"s{s}", "theta": THETAS[s], "positions": f"scan{s}.csv",
                      "images": f"scan{s}_img_{{:06d}}.tif"})
    manifest = tmp_path / "fs.json"
    manifest.write_text(json.dumps({"sxdm_frameset": 1, "name": "synthetic",
                                    "background": {"frames": 3, "multiplier": 1.0}, "scans": scans}, indent=2))
    return manifest


@pytest.fixture
def frameset(tmp_path):
    return write_frameset(tmp_path)


def aligned_roi_maps(shifts):
    """numpy reference: per scan, the background-subtracted box sum at reference positions p,
    read at p + round(shift) (zero out of field), and the coverage mask."""
    x0, y0, x1, y1 = BOX
    out, cover = [], []
    for s in range(len(SHIFTS)):
        f = scan_frames(s).astype(np.float64).reshape(ROWS * COLS, FY, FX)
        bg = np.concatenate([f[:3], f[-3:]]).mean(axis=0)
        roi = (f - bg)[:, y0:y1, x0:x1].sum(axis=(1, 2)).reshape(ROWS, COLS)
        dy, dx = (int(round(v)) for v in shifts[s])
        m = np.zeros((ROWS, COLS))
        k = np.zeros((ROWS, COLS), dtype=bool)
        for r in range(ROWS):
            for c in range(COLS):
                if 0 <= r + dy < ROWS and 0 <= c + dx < COLS:
                    m[r, c] = roi[r + dy, c + dx]
                    k[r, c] = True
        out.append(m)
        cover.append(k)
    return out, cover


def test_info_describes_the_frameset(cli, frameset):
    out = cli("info", frameset).stdout
    assert "sxdm-frameset" in out
    assert "5 scans" in out
    assert f"{ROWS} x {COLS} (ry, rx)" in out
    for s, theta in enumerate(THETAS):
        assert f"s{s}" in out and f"{theta:.5f}" in out
    doc = json.loads(cli("info", frameset, "--json").stdout)
    assert doc["dtype"] == "float32"
    assert [e["frames"] for e in doc["metadata"]["sxdm_frameset"]["scans"].values()] == [ROWS * COLS] * 5


def test_align_recovers_shifts_and_writes_them(cli, frameset):
    x0, y0, x1, y1 = BOX
    cli("sxdm", "align", frameset, "--map", f"roi:{x0},{y0},{x1},{y1}", "--upsample", "1", "--write")
    written = [(e["shift"]["dy"], e["shift"]["dx"]) for e in json.loads(frameset.read_text())["scans"]]
    assert written == SHIFTS
    out = cli("sxdm", "align", frameset, "--map", "sum", "--upsample", "20", "--write").stdout
    assert "reference" in out
    fine = [(e["shift"]["dy"], e["shift"]["dx"]) for e in json.loads(frameset.read_text())["scans"]]
    assert np.allclose(fine, SHIFTS, atol=0.1)
    # A manual shift survives --write.
    doc = json.loads(frameset.read_text())
    doc["scans"][1]["shift"] = {"dy": 0, "dx": 0, "manual": True}
    frameset.write_text(json.dumps(doc))
    cli("sxdm", "align", frameset, "--map", "sum", "--write")
    assert json.loads(frameset.read_text())["scans"][1]["shift"] == {"dy": 0, "dx": 0, "manual": True}


def test_subpixel_alignment_matches_truth_and_skimage(cli, tmp_path):
    """Sub-step shifts of the sample feature: `sxdm align --upsample 20` within 0.1 step of the
    truth, and no farther from it than scikit-image's phase_cross_correlation on the same ROI maps
    (measured: ours exact to the 0.05 grid on these maps, scikit-image up to 0.1 off)."""
    registration = pytest.importorskip("skimage.registration")
    shifts = [(0, 0), (0.4, -1.3), (-0.7, 0.25), (1.5, 0.6), (-0.2, 2.35)]
    manifest = write_frameset(tmp_path, shifts)
    x0, y0, x1, y1 = BOX
    cli("sxdm", "align", manifest, "--map", f"roi:{x0},{y0},{x1},{y1}", "--upsample", "20", "--write")
    got = np.array([(e["shift"]["dy"], e["shift"]["dx"]) for e in json.loads(manifest.read_text())["scans"]])
    assert np.abs(got - np.array(shifts)).max() <= 0.1, got
    maps = []
    for s in range(len(shifts)):
        f = scan_frames(s, shifts).astype(np.float64).reshape(ROWS * COLS, FY, FX)
        bg = np.concatenate([f[:3], f[-3:]]).mean(axis=0)
        maps.append((f - bg)[:, y0:y1, x0:x1].sum(axis=(1, 2)).reshape(ROWS, COLS))
    for s in range(1, len(shifts)):
        peer, _, _ = registration.phase_cross_correlation(maps[0] - maps[0].mean(), maps[s] - maps[s].mean(),
                                                          upsample_factor=20)
        # scikit-image returns the shift that registers the moving map onto the reference: -ours.
        ours_err = np.abs(got[s] - shifts[s]).max()
        peer_err = np.abs(-peer - shifts[s]).max()
        assert ours_err <= peer_err + 1e-9, (s, got[s], -peer, shifts[s])
        assert np.abs(got[s] + peer).max() <= 0.1 + 1e-9, (s, got[s], peer)


def test_rocking_curve_matches_numpy_and_fits_the_centre(cli, frameset, tmp_path):
    doc = json.loads(frameset.read_text())
    for e, (dy, dx) in zip(doc["scans"], SHIFTS):
        e["shift"] = {"dy": dy, "dx": dx}
    frameset.write_text(json.dumps(doc))
    x0, y0, x1, y1 = BOX
    out_dir = tmp_path / "rock"
    fov = (2, 1, 10, 9)  # rx 2..9, ry 1..8
    cli("sxdm", "rocking", frameset, "--box", f"{x0},{y0},{x1},{y1}", "--fov", ",".join(map(str, fov)),
        "--out", out_dir)
    with open(out_dir / "rocking_curve.csv") as f:
        rows = list(csv.DictReader(f))
    thetas = [float(r["theta_deg"]) for r in rows]
    assert thetas == sorted(THETAS)
    maps, cover = aligned_roi_maps(SHIFTS)
    want = {}
    for s in range(len(SHIFTS)):
        sl = (slice(fov[1], fov[3]), slice(fov[0], fov[2]))
        want[f"s{s}"] = (maps[s][sl].sum(), int(cover[s][sl].sum()))
    for r in rows:
        value, positions = want[r["scan"]]
        assert int(r["positions"]) == positions
        assert float(r["intensity"]) == pytest.approx(value, rel=1e-5, abs=1e-2)
    fit = json.loads((out_dir / "rocking_fit.json").read_text())["fit"]
    assert fit["ok"]
    assert fit["centre_deg"] == pytest.approx(CENTRE, abs=0.01)
    assert fit["fwhm_deg"] == pytest.approx(2 * math.sqrt(2 * math.log(2)) * SIGMA, rel=0.05)
    assert (out_dir / "rocking_curve.h5").stat().st_size > 0
    assert (out_dir / "roi_map.png").stat().st_size > 0
    dat = np.loadtxt(out_dir / "rocking_curve.dat")
    assert np.allclose(dat[:, 0], sorted(THETAS))


def test_existing_command_reads_the_manifest(cli, frameset, tmp_path):
    """`virtual` on the manifest: the aligned, background-subtracted sum over scans (io::open)."""
    h5py = pytest.importorskip("h5py")
    doc = json.loads(frameset.read_text())
    for e, (dy, dx) in zip(doc["scans"], SHIFTS):
        e["shift"] = {"dy": dy, "dx": dx}
    frameset.write_text(json.dumps(doc))
    x0, y0, x1, y1 = BOX
    cli("virtual", frameset, "--out", tmp_path / "v", "--detector", f"roi=rectangle:{y0},{y1},{x0},{x1}")
    found = []
    with h5py.File(tmp_path / "v" / "virtual.h5", "r") as f:
        f.visititems(lambda name, obj: found.append(np.array(obj)) if name.endswith("roi/data") else None)
    assert found, "no roi image in virtual.h5"
    maps, _ = aligned_roi_maps(SHIFTS)
    assert np.allclose(found[0], sum(maps), rtol=1e-5, atol=1e-2)


def test_missing_frame_and_bad_manifest_are_clear_errors(cli, frameset, tmp_path):
    (tmp_path / "scan2_img_002015.tif").unlink()
    proc = cli("info", frameset, check=False)
    assert proc.returncode == 3
    assert "scan2_img_002015.tif" in proc.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"sxdm_frameset": 1, "scans": [')
    proc = cli("info", bad, check=False)
    assert proc.returncode == 3 and "not valid JSON" in proc.stderr
    bad.write_text('{"sxdm_frameset": 1, "scans": [{"positions": "scan0.csv"}]}')
    proc = cli("sxdm", "rocking", bad, "--out", tmp_path / "r", check=False)
    assert proc.returncode == 3 and "theta" in proc.stderr
    proc = cli("sxdm", "rocking", frameset, "--out", tmp_path / "r", "--box", "5,5,2,2", check=False)
    assert proc.returncode == 2 and "--box" in proc.stderr


def test_real_294_manifest_locates_the_shipped_frame(cli, shared_data, tmp_path):
    sx = shared_data / "sxdm"
    if not (sx / "294.mda").exists():
        pytest.skip(f"{sx / '294.mda'} not found")
    manifest = tmp_path / "fs294.json"
    manifest.write_text(json.dumps({"sxdm_frameset": 1, "scans": [
        {"name": "294", "mda": str(sx / "294.mda"), "frame_channel": "D10", "theta_channel": "D56",
         "images": str(sx / "scan_294_img_{}.tif")}]}))
    proc = cli("info", manifest, check=False)
    # Only frame 176194 of the 918 is shipped: the error names the first missing one.
    assert proc.returncode == 3
    assert "scan_294_img_176195.tif" in proc.stderr and "ry 0, rx 1" in proc.stderr


def test_hdf5_stack_with_position_table(cli, tmp_path):
    """A scan whose frames are an HDF5 stack (here a simulated EMD file), addressed by index from a
    positions table in reverse order: the frameset's frames are the stack's, reordered."""
    h5py = pytest.importorskip("h5py")
    cli("simulate", tmp_path / "sim.h5", "--scan", "3,4", "--frame", "16,16")
    lines = ["index x y"] + [f"{11 - k} {k % 4} {k // 4}" for k in range(12)]
    (tmp_path / "pos.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "fs.json").write_text(json.dumps({"sxdm_frameset": 1, "background": "none", "scans": [
        {"name": "sim", "theta": 1.0, "positions": "pos.txt", "stack": "sim.h5"}]}))
    cli("convert", tmp_path / "fs.json", tmp_path / "out.h5")
    with h5py.File(tmp_path / "sim.h5", "r") as f:
        stacks = []
        f.visititems(lambda n, o: stacks.append(np.array(o)) if isinstance(o, h5py.Dataset) and o.ndim == 4 else None)
    with h5py.File(tmp_path / "out.h5", "r") as f:
        outs = []
        f.visititems(lambda n, o: outs.append(np.array(o)) if isinstance(o, h5py.Dataset) and o.ndim == 4 else None)
    src = stacks[0].reshape(12, 16, 16).astype(np.float32)
    got = outs[0].reshape(12, 16, 16)
    assert got.dtype == np.float32
    assert np.array_equal(got, src[::-1])
