"""End to end: `scandiff convert --layout hyperspy`, chunking and compression, and the HyperSpy and
Dectris (ARINA) readers, checked against HyperSpy / rosettasciio / py4DSTEM / h5py (+ hdf5plugin
for the plugin filters). Peers that cannot be imported make their tests skip with a message."""
import json
import warnings

import h5py
import numpy as np
import pytest


def hdf5plugin_or_skip():
    # h5py ships its own HDF5, which does not see Debian's filter plugins: hdf5plugin registers its own.
    return pytest.importorskip("hdf5plugin", reason="hdf5plugin not installed (pip install hdf5plugin)")


def emd_cube(path):
    with h5py.File(path, "r") as f:
        return f["datacube_root/datacube/data"][...]


def hspy_data(path):
    with h5py.File(path, "r") as f:
        return f["Experiments/__unnamed__/data"][...]


@pytest.fixture(scope="module")
def calibrated_scan(cli, tmp_path_factory):
    """A small simulated scan whose detector is calibrated in A^-1 (uint16)."""
    path = tmp_path_factory.mktemp("sim") / "rings.h5"
    cli("simulate", path, "--kind", "rings", "--scan", "5,4", "--frame", "24,20", "--pixel-size", "0.02",
        "--seed", "3", "--quiet")
    return path


