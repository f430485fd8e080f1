"""The Python API: datasets (files and numpy arrays without copying), results without copying,
every capability as a function, Python functions run by the engine, progress and cancellation."""
import gc
import json
import os
import signal
import time
import weakref

import h5py
import numpy as np
import pytest


def crystal(sd, **kw):
    """A small lazily simulated crystal scan (noise-free unless asked)."""
    params = dict(scan=(6, 7), frame=(48, 48), disk_radius=4, noise="none", g1=(14, 2), g2=(-3, 13), exx=0.01)
    params.update(kw)
    return sd.simulate(**params)


def random_scan(shape=(5, 6, 20, 24), dtype=np.uint16, seed=1):
    return np.random.default_rng(seed).integers(0, 200, size=shape).astype(dtype)


# -- datasets ----------------------------------------------------------------------------------

def test_numpy_source_is_borrowed_not_copied(sd):
    arr = random_scan()
    ds = sd.from_numpy(arr)
    assert ds.shape == arr.shape and ds.dtype == np.uint16 and ds.format == "memory"
    arr[1, 2, 3, 4] = 4321  # written AFTER the dataset was made: C++ must see it
    assert ds[1, 2][3, 4] == 4321
    img = sd.virtual_image(ds, sd.point(3, 4), progress=False)
    assert img.data[1, 2] == 4321
    assert ds.to_numpy() is arr  # the same array, no copy


def test_strided_numpy_source_read_in_place(sd):
    big = random_scan((4, 10, 16, 32))
    view = big[:, ::2, :, ::2]  # strided on a scan and a detector axis
    ds = sd.open(view)
    big[2, 6, 5, 8] = 999  # position (2, 3), pixel (5, 4) of the view
    assert ds[2, 3][5, 4] == 999
    com = sd.center_of_mass(ds, progress=False)
    v = view.astype(np.float64)
    total = v.sum(axis=(2, 3))
    np.testing.assert_allclose(com["com_x"].data, (v * np.arange(16)).sum(axis=(2, 3)) / total, rtol=1e-12)


def test_numpy_source_kept_alive_by_dataset(sd):
    arr = random_scan()
    expected = arr[3, 1].copy()
    ref = weakref.ref(arr)
    ds = sd.from_numpy(arr)
    del arr
    gc.collect()
    assert ref() is not None  # the dataset holds it
    np.testing.assert_array_equal(ds[3, 1], expected)
    del ds
    gc.collect()
    assert ref() is None


def test_frame_stack_and_bad_inputs(sd):
    stack = random_scan((12, 8, 8))
    ds = sd.from_numpy(stack, scan_shape=(3, 4))
    assert ds.shape == (3, 4, 8, 8)
    np.testing.assert_array_equal(ds[2, 1], stack[9])
    np.testing.assert_array_equal(ds[-1, -1], stack[11])
    with pytest.raises(IndexError):
        ds[3, 0]
    with pytest.raises(ValueError, match="scan_shape"):
        sd.from_numpy(stack)
    with pytest.raises(TypeError, match="uint16"):
        sd.from_numpy(np.zeros((2, 2, 4, 4), dtype=np.int64))
    with pytest.raises(OSError, match="missing.h5"):
        sd.open("missing.h5")


def test_calibration_and_metadata(sd, tmp_path):
    ds = sd.from_numpy(random_scan(), scan_pixel_size=0.5, scan_units="nm", detector_pixel_size=0.02,
                       detector_units="A^-1", beam_energy_eV=300e3, origin_qy_px=9.5, origin_qx_px=11.0)
    cal = ds.calibration
    assert (cal.scan_pixel_size, cal.scan_units, cal.detector_units) == (0.5, "nm", "A^-1")
    assert cal.wavelength_A() == pytest.approx(0.019687, rel=1e-4)
    d = cal.to_dict()
    assert isinstance(d, dict) and json.dumps(d)
    sim = sd.simulate(tmp_path / "s.h5", scan=(3, 4), frame=(32, 32), progress=False)
    assert sim.format == "emd" and sim.shape == (3, 4, 32, 32)
    assert sim.metadata["simulation"]["scan_y"] == 3
    info = sd.info(tmp_path / "s.h5")
    assert info["shape"] == (3, 4, 32, 32) and info["dtype"] == "uint16" and "calibration" in info
    moved = sim.with_calibration(origin_qy_px=1.0)
    assert moved.calibration.origin_qy_px == 1.0 and sim.calibration.origin_qy_px != 1.0


