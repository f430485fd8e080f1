"""Jupyter: docs/tutorial.py executed as a notebook (its '# %%' cells) in a real IPython kernel, and
the kernel's interrupt (Jupyter's stop button) stopping a long pass with KeyboardInterrupt and no
file left behind. Needs nbformat, nbclient and ipykernel (optional in scripts/install-deps): the
tests skip when they are not importable."""
import os
import pathlib
import queue
import re
import sys
import textwrap
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def jupyter(sd, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # The kernel is a subprocess: it finds scandiff (and ipykernel) where this process does.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    return nbformat, nbclient


def tutorial_notebook(nbformat, out):
    text = (ROOT / "docs" / "tutorial.py").read_text()
    cells = [c.strip("\n") for c in re.split(r"^# %%", text, flags=re.M)]
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(cells[0].strip().strip('"')))
    nb.cells.append(nbformat.v4.new_code_cell(f"import sys\nsys.argv = ['tutorial', {str(out)!r}]"))
    for cell in cells[1:]:
        title, _, body = cell.partition("\n")
        nb.cells.append(nbformat.v4.new_markdown_cell(title.strip()))
        nb.cells.append(nbformat.v4.new_code_cell(body))
    return nb


def test_tutorial_runs_as_a_notebook(jupyter, tmp_path):
    nbformat, nbclient = jupyter
    nb = tutorial_notebook(nbformat, tmp_path / "out")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}})
    client.execute()
    nbformat.write(nb, tmp_path / "tutorial.ipynb")
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "peaks:" in outputs and "profiles (24, 24, 100)" in outputs
    assert (tmp_path / "out" / "frame.xy").exists()


def test_interrupt_button_stops_a_pass_and_leaves_no_file(jupyter, tmp_path):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        code = textwrap.dedent(f"""
            import scandiff as sd
            ds = sd.simulate(scan=(96, 96), frame=(128, 128), seed=1)   # lazy, seconds to render
            sd.run(ds, [sd.WriteEMD({str(tmp_path / 'x.h5')!r}), sd.Polar()], threads=2, progress=False)
        """)
        msg_id = kc.execute(code)
        started = False
        while not started:  # wait until the cell runs, then press "stop"
            msg = kc.get_iopub_msg(timeout=60)
            started = msg["msg_type"] == "status" and msg["content"]["execution_state"] == "busy"
        time.sleep(2)
        km.interrupt_kernel()
        while True:
            try:
                reply = kc.get_shell_msg(timeout=120)
            except queue.Empty:
                pytest.fail("the interrupted cell did not finish")
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert [p.name for p in tmp_path.iterdir() if p.suffix == ".h5" or "tmp" in p.name] == []
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
