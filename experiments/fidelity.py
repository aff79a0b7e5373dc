"""Multi-fidelity check: does the short schedule rank models as a 4x longer one does?

The papers (and the chapter's assumption 2) rank design spaces by errors after a short
schedule. This retrains a subset of a finished study's models with ``--factor`` times the
epochs (every other setting unchanged: same data subset, seed, batch, lr) and reports the rank
agreement of the two result sets: Spearman and Kendall correlation and top-k overlap, with
bootstrap 95% intervals.

The subset: ``--per-space`` models of each space, spread evenly over that space's error ranking
in the short run (best, worst and between), so the check covers the whole error range.

Run (after the study):
    python experiments/fidelity.py                      # fmnist-progression, 5 per space, 4x
Writes to results/fidelity/: the sweep (sweep.json, results/), agreement.csv, fidelity.png and
summary.json. Rerunning resumes the sweep.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def pick(results: pd.DataFrame, per_space: int) -> pd.DataFrame:
    """``per_space`` "ok" rows of each space at evenly spaced ranks of val_top1_err."""
    ok = results[results["status"] == "ok"]
    out = []
    for _, group in ok.groupby("space", sort=True):
        g = group.sort_values("val_top1_err", kind="stable").reset_index(drop=True)
        idx = np.unique(np.round(np.linspace(0, len(g) - 1, per_space)).astype(int))
        out.append(g.iloc[idx])
    return pd.concat(out, ignore_index=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default=str(ROOT / "experiments/fmnist-progression.toml"))
    ap.add_argument("--per-space", type=int, default=5)
    ap.add_argument("--factor", type=float, default=4.0, help="epochs multiplier (default 4)")
    ap.add_argument("--out", default=str(ROOT / "results/fidelity"))
    args = ap.parse_args()

    from designspace.analysis import rank_agreement
    from designspace.plots import fidelity_plot, new_figure, save
    from designspace.results import load_results
    from designspace.study import load_study
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.train import TrainConfig

    study = load_study(args.study)
    short = load_results(study.out)
    chosen = pick(short, args.per_space)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = out / "samples.parquet"
    chosen[["space", "sample_index", "arch_id", "arch_json", "flops"]].to_parquet(samples)

    base = study.train_config()
    long_cfg = TrainConfig.from_dict({**base.to_dict(), "epochs": base.epochs * args.factor})
    long = run_sweep(
        SweepConfig(samples=str(samples), train=long_cfg, regime=study.regime, name="fidelity"),
        out,
        Placement(**study.placement),
    )
    short_sub = short[short["arch_id"].isin(chosen["arch_id"])]
    table = rank_agreement(short_sub, long)
    table.to_csv(out / "agreement.csv", index=False)
    fig, ax = new_figure(5.0, 4.5)
    fidelity_plot(short_sub, long, hue="space", ax=ax)
    ax.set_title(f"{len(chosen)} models: {base.epochs:g} vs {long_cfg.epochs:g} epochs")
    save(fig, out / "fidelity.png")
    ok = long[long["status"] == "ok"]
    summary = {
        "study": study.name,
        "models": len(chosen),
        "short_epochs": base.epochs,
        "long_epochs": long_cfg.epochs,
        "median_err_short": float(short_sub["val_top1_err"].median()),
        "median_err_long": float(ok["val_top1_err"].median()),
        "agreement": table.to_dict(orient="records"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(table.to_string(index=False))
    print(f"wrote {out}/agreement.csv, fidelity.png, summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
