"""experiments/analysis.ipynb runs top to bottom on a study folder (results/ and analysis/
side by side, as `designspace study` writes them) holding the committed synthetic results."""

import shutil
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "experiments" / "analysis.ipynb"
FIXTURE = ROOT / "results" / "fixtures" / "small_results"


def test_analysis_notebook_reads_a_study_folder_and_draws_the_sections(monkeypatch, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(FIXTURE, study / "results")
    (study / "analysis").mkdir()
    # what made the notebook fail before (ArrowInvalid): a CSV next to the parquet files
    (study / "analysis" / "comparison.csv").write_text("space,n\nAnyNetXA,40\n")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "load_results(RESULTS)" in code and "read_parquet" not in code
    assert "run_section(" in code  # the report's registry, not a copy of it
    # as the README runs it: a path relative to the folder jupyter was started in, while the
    # kernel runs in the notebook's folder
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("DESIGNSPACE_RESULTS", "study")
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
    assert len(images) >= 8  # the report's figures and the notebook's own
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert f"reading {study.resolve()}" in text
    assert "126 rows" in text and "AnyNetXE" in text and "verdict_ref" in text
    assert "widths_increase" in text
    assert f"KERNEL {sys.executable}" in text
