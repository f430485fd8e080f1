"""Shared fixtures for the end-to-end tests: the built CLI, the real-data folder."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("SCANDIFF_BUILD", ROOT / "build"))
SHARED_DATA = pathlib.Path(os.environ.get("SCANDIFF_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def cli():
    exe = BUILD / "scandiff"
    if not exe.exists():
        pytest.fail(f"{exe} not built: run 'make build' first")

    def run(*args, check=True, **kw):
        proc = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=600, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"scandiff {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (it lives beside the checkout in ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sd():
    """The installed scandiff Python package (make python / make test-python installs it)."""
    try:
        import scandiff
    except ImportError as e:  # not installed: say how to get it
        pytest.skip(f"the scandiff Python package is not installed ({e}); run 'make python'")
    return scandiff
