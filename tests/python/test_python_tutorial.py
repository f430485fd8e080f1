"""docs/tutorial.py runs end to end (on simulated data)."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_tutorial_runs(sd, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "tutorial.py"), str(tmp_path)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for name in ("crystal.h5", "crystal_truth.h5", "results.h5", "converted.h5", "bf.png", "frame.xy"):
        assert (tmp_path / name).exists(), name
