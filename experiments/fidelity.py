"""Multi-fidelity check: does the short schedule rank models as a longer one does, beyond
what training noise allows?

The papers (and the chapter's assumption 2) rank design spaces by errors after a short
schedule. This takes a RANDOM selection of a finished study's models (``--per-space`` drawn
uniformly within each space with ``--select-seed``, so the ranks are not chosen to spread the
error range), trains each of them with every training seed of ``--seeds`` in the study's short
setting and with ``--factor`` times the epochs (every other setting unchanged), and reports:

* rank agreement of short vs long (errors averaged over the seeds): Spearman, Kendall and
  top-k overlap with bootstrap 95% intervals;
* the noise ceiling: the Spearman correlation between seeds within each schedule (mean over
  seed pairs), its Spearman-Brown reliability for the mean of k seeds, and the ceiling
  sqrt(reliability_short x reliability_long) that no short-vs-long agreement can exceed when
  the two rankings are the same up to noise; ``spearman_disattenuated`` = spearman / ceiling;
* the noise floor of each schedule: the pooled seed-to-seed sd of the error.

Run (after the study; the full run trains 30 models x 3 seeds x (1 + 4) epochs):
    python experiments/fidelity.py
Tiny end-to-end check (a few optimizer steps, 3 models):
    python experiments/fidelity.py --per-space 1 --spaces AnyNetXA AnyNetXE RegNetX --seeds 0 1 \\
        --max-steps 3 --subset 256 --val-subset 100 --out /tmp/fidelity-check
Writes to --out (default results/fidelity-seeds; the single-seed check of before stays in
results/fidelity): selection.parquet, short/seed-<s>/ and
long/seed-<s>/ (the sweeps), agreement.csv (column ``statistic`` names every row), noise.csv,
summary.json, fidelity.png. Rerunning resumes the sweeps.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def pick(
    results: pd.DataFrame, per_space: int, seed: int, spaces: list[str] | None
) -> pd.DataFrame:
    """``per_space`` "ok" rows drawn uniformly at random (seeded) within each space."""
    ok = results[results["status"] == "ok"]
    if spaces:
        ok = ok[ok["space"].isin(spaces)]
    rng = np.random.default_rng(seed)
    out = []
    for _, group in ok.groupby("space", sort=True):
        idx = rng.choice(len(group), size=min(per_space, len(group)), replace=False)
        out.append(group.iloc[np.sort(idx)])
    return pd.concat(out, ignore_index=True)


def spearman_brown(r: float, k: int) -> float:
    """Reliability of the mean of k replicates whose pairwise correlation is r."""
    return k * r / (1 + (k - 1) * r) if r > -1 / (k - 1 or 1) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default=str(ROOT / "experiments/fmnist-progression.toml"))
    ap.add_argument("--results", default=None, help="the study's results (default: its out)")
    ap.add_argument("--per-space", type=int, default=5)
    ap.add_argument("--spaces", nargs="*", default=None, help="only these spaces")
    ap.add_argument("--select-seed", type=int, default=0, help="seed of the random selection")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    ap.add_argument("--factor", type=float, default=4.0, help="epochs multiplier (default 4)")
    ap.add_argument(
        "--max-steps", type=int, default=None, help="short = N steps, long = N x factor"
    )
    ap.add_argument("--subset", type=int, default=None, help="override the training subset")
    ap.add_argument("--val-subset", type=int, default=None, help="override the validation subset")
    ap.add_argument("--out", default=str(ROOT / "results/fidelity-seeds"))
    args = ap.parse_args()

    from designspace.analysis import load_results, noise_floor, rank_agreement, seed_agreement
    from designspace.errors import DesignSpaceError
    from designspace.reporting.plots import fidelity_plot, new_figure, save
    from designspace.studies.replicate import replicate
    from designspace.studies.study import load_study
    from designspace.sweep import Placement

    study = load_study(args.study)
    chosen = pick(
        load_results(args.results or study.out), args.per_space, args.select_seed, args.spaces
    )
    if len(chosen) < 3:
        raise DesignSpaceError("the selection holds fewer than 3 models; raise --per-space")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    samples = out / "selection.parquet"
    chosen[["space", "sample_index", "arch_id", "arch_json", "flops"]].to_parquet(samples)

    base = study.train_config().to_dict()
    for key, value in (("subset", args.subset), ("val_subset", args.val_subset)):
        if value is not None:
            base[key] = value
    short_d = dict(base)
    long_d = {**base, "epochs": base["epochs"] * args.factor}
    if args.max_steps is not None:
        short_d["max_steps"] = args.max_steps
        long_d["max_steps"] = int(round(args.max_steps * args.factor))
    from designspace.training.train import TrainConfig

    placement = Placement(**study.placement)
    runs = {}
    for label, cfg in (("short", short_d), ("long", long_d)):
        runs[label] = replicate(
            samples,
            TrainConfig.from_dict(cfg),
            args.seeds,
            out / label,
            regime=study.regime,
            placement=placement,
            name=f"fidelity-{label}",
        )
    short, long = runs["short"], runs["long"]
    n = len(chosen)
    top_k = [k for k in (0.1, 0.25) if round(k * n) >= 1]
    table = rank_agreement(short, long, top_k=top_k, min_models=min(5, n))
    k = len(args.seeds)
    noise_rows, extra = [], []
    ceiling_parts = []
    for label, frame in runs.items():
        nf = noise_floor(frame)
        noise_rows.append(
            dict(
                schedule=label,
                sd=nf.sd,
                sd_low=nf.sd_low,
                sd_high=nf.sd_high,
                n_archs=nf.n_archs,
                dof=nf.dof,
                median_err=float(frame["val_top1_err"].median()),
            )
        )
        try:
            r = float(seed_agreement(frame)["spearman"].mean())
        except DesignSpaceError:  # fewer than 3 models: no rank correlation between seeds
            r = float("nan")
        rel = spearman_brown(r, k)
        ceiling_parts.append(rel)
        extra.append(dict(statistic=f"spearman_between_seeds_{label}", value=r, n=n))
        extra.append(dict(statistic=f"reliability_mean_of_{k}_seeds_{label}", value=rel, n=n))
    ceiling = (
        float(np.sqrt(ceiling_parts[0] * ceiling_parts[1]))
        if all(np.isfinite(ceiling_parts)) and min(ceiling_parts) > 0
        else float("nan")
    )
    rho = float(table.loc["spearman", "value"])
    extra.append(dict(statistic="noise_ceiling_spearman", value=ceiling, n=n))
    extra.append(dict(statistic="spearman_disattenuated", value=rho / ceiling, n=n))
    agreement = pd.concat([table.reset_index(), pd.DataFrame(extra)], ignore_index=True)
    agreement.to_csv(out / "agreement.csv", index=False)
    pd.DataFrame(noise_rows).to_csv(out / "noise.csv", index=False)

    if n >= 5:  # the plot joins the two result sets, which needs 5 models
        fig, ax = new_figure(5.0, 4.5)
        fidelity_plot(short, long, hue="space", ax=ax)
        ax.set_title(
            f"{n} random models, {k} seeds: {short_d['epochs']:g} vs {long_d['epochs']:g} epochs"
        )
        save(fig, out / "fidelity.png")
    summary = {
        "study": study.name,
        "models": n,
        "selection": f"{args.per_space} per space, uniformly at random, seed {args.select_seed}",
        "arch_ids": chosen["arch_id"].tolist(),
        "seeds": args.seeds,
        "short": {k2: short_d.get(k2) for k2 in ("epochs", "max_steps")},
        "long": {k2: long_d.get(k2) for k2 in ("epochs", "max_steps")},
        "agreement": {
            r["statistic"]: {
                c: r[c] for c in agreement.columns if c != "statistic" and pd.notna(r[c])
            }
            for r in agreement.to_dict("records")
        },
        "noise": {r["schedule"]: r for r in noise_rows},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    print(agreement.to_string(index=False))
    print(pd.DataFrame(noise_rows).to_string(index=False))
    print(f"wrote {out}/agreement.csv, noise.csv, summary.json{', fidelity.png' if n >= 5 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
