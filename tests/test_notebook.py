"""experiments/analysis.ipynb runs top to bottom on the committed (synthetic) results set."""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "experiments" / "analysis.ipynb"


def test_analysis_notebook_executes_and_draws_the_plots(monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    loads = [c.source for c in nb.cells if c.cell_type == "code" and "read_parquet" in c.source]
    assert len(loads) == 1 and loads[0].count("pd.read_parquet(") == 1
    monkeypatch.delenv("DESIGNSPACE_RESULTS", raising=False)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # jupyter_client runs a kernelspec whose argv starts with "python" with sys.executable,
    # so the kernel is this virtual environment's interpreter
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print('KERNEL', sys.executable)"))
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # EDFs, widths/e_fit, error vs parameters, search/flops
    text = "".join(o.get("text", "") for o in outputs)
    assert "AnyNetXE" in text and "verdict_ref" in text and "widths_increase" in text
    assert f"KERNEL {sys.executable}" in text
