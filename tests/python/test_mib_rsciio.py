"""Peer check: every non-RAW public Merlin file, converted by scandiff, equals what
rosettasciio (HyperSpy's reader) returns once its up-down flip is accounted for, and equals
its file-order loader load_mib_data as it is. Skips when rosettasciio cannot be imported."""
import warnings

import h5py
import numpy as np
import pytest

rsciio_qd = pytest.importorskip("rsciio.quantumdetector._api",
                                reason="rosettasciio not installed (optional peer: pip install rosettasciio)")


def non_raw_files(shared_data):
    # rosettasciio reads no RAW (R64) files: *RAW.mib and epsic's *_RAW_1frame.mib.
    return [p for p in sorted((shared_data / "mib").glob("*/*.mib")) if "RAW" not in p.name.replace("notRAW", "")]


def rsciio_frames(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = rsciio_qd.file_reader(str(path))[0]
    data = np.asarray(result["data"])
    return data, data.reshape(-1, data.shape[-2], data.shape[-1])


def test_every_non_raw_file_matches_rosettasciio(cli, shared_data, tmp_path):
    files = non_raw_files(shared_data)
    assert len(files) == 27
    for path in files:
        out = tmp_path / (path.stem + ".h5")
        cli("convert", path, out, "--quiet")
        with h5py.File(out, "r") as f:
            ours = f["datacube_root/datacube/data"][...]
        theirs_nd, theirs = rsciio_frames(path)
        frames = ours.reshape(-1, ours.shape[-2], ours.shape[-1])
        assert frames.shape == theirs.shape, path.name
        assert frames.dtype == theirs.dtype.newbyteorder("="), path.name
        # rsciio's file_reader flips each frame up-down; scandiff keeps the file's row order.
        np.testing.assert_array_equal(frames, theirs[:, ::-1, :], err_msg=path.name)
        # Where rsciio found a 2D scan, the shapes agree on the real 4x2 scans.
        if path.name.startswith(("001_", "002_", "003_")):
            assert ours.shape == theirs_nd.shape, path.name


def test_flip_ud_option_equals_rosettasciio_orientation(cli, shared_data, tmp_path):
    path = shared_data / "mib" / "rsciio" / "Quad_9_Frame_CounterDepth_24_Rows_256.mib"
    out = tmp_path / "flipped.h5"
    cli("convert", path, out, "--quiet", "--flip-ud")
    with h5py.File(out, "r") as f:
        ours = f["datacube_root/datacube/data"][...]
    _, theirs = rsciio_frames(path)
    np.testing.assert_array_equal(ours.reshape(theirs.shape), theirs)


def test_file_order_equals_load_mib_data(cli, shared_data, tmp_path):
    load = getattr(rsciio_qd, "load_mib_data", None)
    if load is None:
        pytest.skip("this rosettasciio has no load_mib_data")
    for name in ("Single_9_Frame_CounterDepth_12_Rows_256.mib", "002_4x2_6bit_roi128.mib"):
        path = shared_data / "mib" / "rsciio" / name
        out = tmp_path / (path.stem + ".h5")
        cli("convert", path, out, "--quiet")
        with h5py.File(out, "r") as f:
            ours = f["datacube_root/datacube/data"][...]
        theirs = np.asarray(load(str(path)))
        np.testing.assert_array_equal(ours.reshape(-1, *ours.shape[-2:]),
                                      theirs.reshape(-1, *theirs.shape[-2:]), err_msg=name)
