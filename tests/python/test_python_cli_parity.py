"""The Python package and the CLI run the same engine: the same analysis gives bit-identical
results either way (virtual BF/ADF and CoM of a simulated scan; simulate; convert)."""
import h5py
import numpy as np

SIM = ["--scan", "12,10", "--frame", "64,64", "--seed", "7", "--descan-rx", "0.2,0.1"]


def test_virtual_and_com_identical_to_cli(cli, sd, tmp_path):
    data = tmp_path / "scan.h5"
    cli("simulate", data, *SIM, "-q")
    cli("virtual", data, "--out", tmp_path / "v", "--detector", "bf=circle:31.5,31.5,6",
        "--detector", "adf=annulus:31.5,31.5,9,28", "--diffraction", "mean,max", "-q")
    cli("com", data, "--out", tmp_path / "c", "-q")
    ds = sd.open(data)
    r = sd.run(ds, [sd.VirtualImages({"bf": "circle:31.5,31.5,6", "adf": sd.annulus(31.5, 31.5, 9, 28)}),
                    sd.VirtualDiffraction(), sd.CenterOfMass()], threads=2, progress=False)
    with h5py.File(tmp_path / "v" / "virtual.h5", "r") as f:
        for name in ("bf", "adf", "mean_diffraction", "max_diffraction"):
            cli_values = f[f"virtual/{name}/data"][()]
            assert cli_values.dtype == r[name].data.dtype
            assert np.array_equal(cli_values, r[name].data), name
    with h5py.File(tmp_path / "c" / "com.h5", "r") as f:
        for name in ("com_x", "com_y"):
            assert np.array_equal(f[f"com/{name}/data"][()], r[name].data, equal_nan=True), name


def test_simulate_and_convert_identical_to_cli(cli, sd, tmp_path):
    cli("simulate", tmp_path / "cli.h5", *SIM, "-q")
    sd.simulate(tmp_path / "py.h5", scan=(12, 10), frame=(64, 64), seed=7, descan_rx=(0.2, 0.1), progress=False)
    with h5py.File(tmp_path / "cli.h5", "r") as a, h5py.File(tmp_path / "py.h5", "r") as b:
        assert np.array_equal(a["datacube_root/datacube/data"][()], b["datacube_root/datacube/data"][()])
    with h5py.File(tmp_path / "cli_truth.h5", "r") as a, h5py.File(tmp_path / "py_truth.h5", "r") as b:
        assert np.array_equal(a["truth_root/origin_qx/data"][()], b["truth_root/origin_qx/data"][()])
    cli("convert", tmp_path / "cli.h5", tmp_path / "cli_conv.h5", "-q")
    sd.convert(tmp_path / "cli.h5", tmp_path / "py_conv.h5", progress=False)
    with h5py.File(tmp_path / "cli_conv.h5", "r") as a, h5py.File(tmp_path / "py_conv.h5", "r") as b:
        for node in ("datacube", "mean_diffraction", "max_diffraction", "total_intensity"):
            assert np.array_equal(a[f"datacube_root/{node}/data"][()], b[f"datacube_root/{node}/data"][()]), node


def test_demo_identical_to_cli(cli, sd, tmp_path):
    cli("demo", "--out", tmp_path / "cli", "--scan", "8", "--frame", "64", "-q")
    results = sd.demo(tmp_path / "py", scan=8, frame=64, progress=False)
    with h5py.File(tmp_path / "cli" / "demo.h5", "r") as a, h5py.File(tmp_path / "py" / "demo.h5", "r") as b:
        for node in ("datacube", "mean_diffraction", "bright_field", "annular_dark_field", "dark_field_200"):
            assert np.array_equal(a[f"datacube_root/{node}/data"][()], b[f"datacube_root/{node}/data"][()]), node
    assert results["dark_field_200"].data.shape == (8, 8)
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == sorted(p.name for p in (tmp_path / "py").iterdir())
