"""docs/ARCHITECTURE.md tells how to add a block, a data set, a constraint, an executor, an
analysis and a plot, each as one module plus one registry entry: the files and registries it
names exist."""

import importlib
import re
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text()


def adding_rows() -> dict[str, str]:
    """The rows of the "Adding one of the six things" table: thing -> its text."""
    section = DOC.split("## Adding one of the six things", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| \*\*(.+?)\*\* \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_the_table_covers_the_usual_changes():
    assert set(adding_rows()) == {
        "a block",
        "a data set",
        "a constraint",
        "an executor",
        "an analysis",
        "a plot",
    }


def test_every_file_the_document_names_exists():
    named = set(re.findall(r"`(designspace/[\w/]+\.py)`", DOC))
    layers = "core|training|formats|analysis|sweep|reporting|studies|commands"
    named |= {f"designspace/{p}" for p in re.findall(rf"`((?:{layers})/\w+\.py)`", DOC)}
    assert len(named) > 40  # the module map and the recipes
    missing = sorted(p for p in named if not (ROOT / p).is_file())
    assert not missing, f"docs/ARCHITECTURE.md names files that do not exist: {missing}"


def test_every_registry_of_the_table_exists_where_it_says():
    checked = 0
    for thing, text in adding_rows().items():
        files = re.findall(r"`(designspace/[\w/]+\.py)`", text)
        registries = set(re.findall(r"`(_?[A-Z][A-Z_]{3,})`", text))
        assert files and registries, thing
        modules = [importlib.import_module(f[:-3].replace("/", ".")) for f in files]
        for name in registries:
            holders = [m for m in modules if isinstance(getattr(m, name, None), (Mapping, tuple))]
            assert holders, f"{thing}: no registry {name} in {files}"
            checked += 1
    assert checked >= 6  # BLOCK_MODULES, _BUILTIN, CONSTRAINT_KINDS, EXECUTORS, SECTIONS, ...


def test_the_worked_example_is_the_slurm_executor_in_the_registry():
    from designspace.sweep.registry import EXECUTORS

    assert "Worked example: the SLURM executor" in DOC
    assert EXECUTORS["slurm"] == "designspace.sweep.slurm_executor:SlurmExecutor"
