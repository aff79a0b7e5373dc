"""README's findings: every table is what experiments/readme_findings.py renders from the
committed analyses, and every finding a sentence cites by key is a row of one of them."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def findings() -> ModuleType:
    sys.path.insert(0, str(ROOT / "experiments"))  # it imports readme_tables
    spec = importlib.util.spec_from_file_location(
        "readme_findings", ROOT / "experiments" / "readme_findings.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def readme() -> str:
    return (ROOT / "README.md").read_text()


def test_the_readme_carries_every_block_as_rendered(findings: ModuleType, readme: str):
    assert findings.stale(readme) == []
    assert len(findings.blocks()) >= 10


def test_every_cited_finding_is_a_row(findings: ModuleType, readme: str):
    """A backticked "A vs B" or "rule in Space" in README's prose names a finding: it must be
    the key of a row in one of the rendered tables (so it points at the row deciding it)."""
    keys = {row.key for block in findings.BLOCKS for _label, row in block.findings}
    prose = re.sub(r"```.*?```", "", readme, flags=re.S)
    cited = set(re.findall(r"`([A-Za-z][\w-]* vs [A-Za-z][\w-]*)`", prose))
    cited |= set(re.findall(r"`(\w+ in AnyNet\w+)`", prose))
    assert len(cited) >= 10
    assert sorted(cited - keys) == []


def test_a_stale_block_is_reported_and_rewritten(findings: ModuleType, readme: str):
    """Change one number of a block: --check names it, --write restores it."""
    name = "fmnist-small-nested"
    block = findings.blocks()[name]
    edited = readme.replace(block, block.replace("supported (robust)", "supported (fragile)", 1))
    assert edited != readme
    assert findings.stale(edited) == [name]
    assert findings.write(edited) == readme
    with pytest.raises(KeyError, match="no block"):
        findings.write(readme.replace(f"<!-- /findings:{name} -->", ""))


def test_verdicts_md_shows_the_numbers_of_the_committed_analyses(findings: ModuleType):
    """results/verdicts.md (experiments/reanalyze.py recomputes through the same deterministic
    functions) shows, for every nested step of both regimes, the verdict and median interval of
    the committed analyses' rules_nested.csv: one computation, rendered everywhere."""
    import pandas as pd

    text = (ROOT / "results" / "verdicts.md").read_text()
    rows = {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ")}
    checked = 0
    for label, row in findings._steps(findings.N28):
        if row.kind != "rule":
            continue
        line = rows[label]
        for analysis in (findings.N28, findings.NSMALL):
            r = pd.read_csv(ROOT / analysis / "rules_nested.csv").set_index("rule").loc[row.key]
            cell = (
                f"{r['verdict']} ({r['sensitivity']}): median {r['effect']:+.4f} "
                f"[{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]"
            )
            assert cell in line, (label, cell)
            checked += 1
    assert checked == 16