def test_to_numpy_respects_the_memory_budget(sd):
    ds = crystal(sd)
    full = ds.to_numpy()
    assert full.shape == ds.shape
    np.testing.assert_array_equal(full[2, 5], ds[2, 5])
    with pytest.raises(sd.BudgetError, match="memory budget"):
        ds.to_numpy(memory=1000)
    with pytest.raises(MemoryError):
        ds.to_numpy(memory="1K")


# -- results -----------------------------------------------------------------------------------

def test_result_buffer_is_shared_with_cpp(sd):
    ds = sd.from_numpy(random_scan())
    a = sd._core.VirtualImages([("bf", sd.detector(ds, sd.circle(10, 12, 5)))], "none")
    sd._core.run(ds._core, [a])
    first = a.image(0)
    second = a.results()[0].data
    assert not first.flags.owndata and np.shares_memory(first, second)
    first[0, 0] = -7.0  # a write through one view is seen by the library's own array
    assert a.image(0)[0, 0] == -7.0 and second[0, 0] == -7.0


def test_results_carry_units_axes_provenance(sd):
    ds = sd.from_numpy(random_scan(), scan_pixel_size=2.0, scan_units="A")
    r = sd.run(ds, [sd.VirtualImage(sd.annulus(10, 12, 3, 8), name="adf"), sd.VirtualDiffraction()], progress=False)
    adf = r["adf"]
    assert [a["name"] for a in adf.axes] == ["ry", "rx"] and adf.axes[0]["step"] == 2.0
    assert adf.axes[0]["units"] == "A"
    assert adf.provenance["analysis"] == "virtual_image"
    assert np.asarray(adf) is adf.data
    assert r["mean_diffraction"].axes[0]["name"] == "qy"
    assert r.stats.frames == 30


# -- capabilities against numpy ------------------------------------------------------------------

def test_virtual_images_com_diffraction_match_numpy(sd):
    arr = random_scan()
    ds = sd.from_numpy(arr)
    r = sd.run(ds, [sd.VirtualImages({"bf": sd.circle(10, 12, 5), "adf": sd.annulus(10, 12, 5, 9)}),
                    sd.CenterOfMass(), sd.VirtualDiffraction()], progress=False)
    qy, qx = np.mgrid[:20, :24]
    d2 = (qy - 10) ** 2 + (qx - 12) ** 2
    a = arr.astype(np.float64)
    np.testing.assert_array_equal(r["bf"].data, (a * (d2 < 25)).sum(axis=(2, 3)))
    np.testing.assert_array_equal(r["adf"].data, (a * ((d2 > 25) & (d2 < 81))).sum(axis=(2, 3)))
    np.testing.assert_allclose(r["com_y"].data, (a * qy).sum(axis=(2, 3)) / a.sum(axis=(2, 3)), rtol=1e-12)
    np.testing.assert_allclose(r["mean_diffraction"].data, a.mean(axis=(0, 1)), rtol=1e-12)
    np.testing.assert_array_equal(r["max_diffraction"].data, a.max(axis=(0, 1)))


def test_results_independent_of_threads(sd):
    ds = crystal(sd, noise="poisson")
    runs = [sd.run(ds, [sd.VirtualImage(sd.circle(23.5, 23.5, 6), name="bf"), sd.CenterOfMass(),
                        sd.BlockReduce(lambda f, first: f.astype(np.float64).sum(axis=0))],
                   threads=t, block_frames=5, progress=False) for t in (1, 2, 3)]
    for other in runs[1:]:
        for name in ("bf", "com_x", "com_y"):
            assert np.array_equal(runs[0][name].data, other[name].data, equal_nan=True)
        assert np.array_equal(runs[0]["reduce"], other["reduce"])


