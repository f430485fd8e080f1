"""scandiff convert on real Merlin .mib files: one pass writes the EMD DataCube and the mean/max
diffraction patterns and total-intensity image; reading the file back with h5py gives the
numbers data/README.md lists; py4DSTEM opens it."""
import json

import h5py
import numpy as np
import pytest

ROOT = "datacube_root"


def convert(cli, src, out, *options):
    cli("convert", src, out, "--quiet", *options)
    with h5py.File(out, "r") as f:
        return {
            "data": f[f"{ROOT}/datacube/data"][...],
            "mean": f[f"{ROOT}/mean_diffraction/data"][...],
            "max": f[f"{ROOT}/max_diffraction/data"][...],
            "total": f[f"{ROOT}/total_intensity/data"][...],
            "source": f[f"{ROOT}/metadatabundle/input_metadata/scan_shape/source"][()],
        }


@pytest.mark.parametrize(
    "name, shape, dtype, total, first_sums",
    [
        ("rsciio/001_4x2_6bit.mib", (2, 4, 256, 256), "uint8", 3623664, [448386, 449671, 452147]),
        ("rsciio/Quad_9_Frame_CounterDepth_12_Rows_256.mib", (1, 9, 512, 512), "uint16", 7229086,
         [780796, 828211, 784649]),
        ("rsciio/003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y.mib", (2, 4, 64, 256), "uint16", 77, None),
        ("rsciio/Quad_9_Frame_CounterDepth_24_Rows_256.mib", (1, 9, 512, 512), "uint32", 7285037, None),
        ("merlintools/probe_200kV_CL_100mm.mib", (1, 1, 256, 256), "uint16", 377584, None),
    ],
)
def test_convert_reads_back_the_same_numbers(cli, shared_data, tmp_path, name, shape, dtype, total, first_sums):
    out = tmp_path / "out.h5"
    r = convert(cli, shared_data / "mib" / name, out)
    data = r["data"]
    assert data.shape == shape and data.dtype == np.dtype(dtype)
    assert int(data.sum(dtype=np.uint64)) == total
    frames = data.reshape(-1, shape[2], shape[3]).astype(np.float64)
    if first_sums:
        assert frames.sum(axis=(1, 2))[:3].tolist() == first_sums
    # The byproducts are exactly what numpy computes from the written cube.
    np.testing.assert_array_equal(r["total"], frames.sum(axis=(1, 2)).reshape(shape[:2]))
    np.testing.assert_allclose(r["mean"], frames.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(r["max"], frames.max(axis=0))
    for suffix in ("mean_diffraction", "max_diffraction", "total_intensity"):
        png = tmp_path / f"out_{suffix}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_convert_raw_quad_and_options(cli, shared_data, tmp_path):
    mib = shared_data / "mib" / "rsciio" / "Quad_9_Frame_CounterDepth_1_Rows_256RAW.mib"
    plain = convert(cli, mib, tmp_path / "a.h5", "--scan-shape", "3,3")
    assert plain["data"].shape == (3, 3, 512, 512)
    assert plain["source"] == b"user" or plain["source"] == "user"
    assert plain["data"].max() == 1
    flipped = convert(cli, mib, tmp_path / "b.h5", "--scan-shape", "3,3", "--flip-ud")
    np.testing.assert_array_equal(flipped["data"], plain["data"][:, :, ::-1, :])
    gaps = convert(cli, mib, tmp_path / "c.h5", "--scan-shape", "3,3", "--fill-gaps")
    assert gaps["data"].shape == (3, 3, 515, 515)
    assert not gaps["data"][:, :, 256:259, :].any() and not gaps["data"][:, :, :, 256:259].any()
    assert int(gaps["data"].sum()) == int(plain["data"].sum())
    skipped = convert(cli, mib, tmp_path / "d.h5", "--skip-frames", "1", "--scan-shape", "2,4")
    np.testing.assert_array_equal(skipped["data"].reshape(8, 512, 512), plain["data"].reshape(9, 512, 512)[1:])


def test_convert_other_inputs(cli, shared_data, tmp_path):
    out = tmp_path / "c.h5"
    cli("convert", shared_data / "hdf5" / "py4DSTEM_size2x3x4x5.h5", out, "--quiet")
    with h5py.File(out, "r") as f:
        assert f[f"{ROOT}/datacube/data"].shape == (2, 3, 4, 5)


def test_py4dstem_opens_a_converted_mib(cli, shared_data, tmp_path):
    py4DSTEM = pytest.importorskip("py4DSTEM", reason="py4DSTEM not installed (optional peer)")
    out = tmp_path / "p.h5"
    cli("convert", shared_data / "mib" / "rsciio" / "001_4x2_6bit.mib", out, "--quiet")
    dc = py4DSTEM.read(str(out), datapath=f"{ROOT}/datacube")
    assert dc.data.shape == (2, 4, 256, 256)
    assert int(dc.data.sum()) == 3623664
    vi = py4DSTEM.read(str(out), datapath=f"{ROOT}/total_intensity")
    assert vi.data.shape == (2, 4)


def test_convert_refuses_bad_outputs(cli, shared_data, tmp_path):
    mib = shared_data / "mib" / "rsciio" / "001_4x2_6bit.mib"
    p = cli("convert", mib, tmp_path / "x.tif", check=False)
    assert p.returncode == 2 and "x.tif" in p.stderr
    p = cli("convert", tmp_path / "missing.mib", tmp_path / "x.h5", check=False)
    assert p.returncode == 3 and "missing.mib" in p.stderr
    assert not (tmp_path / "x.h5").exists()


def test_info_on_mib_reports_the_scan_shape_decision(cli, shared_data):
    d = shared_data / "mib" / "rsciio"
    out = json.loads(cli("info", d / "003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y.mib", "--json").stdout)
    assert out["format"] == "mib"
    assert out["shape"] == {"ry": 2, "rx": 4, "qy": 64, "qx": 256}
    assert out["metadata"]["scan_shape"]["source"] == "hdr ScanX/ScanY"
    text = cli("info", d / "001_4x2_6bit.mib").stdout
    assert "scan shape  from timestamps" in text
    flat = cli("info", d / "Quad_9_Frame_CounterDepth_12_Rows_256.mib")
    assert "1 x 9" in flat.stderr and "--scan-shape" in flat.stderr  # the warning says what to do
    bad = cli("info", d / "Quad_9_Frame_CounterDepth_12_Rows_256.mib", "--scan-shape", "4,4", check=False)
    assert bad.returncode == 2 and "needs 16 frames" in bad.stderr


def test_truncated_and_corrupt_mib_give_one_clear_line(cli, shared_data, tmp_path):
    raw = (shared_data / "mib" / "rsciio" / "Single_1_Frame_CounterDepth_12_Rows_256.mib").read_bytes()
    cut = tmp_path / "cut.mib"
    cut.write_bytes(raw[: len(raw) // 2])
    p = cli("info", cut, check=False)
    assert p.returncode == 3
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "cut.mib" in lines[0] and "no complete frame" in lines[0]
    bad = tmp_path / "bad.mib"
    bad.write_bytes(raw[:20] + b"ZZZZ" + raw[24:])  # field 4 (width) corrupted
    p = cli("info", bad, check=False)
    assert p.returncode == 3 and "bad.mib" in p.stderr and "field 4" in p.stderr
