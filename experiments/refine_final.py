"""The refine loop's final space against the paper's spaces (issue 21, validation): the fresh
models of the last confirmed round's refined space against the committed AnyNetXE and 4-stage
RegNetX models of the same regime and training settings.

    .venv/bin/python experiments/refine_final.py results/refine-xa-small \
        --against results/fmnist-small-progression:AnyNetXE \
                  results/fmnist-small-regnet:NestedRegNetX_b1_wm2_d12_28 \
                  results/fmnist-small-progression:RegNetX@4 \
        --out results/refine-xa-small/final

``FOLDER:SPACE@K`` keeps only the models with K stages (the old RegNetX arm is not nested and
mixes stage counts). Writes ``comparison.csv`` (every pair: Brunner-Munzel, Holm over the
pairs, median difference and P(a beats b) with intervals), ``balance.csv`` (the final space
against each other arm: standardized mean differences and tests per structural feature),
``edf.png`` and ``summary.md`` (with this command and the commit). Nothing is trained.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

from designspace.analysis import compare
from designspace.analysis.balance import step_balance
from designspace.analysis.inference import Inference
from designspace.analysis.load import load_results
from designspace.reporting.plots import edf_plot, new_figure, save

ROOT = Path(__file__).resolve().parents[1]
METRIC = "val_top1_err"


def arm(spec: str) -> pd.DataFrame:
    """The rows of ``FOLDER:SPACE[@K]`` (status ok), labelled ``SPACE`` or ``SPACE (K stages)``."""
    folder, space = spec.rsplit(":", 1)
    stages = None
    if "@" in space:
        space, k = space.split("@")
        stages = int(k)
    d = load_results(folder)
    d = d[(d["space"] == space) & (d["status"] == "ok")]
    label = space
    if stages is not None:
        d = d[d["num_stages"] == stages]
        label = f"{space} ({stages} stages)"
    return d.assign(space=label)


def final_arm(refine_dir: Path) -> tuple[pd.DataFrame, str]:
    """The fresh models of the final space (the refined arm of the last confirmed round)."""
    rounds = pd.read_csv(refine_dir / "rounds.csv")
    kept = rounds[rounds["kept"].astype(bool) & rounds["confirmed"].fillna(False).astype(bool)]
    if kept.empty:
        raise SystemExit(f"{refine_dir}: no confirmed round, nothing to compare")
    last = kept.iloc[-1]
    d = load_results(refine_dir / f"round-{int(last['round'])}" / "confirm")
    d = d[(d["space"] == last["refined"]) & (d["status"] == "ok")]
    return d, str(last["refined"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("refine_dir", type=Path)
    ap.add_argument("--against", nargs="+", required=True, metavar="FOLDER:SPACE[@K]")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    final, name = final_arm(args.refine_dir)
    arms = [final] + [arm(s) for s in args.against]
    data = pd.concat(arms, ignore_index=True)
    inference = Inference()
    cmp = compare(data, by="space", metric=METRIC, reference=name, inference=inference)
    args.out.mkdir(parents=True, exist_ok=True)
    cmp.pairs.to_csv(args.out / "comparison.csv", index=False)
    balances = []
    for other in data["space"].unique():
        if other == name:
            continue
        b = step_balance(data, other, name, None, by="space", metric=METRIC, inference=inference)
        balances.append(b.table.assign(final=name, other=other))
        print(b.sentence())
    pd.concat(balances, ignore_index=True).to_csv(args.out / "balance.csv", index=False)
    fig, ax = new_figure()
    edf_plot(data, metric=METRIC, hue="space", ax=ax)
    ax.set_title(f"refine's final space {name} vs the paper's spaces")
    save(fig, args.out / "edf.png")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    table = cmp.table[["n", "median", "q1", "q3"]].copy()
    lines = [
        f"# {name} against the paper's spaces",
        "",
        f"Command: `.venv/bin/python {' '.join(sys.argv)}` (commit {commit}).",
        "",
        table.to_markdown(floatfmt=".4f"),
        "",
        "Pairs (Brunner-Munzel, Holm over the pairs; median difference a - b (Price-Bonett "
        "interval) and P(a beats b) (the test inverted) with intervals at the adjusted level):",
        "",
        cmp.pairs[
            [
                "a",
                "b",
                "n_a",
                "n_b",
                "median_diff",
                "median_diff_low",
                "median_diff_high",
                "p_a_beats_b",
                "p_value",
                "p_adjusted",
                "verdict",
            ]
        ].to_markdown(index=False, floatfmt=".4g"),  # fmt: skip
        "",
    ]
    (args.out / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
