"""Print the README's per-space tables from a study's analysis/comparison.csv.

    python experiments/readme_tables.py results/fmnist-progression results/fmnist-exercises

One markdown table per study: the error summary per space and the Brunner-Munzel comparison with
the reference space (raw and Holm-adjusted p, difference of medians, verdict), as written by
``designspace analyze``. README.md carries them through experiments/readme_findings.py. Those
pairwise verdicts are exploratory (adjusted within the table; the header says so); the
study's findings are the confirmatory family's verdicts, printed after it from
``analysis/findings.csv`` when the analysis wrote one (:mod:`designspace.analysis.family`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def table(study: Path) -> str:
    """The markdown table of one study folder (reads ``analysis/comparison.csv``)."""
    c = pd.read_csv(study / "analysis" / "comparison.csv")
    rows = [
        "| space | n | min | q1 | median | q3 | mean | BM p vs reference (raw -> Holm) "
        "| median diff vs reference | verdict (exploratory) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in c.itertuples():
        stats = f"| {r.space} | {r.n} | {r.min:.4f} | {r.q1:.4f} | {r.median:.4f} | {r.q3:.4f} "
        stats += f"| {r.mean:.4f} "
        if r.verdict_ref == "reference":
            rows.append(stats + "| - | - | reference |")
        else:
            rows.append(
                stats + f"| {r.p_ref:.2g} -> {r.p_ref_adjusted:.2g} | {r.median_diff_ref:+.4f} "
                f"| {r.verdict_ref} |"
            )
    return "\n".join(rows)


def findings_table(study: Path) -> str | None:
    """The markdown table of a study's findings (``analysis/findings.csv``: the confirmatory
    family's verdicts, Holm once over the family), or None when the analysis wrote none."""
    path = study / "analysis" / "findings.csv"
    if not path.exists():
        return None
    f = pd.read_csv(path)
    rows = [
        "| finding (confirmatory) | verdict | p raw -> adjusted over the family | effect "
        "[interval] |",
        "|---|---|---|---|",
    ]
    for r in f.itertuples():
        rows.append(
            f"| {r.rule} | {r.verdict} | {r.p_value:.2g} -> {r.p_adjusted:.2g} | "
            f"{r.effect:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}] |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("studies", nargs="+", type=Path, help="study folders")
    for study in ap.parse_args().studies:
        print(f"{study}\n\n{table(study)}\n")
        found = findings_table(study)
        if found is not None:
            print(f"{found}\n")


if __name__ == "__main__":
    main()
