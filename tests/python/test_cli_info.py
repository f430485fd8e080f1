"""scandiff info: good files describe themselves; bad input gives one clear line and a non-zero exit."""
import json

import h5py
import numpy as np


def test_info_on_real_py4dstem_file(cli, shared_data):
    path = shared_data / "hdf5" / "py4DSTEM_size2x3x4x5.h5"
    out = json.loads(cli("info", path, "--json").stdout)
    assert out["format"] == "emd"
    assert out["shape"] == {"ry": 2, "rx": 3, "qy": 4, "qx": 5}
    cal = out["calibration"]
    assert abs(cal["scan_pixel_size"] - 0.126796875) < 1e-12
    assert abs(cal["detector_pixel_size"] - 0.044251566616087125) < 1e-15
    assert cal["detector_units"] == "A^-1"
    text = cli("info", path).stdout
    assert "2 x 3 (ry, rx)" in text and "4 x 5 (qy, qx)" in text


def test_info_on_raw_file(cli, tmp_path):
    data = np.arange(2 * 3 * 4 * 5, dtype="<u2")
    path = tmp_path / "scan.raw"
    data.tofile(path)
    out = json.loads(cli("info", path, "--raw-shape", "2,3,4,5", "--dtype", "uint16", "--json").stdout)
    assert out["shape"] == {"ry": 2, "rx": 3, "qy": 4, "qx": 5}
    assert out["bytes"] == data.nbytes
    bad = cli("info", path, "--raw-shape", "2,3,4,6", "--dtype", "uint16", check=False)
    assert bad.returncode == 3
    assert "scan.raw" in bad.stderr and "truncated" in bad.stderr


def _assert_one_clear_line(proc, name, code=3):
    assert proc.returncode == code, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("scandiff: error: ")
    assert name in lines[0]
    assert proc.stdout == ""


def test_info_missing_file(cli, tmp_path):
    p = cli("info", tmp_path / "nope.h5", check=False)
    _assert_one_clear_line(p, "nope.h5")
    assert "no such file" in p.stderr


def test_info_directory(cli, tmp_path):
    p = cli("info", tmp_path, check=False)
    _assert_one_clear_line(p, str(tmp_path))
    assert "folder" in p.stderr


def test_info_non_hdf5_file(cli, tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("this is not a dataset\n" * 100)
    p = cli("info", path, check=False)
    _assert_one_clear_line(p, "notes.h5")


def test_info_truncated_hdf5(cli, tmp_path):
    path = tmp_path / "cube.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.ones((8, 8, 32, 32), dtype="u2"))
    raw = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(raw[: len(raw) // 2])
    p = cli("info", cut, check=False)
    _assert_one_clear_line(p, "cut.h5")


def test_info_hdf5_that_is_not_emd(cli, tmp_path):
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.ones((4, 4), dtype="f4"))
    p = cli("info", path, check=False)
    _assert_one_clear_line(p, "plain.h5")


def test_usage_errors_exit_2(cli):
    assert cli("info", check=False).returncode == 2
    assert cli("no-such-command", check=False).returncode == 2
    p = cli("--memory", "lots", "info", "x.h5", check=False)
    assert p.returncode == 2 and "--memory" in p.stderr


def test_version_and_help(cli):
    assert cli("--version").stdout.startswith("scandiff ")
    help_text = cli("--help").stdout
    for sub in ("info", "simulate", "demo"):
        assert sub in help_text
