"""APS MDA scan records through `scandiff info`, and Ripple EDX maps against RosettaSciIO."""
import json

import h5py
import numpy as np
import pytest

from emd_input import write_emd_array


def test_info_lists_positions_and_channels_of_scan_294(cli, shared_data):
    mda = shared_data / "sxdm" / "294.mda"
    if not mda.exists():
        pytest.skip(f"{mda} not found")
    text = cli("info", mda).stdout
    assert "APS MDA" in text and "scan 294" in text
    assert "26idcnpi:Y_HYBRID_SP.VAL" in text and "26idcnpi:X_HYBRID_SP.VAL" in text
    assert "QMPX3:TIFF1:FileNumber_RBV" in text
    doc = json.loads(cli("info", mda, "--json").stdout)
    assert doc["dimensions"] == [34, 27]
    outer, inner = doc["scan_dimensions"]
    assert outer["positioners"][0]["units"] == "\u00b5m"
    assert outer["positioners"][0]["min"] == pytest.approx(-276.97)
    assert outer["positioners"][0]["max"] == pytest.approx(-275.97)
    assert inner["positioners"][0]["min"] == pytest.approx(64.61)
    assert inner["positioners"][0]["max"] == pytest.approx(65.41)
    assert len(inner["detectors"]) == 65
    frames = next(d for d in inner["detectors"] if d["name"] == "QMPX3:TIFF1:FileNumber_RBV")
    assert (frames["min"], frames["max"]) == (176194, 177111)  # 918 = 34 x 27 detector frames


def test_truncated_mda_is_an_input_error(cli, shared_data, tmp_path):
    mda = shared_data / "sxdm" / "294.mda"
    if not mda.exists():
        pytest.skip(f"{mda} not found")
    cut = tmp_path / "cut.mda"
    cut.write_bytes(mda.read_bytes()[:5000])
    proc = cli("info", cut, check=False)
    assert proc.returncode == 3
    assert "truncated" in proc.stderr


def write_ripple_with_rsciio(path, data, scale_ev):
    ripple = pytest.importorskip("rsciio.ripple", reason="rosettasciio is the oracle of the Ripple reader")
    ry, rx, ne = data.shape
    axes = [
        {"name": "y", "size": ry, "offset": 0.0, "scale": 2.0, "units": "nm", "navigate": True},
        {"name": "x", "size": rx, "offset": 0.0, "scale": 2.0, "units": "nm", "navigate": True},
        {"name": "Energy", "size": ne, "offset": -0.1, "scale": scale_ev, "units": "keV", "navigate": False},
    ]
    detector = {"energy_resolution_MnKa": 130.0, "elevation_angle": 20.0, "azimuth_angle": 0.0, "live_time": 1.0}
    metadata = {
        "General": {"title": "edx", "date": "", "time": ""},
        "Signal": {"signal_type": "EDS_TEM"},
        "Acquisition_instrument": {"TEM": {"beam_energy": 200.0, "Detector": {"EDS": detector}}},
    }
    signal = {"data": data, "axes": axes, "metadata": metadata, "original_metadata": {}}
    ripple.file_writer(str(path), signal)
    return ripple


def test_ripple_edx_class_means_match_rsciio(cli, tmp_path):
    rng = np.random.default_rng(2)
    ry, rx, n, ne = 10, 12, 30, 64
    q = np.arange(n)
    h = np.array([np.exp(-0.5 * ((q - c) / 3.0) ** 2) for c in (8, 22)]) + 0.01
    w = 0.1 * rng.random((ry * rx, 2))
    w[np.arange(ry * rx), (np.arange(ry * rx) // rx) % 2] += 1  # alternating rows
    node = write_emd_array(tmp_path / "in.h5", (w @ h).reshape(ry, rx, n))
    edx = rng.poisson(5, (ry, rx, ne)).astype(np.uint16)
    ripple = write_ripple_with_rsciio(tmp_path / "map.rpl", edx, 0.01)
    back = ripple.file_reader(str(tmp_path / "map.rpl"))[0]
    np.testing.assert_array_equal(back["data"], edx)  # rsciio round trip, our oracle
    info = json.loads(cli("info", tmp_path / "map.rpl", "--json").stdout)
    assert info["shape"] == {"ry": ry, "rx": rx, "channels": ne}
    energy = next(a for a in back["axes"] if a["name"] == "Energy" or a.get("navigate") is False)
    assert info["energy_axis"]["step"] == pytest.approx(energy["scale"])
    assert info["energy_axis"]["origin"] == pytest.approx(energy["offset"])
    out = tmp_path / "o"
    cli("nmf", tmp_path / "in.h5", "--datapath", node, "--out", out, "-k", 2, "--max-iter", 500, "--edx",
        tmp_path / "map.rpl", "--threshold", 0.75, "--quiet")
    with h5py.File(out / "nmf.h5") as f:
        maps = np.stack([f[f"nmf/nmf_map_{c}/data"][()] for c in range(2)]).reshape(2, -1)
        means = f["nmf/edx_class_means/data"][()]
    spectra = back["data"].reshape(-1, ne).astype(np.float64)
    for c in range(2):
        inside = maps[c] >= np.percentile(maps[c], 75)
        np.testing.assert_allclose(means[c], spectra[inside].mean(axis=0), rtol=1e-12)
    table = np.loadtxt(out / "edx_class_means.txt")
    np.testing.assert_allclose(table[:, 0], energy["offset"] + energy["scale"] * np.arange(ne), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(table[:, 1:].T, means, rtol=1e-9)