def test_calibrate_origin_recovers_descan(sd):
    ds = crystal(sd, descan_rx=(0.3, 0.1), descan_ry=(-0.1, 0.25), amorphous=0)
    truth = {name: r.data for name, r in sd.ground_truth(ds).items()}
    o = sd.calibrate_origin(ds, radius_px=4, progress=False)
    assert o.fit.model == "plane" and o.fit.used >= 38  # a few noise-level outliers may be dropped
    assert np.abs(o.fit.qy - truth["origin_qy"]).max() < 0.05
    assert np.abs(o.fit.qx - truth["origin_qx"]).max() < 0.05
    np.testing.assert_array_equal(o.calibration.origin_qy_map, o.fit.qy)
    # radius measured on the max pattern (needs the central disk to be the brightest feature)
    lone = crystal(sd, descan_rx=(0.3, 0.1), amorphous=0, g1=(30, 0), g2=(0, 30))
    measured = sd.calibrate_origin(lone, progress=False)
    assert measured.radius_px == pytest.approx(4, abs=1.0)
    friedel = sd.calibrate_origin(ds, method="friedel", progress=False)
    assert np.abs(friedel.fit.qx - truth["origin_qx"]).max() < 0.2
    # the fitted origin feeds origin-relative analyses
    rel = sd.center_of_mass(ds.with_calibration(o.calibration), relative_to_origin=True, progress=False)
    assert np.isfinite(rel["com_x"].data).all()


def test_calibrate_probe_and_bad_pixels(sd):
    # Bragg disks only beyond the frame: the central disk is the one bright feature
    ds = crystal(sd, amorphous=0, g1=(30, 0), g2=(0, 30))
    p = sd.calibrate_probe(ds, progress=False)
    assert p["radius_px"] == pytest.approx(4, abs=0.7)
    assert p["center_qy_px"] == pytest.approx(23.5, abs=0.5)
    arr = crystal(sd, noise="poisson", dose=20, g1=(30, 0), g2=(0, 30)).to_numpy().copy()
    arr[:, :, 5, 40] = 60000  # a hot pixel in every frame
    bad = sd.find_bad_pixels(sd.from_numpy(arr), progress=False)
    assert [(b["qy"], b["qx"], b["kind"]) for b in bad] == [(5, 40, "hot")]
    p = sd.calibrate_probe(sd.from_numpy(arr), pattern="max", repair_bad_pixels=True, progress=False)
    assert p["bad_pixels_repaired"] >= 1 and p["radius_px"] == pytest.approx(4, abs=1.0)


def test_dpc_runs_on_a_calibrated_scan(sd):
    ds = crystal(sd).with_calibration(detector_pixel_size=0.01, detector_units="A^-1", scan_pixel_size=1.0,
                                      scan_units="A")
    r = sd.dpc(ds, progress=False)
    assert r["idpc_phase"].data.shape == (6, 7) and r["idpc_phase"].units == "rad"
    assert -90 <= r["rotation_deg"] < 90


def test_convert_and_simulate_write_files(sd, tmp_path):
    arr = random_scan()
    out = sd.convert(sd.from_numpy(arr), tmp_path / "c.h5", progress=False)
    with h5py.File(tmp_path / "c.h5", "r") as f:
        np.testing.assert_array_equal(f["datacube_root/datacube/data"][()], arr)
        np.testing.assert_array_equal(f["datacube_root/total_intensity/data"][()],
                                      arr.astype(np.float64).sum(axis=(2, 3)))
        assert "conversion" in f["datacube_root/metadatabundle"]
    assert (tmp_path / "c_mean_diffraction.png").exists() and "max_diffraction" in out
    raw = sd.simulate(tmp_path / "s.raw", scan=(2, 3), frame=(16, 16), seed=3, progress=False)
    lazy = sd.simulate(scan=(2, 3), frame=(16, 16), seed=3)
    np.testing.assert_array_equal(raw.to_numpy(), lazy.to_numpy())
    doc = json.loads((tmp_path / "s_truth.json").read_text())
    assert doc["shape"] == [2, 3, 16, 16] and (tmp_path / "s_truth.h5").exists()
    back = sd.open(tmp_path / "c.h5")
    assert back.shape == arr.shape
    with pytest.raises(ValueError, match="extension"):
        sd.simulate(tmp_path / "x.txt")


# -- Python functions run by the engine ------------------------------------------------------------

