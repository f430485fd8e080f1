"""EDF and CBF images written by fabio read back exactly (fabio is the oracle), and the real
Pilatus TIFF is recognised by `scandiff info`."""
import json

import numpy as np
import pytest

fabio = pytest.importorskip("fabio")
from fabio.cbfimage import CbfImage  # noqa: E402
from fabio.edfimage import EdfImage  # noqa: E402

RNG = np.random.default_rng(7)


def info(cli, path, *args):
    return json.loads(cli("info", path, "--json", *args).stdout)


def read_back(cli, path, tmp_path, name="out"):
    """Converts the file to EMD with scandiff and returns the (ry, rx, qy, qx) array."""
    h5py = pytest.importorskip("h5py")
    out = tmp_path / f"{name}.h5"
    cli("convert", path, out)
    with h5py.File(out, "r") as f:
        found = []
        f.visititems(lambda n, o: found.append(o[()]) if isinstance(o, h5py.Dataset) and o.ndim == 4 else None)
        assert found, "no 4D dataset in the converted file"
        return found[0]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.uint32, np.float32, np.float64])
def test_edf_single_frame_matches_fabio(cli, tmp_path, dtype):
    data = (RNG.integers(0, 200, size=(17, 23)) - (50 if np.dtype(dtype).kind in "if" else 0)).astype(dtype)
    path = tmp_path / "frame.edf"
    EdfImage(data=data).write(str(path))
    doc = info(cli, path)
    assert doc["format"] == "edf"
    assert (doc["shape"]["qy"], doc["shape"]["qx"]) == (17, 23)
    assert doc["dtype"] == np.dtype(dtype).name
    got = read_back(cli, path, tmp_path)
    np.testing.assert_array_equal(got[0, 0], fabio.open(str(path)).data)


def test_edf_int16_is_widened_exactly(cli, tmp_path):
    data = RNG.integers(-32768, 32767, size=(8, 9)).astype(np.int16)
    path = tmp_path / "s16.edf"
    EdfImage(data=data).write(str(path))
    assert info(cli, path)["dtype"] == "int32"
    np.testing.assert_array_equal(read_back(cli, path, tmp_path)[0, 0], data.astype(np.int32))


def test_multi_frame_edf_is_a_scan(cli, tmp_path):
    frames = [RNG.integers(0, 1000, size=(12, 10)).astype(np.uint16) for _ in range(6)]
    img = EdfImage(data=frames[0])
    for f in frames[1:]:
        img.append_frame(data=f)
    path = tmp_path / "stack.edf"
    img.write(str(path))
    doc = info(cli, path, "--scan-shape", "2,3")
    assert doc["shape"] == {"ry": 2, "rx": 3, "qy": 12, "qx": 10}
    assert info(cli, path)["shape"]["rx"] == 6
    ours = read_back(cli, path, tmp_path)
    ref = fabio.open(str(path))
    for i in range(ref.nframes):
        np.testing.assert_array_equal(ours[0, i], ref.getframe(i).data)


@pytest.mark.parametrize("scale", [10, 1000, 100000, 2**30])
def test_cbf_matches_fabio(cli, tmp_path, scale):
    # Large values and jumps exercise the 1-, 2- and 4-byte deltas of byte-offset compression.
    data = (RNG.integers(-scale, scale, size=(31, 29))).astype(np.int32)
    data[3, :5] = [-2, -1, 0, np.iinfo(np.int32).max, np.iinfo(np.int32).min + 1]
    path = tmp_path / "img.cbf"
    CbfImage(data=data).write(str(path))
    doc = info(cli, path)
    assert doc["format"] == "cbf" and doc["dtype"] == "int32"
    ref = fabio.open(str(path)).data
    np.testing.assert_array_equal(ref, data)
    np.testing.assert_array_equal(read_back(cli, path, tmp_path)[0, 0], ref)


def test_truncated_cbf_is_an_input_error(cli, tmp_path):
    data = RNG.integers(0, 70000, size=(20, 20)).astype(np.int32)
    path = tmp_path / "img.cbf"
    CbfImage(data=data).write(str(path))
    raw = path.read_bytes()
    cut = tmp_path / "cut.cbf"
    cut.write_bytes(raw[: raw.index(b"\x0c\x1a\x04\xd5") + 100])
    proc = cli("info", cut, check=False)
    assert proc.returncode != 0
    # info reads only headers; reading the frames must fail with a message naming the file.
    proc = cli("convert", cut, tmp_path / "x.h5", check=False)
    assert proc.returncode == 3 and "cut.cbf" in proc.stderr


def test_numbered_series(cli, tmp_path):
    for k in range(1, 5):
        EdfImage(data=np.full((6, 7), k, np.uint16)).write(str(tmp_path / f"img_{k:04d}.edf"))
    doc = info(cli, tmp_path / "img_0002.edf", "--series", "--scan-shape", "2,2")
    assert doc["format"] == "image-series" and doc["frames"] == 4
    ours = read_back(cli, tmp_path / "img_0001.edf", tmp_path)
    assert ours.shape == (1, 1, 6, 7)


def test_real_pilatus_tiff(cli, shared_data):
    doc = info(cli, shared_data / "xray/dioptas/CeO2_Pilatus1M.tif")
    assert doc["format"] == "tiff" and doc["dtype"] == "int32"
    assert (doc["shape"]["qy"], doc["shape"]["qx"]) == (1043, 981)


def test_real_sxdm_tiff(cli, shared_data):
    doc = info(cli, shared_data / "sxdm/scan_294_img_176194.tif")
    assert (doc["shape"]["qy"], doc["shape"]["qx"]) == (516, 516)
