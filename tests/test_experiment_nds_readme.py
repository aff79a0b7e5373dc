"""experiments/nds_readme.py on the committed NDS tables: the README section it writes is the
one README.md carries, its parts come in README order, and each part stays small."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "results" / "nds"
# The one line README.md annotates by hand (where the NDS files live on this machine).
ANNOTATED = "`python experiments/nds.py --nds-dir DIR --out results/nds --readme FILE`"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"experiment_{name}", ROOT / "experiments" / name)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look modules up by name
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def writer() -> ModuleType:
    return _load("nds_readme.py")


@pytest.fixture(scope="module")
def section(writer: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The section written from the committed tables, named as README.md names them."""
    nds = _load("nds.py")
    path = tmp_path_factory.mktemp("readme") / "nds.md"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)  # the tables are read through the relative name README.md shows
        writer.write_readme(
            TABLES.relative_to(ROOT), path, tuple(nds.LRWD), nds.KS_EPOCHS, nds.EXTRA_EPOCHS
        )
    return path.read_text()


def test_the_readme_carries_the_section_the_tables_give(section: str):
    readme = (ROOT / "README.md").read_text()
    lines = [line for line in section.splitlines() if line.strip()]
    assert lines[0] == "## Published populations (NDS)" and len(lines) > 20
    # Each line, in order, after the previous one (the annotated one is checked up to DIR).
    missing, at = [], 0
    for line in lines:
        found = readme.find(ANNOTATED if line.startswith(ANNOTATED) else line, at)
        if found < 0:
            missing.append(line)
        else:
            at = found + 1
    assert missing == []


def test_parts_come_in_readme_order(
    writer: ModuleType, section: str, monkeypatch: pytest.MonkeyPatch
):
    heads = [
        "## Published",
        "**Complexity-normalized EDFs**",
        "**Learning rate and weight",
        "**Training noise**",
        " Top vs mid:",
        "*What this means",
        "**Multi-fidelity",
    ]
    assert [section.index(h) for h in heads] == sorted(section.index(h) for h in heads)
    assert section.endswith("a noisier one.\n\n")
    monkeypatch.chdir(ROOT)
    tables = writer.Tables.read(
        TABLES.relative_to(ROOT), ("ResNet", "Vanilla", "DARTS"), (1, 2, 5, 10, 25), (40, 45)
    )
    assert "\n".join(writer.readme_lines(tables)) + "\n" == section


@pytest.mark.parametrize(
    "part",
    [
        "intro",
        "reproduce",
        "edfs",
        "lr_wd",
        "noise_spread",
        "noise_separation",
        "noise_meaning",
        "fidelity",
    ],
)
def test_each_part_is_a_small_function(writer: ModuleType, part: str):
    source, _ = inspect.getsourcelines(getattr(writer, part))
    assert len(source) <= 60
    assert getattr(writer, part) in writer.PARTS
