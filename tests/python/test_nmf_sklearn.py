"""scandiff nmf against scikit-learn (NMF, PCA) and numpy on planted non-negative data."""
import json

import h5py
import numpy as np
import pytest

from emd_input import write_emd_array

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is the oracle of these tests")
from sklearn.decomposition import NMF, PCA  # noqa: E402


def planted(ry=30, rx=40, n=90, k=4, seed=0, noise=0.01):
    """Profiles X = W·H (+ small non-negative noise): Gaussian peaks H, one dominant component per position."""
    rng = np.random.default_rng(seed)
    q = np.arange(n)
    h = np.array([np.exp(-0.5 * ((q - (c + 0.5) * n / k) / (0.06 * n)) ** 2) for c in range(k)]) + 0.02
    w = 0.2 * rng.random((ry * rx, k))
    w[np.arange(ry * rx), np.arange(ry * rx) % k] += 1.0
    x = w @ h + noise * rng.random((ry * rx, n))
    return x.reshape(ry, rx, n), w, h


def cosine_matches(truth, found):
    t = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    f = found / np.linalg.norm(found, axis=1, keepdims=True)
    return (t @ f.T).max(axis=1)


@pytest.mark.parametrize("solver", ["mu", "cd"])
def test_reconstruction_error_matches_sklearn(cli, tmp_path, solver):
    x, w, h = planted()
    node = write_emd_array(tmp_path / "in.h5", x)
    out = tmp_path / solver
    cli("nmf", tmp_path / "in.h5", "--datapath", node, "--out", out, "-k", 4, "--solver", solver, "--init", "nndsvda",
        "--max-iter", 200, "--tol", 1e-4, "--quiet")
    summary = json.loads((out / "summary.json").read_text())
    ours = summary["nmf"]["reconstruction_error"]
    model = NMF(n_components=4, init="nndsvda", solver=solver, max_iter=200, tol=1e-4)
    model.fit_transform(x.reshape(-1, x.shape[-1]))
    theirs = model.reconstruction_err_
    assert ours == pytest.approx(theirs, rel=0.01), (ours, theirs, summary["nmf"]["iterations"], model.n_iter_)
    with h5py.File(out / "nmf.h5") as f:
        components = f["nmf/nmf_components/data"][()]
        maps = np.stack([f[f"nmf/nmf_map_{c}/data"][()] for c in range(4)])
    assert components.shape == (4, 90)
    assert maps.shape == (4, 30, 40)
    assert cosine_matches(h, components).min() >= 0.99
    assert cosine_matches(w.T, maps.reshape(4, -1)).min() >= 0.99
    # The coefficient maps and components reproduce the data to the reported error.
    recon = maps.reshape(4, -1).T @ components
    assert np.linalg.norm(x.reshape(-1, 90) - recon) == pytest.approx(ours, rel=1e-9)


def test_error_scan_and_pca_match_numpy(cli, tmp_path):
    x, _, _ = planted(ry=20, rx=20, n=50, k=3, seed=1)
    node = write_emd_array(tmp_path / "in.h5", x)
    out = tmp_path / "out"
    cli("nmf", tmp_path / "in.h5", "--datapath", node, "--out", out, "-k", 3, "--scan-components", 5, "--pca", 4,
        "--quiet")
    scan = np.loadtxt(out / "nmf_error_scan.txt")
    assert list(scan[:, 0]) == [1, 2, 3, 4, 5]
    assert scan[0, 1] > scan[1, 1] > scan[2, 1]  # falls until the planted rank
    assert scan[2, 1] < 0.05 * scan[0, 1]
    table = np.loadtxt(out / "pca_explained_variance.txt")
    flat = x.reshape(-1, 50)
    s = np.linalg.svd(flat - flat.mean(axis=0), compute_uv=False)
    variance = s**2 / (flat.shape[0] - 1)
    np.testing.assert_allclose(table[:, 1], variance[:4], rtol=1e-8)
    np.testing.assert_allclose(table[:, 2], variance[:4] / variance.sum(), rtol=1e-8)
    pca = PCA(n_components=4, svd_solver="full").fit(flat)
    np.testing.assert_allclose(table[:, 1], pca.explained_variance_, rtol=1e-8)


def test_kmeans_separated_clusters_exact(cli, tmp_path):
    rng = np.random.default_rng(3)
    ry, rx, n = 12, 15, 20
    truth = (np.arange(ry * rx) * 7 // 13) % 3  # three interleaved classes
    centres = 10 * rng.random((3, n))
    x = centres[truth] + 0.05 * rng.standard_normal((ry * rx, n))
    node = write_emd_array(tmp_path / "in.h5", np.abs(x).reshape(ry, rx, n))
    cli("nmf", tmp_path / "in.h5", "--datapath", node, "--out", tmp_path / "o", "-k", 2, "--kmeans", 3, "--quiet")
    with h5py.File(tmp_path / "o" / "nmf.h5") as f:
        labels = f["nmf/kmeans_labels/data"][()].ravel()
    # Same partition up to a renaming of the labels.
    pairs = set(zip(truth.tolist(), labels.tolist()))
    assert len(pairs) == 3 and len({p[1] for p in pairs}) == 3


def test_patterns_are_flattened(cli, tmp_path):
    x, _, _ = planted(ry=8, rx=9, n=36, k=2, seed=5)
    node = write_emd_array(tmp_path / "in.h5", x.reshape(8, 9, 6, 6).astype(np.float32), name="datacube")
    cli("nmf", tmp_path / "in.h5", "--datapath", node, "--out", tmp_path / "o", "-k", 2, "--quiet")
    with h5py.File(tmp_path / "o" / "nmf.h5") as f:
        assert f["nmf/nmf_components_0/data"].shape == (6, 6)
    assert (tmp_path / "o" / "nmf_map_1.png").exists()
    assert (tmp_path / "o" / "nmf_components_1.png").exists()


def test_negative_input_is_a_usage_error(cli, tmp_path):
    x, _, _ = planted(ry=4, rx=4, n=10, k=2)
    x[1, 1, 1] = -1
    node = write_emd_array(tmp_path / "in.h5", x)
    proc = cli("nmf", tmp_path / "in.h5", "--datapath", node, "--out", tmp_path / "o", check=False)
    assert proc.returncode == 2
    assert ">= 0" in proc.stderr


def test_input_above_the_memory_budget_is_refused_before_reading(cli, tmp_path):
    x, _, _ = planted(ry=40, rx=40, n=200, k=2)  # 2.4 MiB as float64 + 2.4 MiB stored
    node = write_emd_array(tmp_path / "in.h5", x)
    proc = cli("--memory", "1M", "nmf", tmp_path / "in.h5", "--datapath", node, "--out", tmp_path / "o", check=False)
    assert proc.returncode == 4
    assert "memory budget" in proc.stderr