def test_hspy_layout_opens_in_hyperspy_with_axes(cli, calibrated_scan, tmp_path):
    hs = pytest.importorskip("hyperspy.api", reason="HyperSpy not installed (pip install hyperspy)")
    out = tmp_path / "scan.hspy"
    cli("convert", calibrated_scan, out, "--quiet")
    expected = emd_cube(calibrated_scan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # signal_type electron_diffraction needs pyxem
        s = hs.load(str(out))
    assert s.axes_manager.navigation_shape == (4, 5)  # HyperSpy lists (x, y)
    assert s.axes_manager.signal_shape == (20, 24)
    np.testing.assert_array_equal(np.asarray(s.data), expected)
    kx, ky = s.axes_manager.signal_axes
    assert (kx.name, ky.name) == ("kx", "ky")
    assert kx.scale == pytest.approx(0.02) and ky.scale == pytest.approx(0.02)
    assert kx.units == "A^-1"
    x, y = s.axes_manager.navigation_axes
    assert (x.name, y.name) == ("x", "y") and (x.size, y.size) == (4, 5)
    assert s.metadata.Signal.signal_type == "electron_diffraction"
    # The summary file beside it holds the one-pass results.
    with h5py.File(tmp_path / "scan_summary.h5", "r") as f:
        np.testing.assert_allclose(f["datacube_root/mean_diffraction/data"][...], expected.mean(axis=(0, 1)))
        np.testing.assert_allclose(f["datacube_root/total_intensity/data"][...], expected.sum(axis=(2, 3)))


@pytest.mark.parametrize("compression", ["none", "gzip", "lz4", "bitshuffle-lz4", "blosc"])
def test_hspy_compressed_equals_rosettasciio(cli, calibrated_scan, tmp_path, compression):
    hspy_reader = pytest.importorskip("rsciio.hspy", reason="rosettasciio not installed").file_reader
    if compression not in ("none", "gzip"):
        hdf5plugin_or_skip()
    out = tmp_path / f"scan_{compression}.hspy"
    cli("convert", calibrated_scan, out, "--compression", compression, "--chunk", "3", "--quiet")
    with h5py.File(out, "r") as f:
        d = f["Experiments/__unnamed__/data"]
        assert d.chunks == (1, 3, 24, 20)
        filters = {"none": None, "gzip": "gzip", "lz4": "32004", "bitshuffle-lz4": "32008", "blosc": "32001"}
        if filters[compression]:
            assert filters[compression] in d._filters
    sig = hspy_reader(str(out))[0]
    np.testing.assert_array_equal(np.asarray(sig["data"]), emd_cube(calibrated_scan))
    assert [a["size"] for a in sig["axes"]] == [5, 4, 24, 20]
    assert [a["navigate"] for a in sig["axes"]] == [True, True, False, False]
    assert sig["axes"][3]["scale"] == pytest.approx(0.02)
    # scandiff reads its own compressed file back, block by block.
    back = tmp_path / "back.h5"
    cli("convert", out, back, "--quiet")
    np.testing.assert_array_equal(emd_cube(back), emd_cube(calibrated_scan))


def test_compressed_emd_opens_in_py4dstem(cli, calibrated_scan, tmp_path):
    py4DSTEM = pytest.importorskip("py4DSTEM", reason="py4DSTEM not installed")
    out = tmp_path / "gz.h5"
    cli("convert", calibrated_scan, out, "--compression", "gzip", "--compression-level", "1", "--chunk", "frame",
        "--quiet")
    with h5py.File(out, "r") as f:
        assert f["datacube_root/datacube/data"].compression == "gzip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dc = py4DSTEM.read(str(out), datapath="datacube_root/datacube")
    np.testing.assert_array_equal(dc.data, emd_cube(calibrated_scan))
    assert dc.calibration.get_Q_pixel_size() == pytest.approx(0.02)


def test_mib_to_hspy_equals_rosettasciio_mib_reader(cli, shared_data, tmp_path):
    rsciio_qd = pytest.importorskip("rsciio.quantumdetector._api", reason="rosettasciio not installed")
    path = shared_data / "mib" / "rsciio" / "001_4x2_6bit.mib"
    out = tmp_path / "scan.hspy"
    cli("convert", path, out, "--flip-ud", "--compression", "gzip", "--quiet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.asarray(rsciio_qd.file_reader(str(path))[0]["data"])
    ours = hspy_data(out)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    with h5py.File(out, "r") as f:
        om = f["Experiments/__unnamed__/original_metadata"]
        assert om["scandiff_conversion"].attrs["input_format"] == "mib"
        assert "mib" in om["input_metadata"]


def test_epsic_style_blosc_file_is_read(cli, tmp_path):
    hdf5plugin = hdf5plugin_or_skip()
    rng = np.random.default_rng(5)
    data = rng.integers(0, 4000, size=(4, 3, 16, 18), dtype=np.uint16)
    path = tmp_path / "epsic_data.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs["file_format"] = "HyperSpy"
        f.attrs["file_format_version"] = "3.3"
        e = f.create_group("Experiments/__unnamed__")
        e.create_dataset("data", data=data, chunks=(1, 1, 16, 18),
                         **hdf5plugin.Blosc(cname="blosclz", clevel=9, shuffle=hdf5plugin.Blosc.BITSHUFFLE))
        for i, n in enumerate(data.shape):  # ePSIC sets only size and navigate
            ax = e.create_group(f"axis-{i}")
            ax.attrs["size"] = n
            ax.attrs["navigate"] = np.bool_(i < 2)
        e.create_group("metadata/Signal").attrs["flip"] = "True"
    info = json.loads(cli("info", path, "--json").stdout)
    assert info["format"] == "hyperspy"
    assert [info["shape"][k] for k in ("ry", "rx", "qy", "qx")] == [4, 3, 16, 18]
    assert info["metadata"]["hyperspy"]["flip"] == "True"
    out = tmp_path / "converted.h5"
    cli("convert", path, out, "--quiet")
    np.testing.assert_array_equal(emd_cube(out), data)


def test_real_arina_master_equals_h5py(cli, shared_data, tmp_path):
    hdf5plugin_or_skip()
    master = shared_data / "hdf5" / "arina" / "test_00_master.h5"
    info = json.loads(cli("info", master, "--json").stdout)
    assert info["format"] == "dectris" and info["dtype"] == "uint32"
    assert [info["shape"][k] for k in ("ry", "rx", "qy", "qx")] == [4, 4, 192, 192]
    assert info["metadata"]["scan_shape"]["source"] == "scan metadata"
    out = tmp_path / "arina.hspy"
    cli("convert", master, out, "--compression", "bitshuffle-lz4", "--quiet")
    with h5py.File(master, "r") as f:
        frames = np.concatenate([f["entry/data"][k][...] for k in sorted(f["entry/data"])])
    np.testing.assert_array_equal(hspy_data(out), frames.reshape(4, 4, 192, 192))


def make_arina_like(folder, data, per_file, hdf5plugin, scan=None):
    """A master + data files as the ARINA writes them (bitshuffle/LZ4, one frame per chunk)."""
    with h5py.File(folder / "acq_master.h5", "w") as m:
        m.create_group("entry/data")
        det = m.create_group("entry/instrument/detector")
        det["description"] = np.bytes_("Dectris ARINA CZT")
        det.create_dataset("detectorSpecific/photon_energy", data=200000.0)
        for k, start in enumerate(range(0, len(data), per_file)):
            name = f"acq_data_{k + 1:06d}.h5"
            with h5py.File(folder / name, "w") as d:
                d.create_dataset("entry/data/data", data=data[start:start + per_file],
                                 chunks=(1,) + data.shape[1:], **hdf5plugin.Bitshuffle(cname="lz4"))
            m["entry/data"][f"data_{k + 1:06d}"] = h5py.ExternalLink(name, "/entry/data/data")
    if scan:
        with h5py.File(folder / "acq.h5", "w") as s:
            g = s.create_group("STEM Metadata")
            g.attrs["NumPixelsY"], g.attrs["NumPixelsX"] = scan


def test_arina_like_bitshuffle_random_frames(cli, tmp_path):
    hdf5plugin = hdf5plugin_or_skip()
    rng = np.random.default_rng(11)
    data = rng.integers(0, 70000, size=(12, 20, 24), dtype=np.uint32)
    make_arina_like(tmp_path, data, 5, hdf5plugin, scan=(3, 4))
    out = tmp_path / "acq.h5"  # not the scan metadata file: a separate folder below
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "acq.h5"
    cli("convert", tmp_path / "acq_master.h5", out, "--memory", "64MiB", "--quiet")
    np.testing.assert_array_equal(emd_cube(out), data.reshape(3, 4, 20, 24))
    # --scan-shape wins over the scan metadata file.
    cli("convert", tmp_path / "acq_master.h5", out, "--scan-shape", "2,6", "--quiet")
    np.testing.assert_array_equal(emd_cube(out), data.reshape(2, 6, 20, 24))


def test_bad_input_and_options_are_named(cli, tmp_path, calibrated_scan):
    hdf5plugin = hdf5plugin_or_skip()
    data = np.zeros((4, 8, 8), dtype=np.uint16)
    make_arina_like(tmp_path, data, 2, hdf5plugin)
    (tmp_path / "acq_data_000002.h5").unlink()
    p = cli("info", tmp_path / "acq_master.h5", check=False)
    assert p.returncode != 0 and "acq_data_000002.h5" in p.stderr and "missing" in p.stderr
    p = cli("info", tmp_path / "acq_data_000001.h5", check=False)
    assert p.returncode != 0 and "acq_master.h5" in p.stderr
    p = cli("convert", calibrated_scan, tmp_path / "x.h5", "--chunk", "none", "--compression", "gzip", check=False)
    assert p.returncode != 0 and "--chunk none" in p.stderr
    p = cli("convert", calibrated_scan, tmp_path / "x.h5", "--chunk", "0", check=False)
    assert p.returncode != 0 and "--chunk '0'" in p.stderr
    p = cli("convert", calibrated_scan, tmp_path / "x.txt", "--layout", "hyperspy", check=False)
    assert p.returncode != 0 and ".hspy" in p.stderr
    assert not (tmp_path / "x.h5").exists()