def test_frame_map_and_block_reduce(sd):
    arr = random_scan()
    ds = sd.from_numpy(arr)
    per_frame = sd.map_frames(ds, lambda f: f.max() - f.min(), dtype="float32", progress=False)
    assert per_frame.data.dtype == np.float32 and per_frame.data.shape == (5, 6)
    np.testing.assert_array_equal(per_frame.data, (arr.max(axis=(2, 3)) - arr.min(axis=(2, 3))).astype(np.float32))
    hist = sd.map_frames(ds, lambda f, first: np.stack([np.bincount(x.ravel() // 50, minlength=4) for x in f]),
                         shape=(4,), dtype="uint32", per_block=True, progress=False)
    assert hist.data.shape == (5, 6, 4) and (hist.data.sum(axis=2) == 20 * 24).all()
    total = sd.reduce_blocks(ds, lambda f, first: f.sum(axis=0, dtype=np.float64), block_frames=4, progress=False)
    np.testing.assert_array_equal(total, arr.sum(axis=(0, 1), dtype=np.float64))
    firsts = sd.reduce_blocks(ds, lambda f, first: [first], block_frames=7, progress=False)
    assert firsts == [0, 7, 14, 21, 28]  # merged in frame order


def test_frames_given_to_python_are_read_only_views(sd):
    ds = sd.from_numpy(random_scan())

    def write(frame):
        frame[0, 0] = 1

    with pytest.raises(ValueError, match="read-only"):
        sd.map_frames(ds, write, progress=False)


def test_python_function_errors_propagate(sd, tmp_path):
    ds = crystal(sd)

    def boom(frame):
        raise ZeroDivisionError("bad frame")

    with pytest.raises(ZeroDivisionError, match="bad frame"):
        sd.run(ds, [sd.FrameMap(boom), sd.WriteEMD(tmp_path / "o.h5")], progress=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="unknown shape"):  # a bad analysis after a writer
        sd.run(ds, [sd.WriteEMD(tmp_path / "o.h5"), sd.VirtualImage("ring:1,2,3")], progress=False)
    assert list(tmp_path.iterdir()) == []


# -- progress and cancellation ---------------------------------------------------------------------

def test_progress_reports_every_frame(sd):
    seen = []
    sd.run(crystal(sd), [sd.CenterOfMass()], block_frames=10, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (42, 42) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_tqdm_progress(sd, capsys):
    pytest.importorskip("tqdm")
    sd.run(crystal(sd), [sd.CenterOfMass()], progress=True)


def test_cancel_from_progress_leaves_no_file(sd, tmp_path):
    ds = crystal(sd)
    with pytest.raises(sd.Cancelled):
        sd.run(ds, [sd.WriteEMD(tmp_path / "o.h5")], block_frames=4, progress=lambda d, t: False)
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_from_callback_leaves_no_file(sd, tmp_path):
    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sd.convert(crystal(sd), tmp_path / "o.h5", block_frames=4, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_sigint_cancels_a_run_cleanly(sd, tmp_path):
    """A real SIGINT (what Ctrl-C and Jupyter's interrupt send) during a pass."""
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.005)  # a pass slower than the 50 ms signal polling
        return True

    ds = crystal(sd, scan=(30, 30))
    with pytest.raises(KeyboardInterrupt):
        sd.run(ds, [sd.WriteEMD(tmp_path / "o.h5"), sd.CenterOfMass()], block_frames=2, threads=1,
               progress=progress)
    assert calls[-1] < 900  # stopped early
    assert list(tmp_path.iterdir()) == []
    # the engine is usable again afterwards
    assert sd.center_of_mass(crystal(sd), progress=False)["com_x"].data.shape == (6, 7)


# -- real data ---------------------------------------------------------------------------------------

def test_real_merlin_file(sd, shared_data):
    path = shared_data / "mib" / "rsciio" / "001_4x2_6bit.mib"
    ds = sd.open(path)
    assert ds.format == "mib" and ds.dtype == np.uint8 and ds.frame_shape == (256, 256)
    assert ds.shape[0] * ds.shape[1] == 8
    assert "scan_shape" in ds.metadata
    total = sd.reduce_blocks(ds, lambda f, first: int(f.sum(dtype=np.int64)), progress=False)
    assert total == 3623664
    image = sd.virtual_image(ds, sd.rectangle(0, 256, 0, 256), progress=False)
    assert image.data.sum() == 3623664
    forced = sd.open(path, scan_shape=(2, 4))
    assert forced.shape == (2, 4, 256, 256)
    np.testing.assert_array_equal(forced[1, 0], ds.frames(4, 1)[0])


def test_median_diffraction_exact_in_several_passes(sd):
    arr = random_scan((6, 5, 24, 20), seed=4)
    ds = sd.from_numpy(arr)
    med = sd.median_diffraction(ds, progress=False)
    np.testing.assert_array_equal(med.data, np.median(arr.reshape(30, 24, 20).astype(np.float64), axis=0))
    select = np.zeros((6, 5)); select[1:4, 2:] = 1
    small = sd.median_diffraction(ds, select=select, memory="70K", progress=False)  # several tiles
    np.testing.assert_array_equal(small.data, np.median(arr[1:4, 2:].reshape(9, 24, 20).astype(np.float64), axis=0))


def test_sigint_in_the_last_block_still_interrupts(sd, tmp_path):
    """Ctrl-C during the call, even after the last block, raises before any file is committed."""
    def progress(done, total):
        if done == total:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        sd.run(crystal(sd), [sd.WriteEMD(tmp_path / "o.h5")], progress=progress)
    assert list(tmp_path.iterdir()) == []


# -- preparation in R and Q ----------------------------------------------------------------------------

def test_preparation_in_r_and_q(sd, tmp_path):
    arr = random_scan((6, 8, 20, 24), seed=5)
    ds = sd.from_numpy(arr)
    sub = ds.subset(ry=(1, 6), rx=(0, 8), step=2)
    assert sub.shape == (3, 4, 20, 24)
    np.testing.assert_array_equal(sub[1, 2], arr[3, 4])
    binned = ds.bin_scan(2)
    assert binned.shape == (3, 4, 20, 24)
    np.testing.assert_array_equal(binned[1, 1], arr[2:4, 2:4].sum(axis=(0, 1)))
    # Q stages: detectors are given in the prepared (binned) pixels, outputs are in them too
    stages = [sd.CropQ(0, 20, 2, 22), sd.BinQ(2)]
    r = sd.run(ds, [sd.VirtualImage(sd.rectangle(0, 5, 0, 10), name="top"), sd.VirtualDiffraction(),
                    sd.WriteEMD(tmp_path / "prepared.h5")], stages=stages, progress=False)
    q = arr[:, :, :, 2:22].reshape(6, 8, 10, 2, 10, 2).sum(axis=(3, 5)).astype(np.float64)
    np.testing.assert_array_equal(r["top"].data, q[:, :, :5, :].sum(axis=(2, 3)))
    np.testing.assert_array_equal(r["max_diffraction"].data, q.max(axis=(0, 1)))
    with h5py.File(tmp_path / "prepared.h5", "r") as f:
        np.testing.assert_array_equal(f["datacube_root/datacube/data"][()], q)


def test_fft_planning_and_wisdom(sd, tmp_path):
    # A frame size no other test uses: the measured plans stay in this process's FFTW wisdom.
    rng = np.random.default_rng(3)
    frame = rng.poisson(5, (44, 38)).astype(np.uint16)
    kernel, _ = sd.probe_kernel(sd.synthetic_probe(3, 1, (44, 38)))
    options = dict(subpixel="multicorr", edge_boundary=3, min_peak_spacing=4)
    default = sd.find_bragg_disks(frame, kernel, **options)
    assert sd.fft_planning() == "estimate"
    wisdom = tmp_path / "plans.wisdom"
    assert not sd.import_fftw_wisdom(wisdom)  # no file yet
    try:
        sd.set_fft_planning("patient")
        measured = sd.find_bragg_disks(frame, kernel, **options)
        sd.export_fftw_wisdom(wisdom)
        assert wisdom.read_text().startswith("(fftw-3")
        assert sd.import_fftw_wisdom(wisdom)
    finally:
        sd.set_fft_planning("estimate")
    assert len(default) > 0 and measured.shape == default.shape
    np.testing.assert_allclose(measured, default, rtol=1e-9, atol=1e-9)
    with pytest.raises(sd.InvalidArgument, match="'fastest'"):
        sd.set_fft_planning("fastest")
    (tmp_path / "bad").write_text("nope")
    with pytest.raises(sd.FormatError, match="bad"):
        sd.import_fftw_wisdom(tmp_path / "bad")
