"""Coverage of the asymptotic difference-of-medians interval and size of its TOST, on data
with a planted truth.

    python experiments/median_interval.py            # 4,000 replicates per setting, ~45 s
    python experiments/median_interval.py --reps 200 --out /tmp/mi

The pairwise comparisons, the nested steps and the observational rules print
median(a) - median(b) with the interval of :func:`designspace.analysis.effects.median_difference`
(Price-Bonett order-statistic standard errors, Woodruff's with Kish's effective size when the
models carry NDS weights) and decide equivalence with its two one-sided z tests. Here two
samples are drawn from one distribution (true difference 0) and the share of intervals that
cover 0 is counted, for

* distributions: normal; skewed (0.2 + Gamma(2, 0.01)); errors on a 10,000-image test set
  (the skewed ones rounded to 1e-4, with ties); and the committed errors of
  ``results/fmnist-small-progression`` (AnyNetXE, 100 models, resampled with replacement);
* n = 10, 48, 100 models per group, unweighted and with NDS-like weights (uniform 0.5..2);
* levels 95% and the Bonferroni level of 15 pairs (99.67%), as the reports use.

TOST size: a true difference equal to the margin (0.005), the share of replicates that claim
equivalence at 0.05, which must be at most 0.05. Every rate comes with its Clopper-Pearson
95% interval. Writes ``OUT/coverage.csv`` and ``OUT/summary.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis.effects import median_difference

ROOT = Path(__file__).resolve().parent.parent
MARGIN = 0.005


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) ``level`` interval of a share ``k`` of ``n`` (scipy's)."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def distributions() -> dict[str, object]:
    """name -> draw(rng, n): samples of one distribution (true median difference 0)."""
    committed = pd.read_parquet(ROOT / "results/fmnist-small-progression/results")
    xe = committed[(committed["space"] == "AnyNetXE") & (committed["status"] == "ok")]
    real = xe["val_top1_err"].to_numpy(dtype=float)
    return {
        "normal": lambda r, n: r.normal(0.25, 0.02, n),
        "skewed": lambda r, n: 0.2 + r.gamma(2.0, 0.01, n),
        "skewed, rounded to 1e-4": lambda r, n: np.round(0.2 + r.gamma(2.0, 0.01, n), 4),
        "committed AnyNetXE errors": lambda r, n: r.choice(real, n),
    }


def coverage(draw, n: int, level: float, weighted: bool, reps: int, seed: int) -> int:
    """How many of ``reps`` intervals at level 1 - ``level`` cover the true difference 0."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        a, b = draw(rng, n), draw(rng, n)
        wa = rng.uniform(0.5, 2.0, n) if weighted else None
        wb = rng.uniform(0.5, 2.0, n) if weighted else None
        lo, hi = median_difference(a, b, wa, wb).interval(level)
        hits += lo <= 0 <= hi
    return hits


def tost_claims(draw, n: int, reps: int, seed: int) -> int:
    """How many of ``reps`` TOSTs at 0.05 claim |difference| < MARGIN when it equals it."""
    rng = np.random.default_rng(seed)
    return sum(
        median_difference(draw(rng, n) + MARGIN, draw(rng, n)).tost_pvalue(MARGIN) < 0.05
        for _ in range(reps)
    )


def rate_row(
    check: str, distribution: str, n: int, weighted: bool, nominal: float, k: int, reps: int
) -> dict:
    """One row of the table: the rate k / reps with its Clopper-Pearson interval."""
    lo, hi = clopper_pearson(k, reps)
    return dict(
        check=check,
        distribution=distribution,
        n=n,
        weighted=weighted,
        nominal=nominal,
        rate=k / reps,
        low=lo,
        high=hi,
        reps=reps,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=4000, help="replicates per setting")
    ap.add_argument("--out", type=Path, default=ROOT / "results/median-interval")
    args = ap.parse_args()
    start = time.time()
    rows = []
    seed = 0
    for name, draw in distributions().items():
        for n in (10, 48, 100):
            for weighted in (False, True):
                for level in (0.05, 0.05 / 15):
                    seed += 1
                    k = coverage(draw, n, level, weighted, args.reps, seed)
                    rows.append(rate_row("coverage", name, n, weighted, 1 - level, k, args.reps))
            seed += 1
            k = tost_claims(draw, n, args.reps, seed)
            rows.append(rate_row("TOST size at the margin", name, n, False, 0.05, k, args.reps))
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "coverage.csv", index=False, float_format="%.4f")
    cov = table[table["check"] == "coverage"]
    tost = table[table["check"] != "coverage"]
    lines = [
        "# Coverage of the difference-of-medians interval (generated by "
        "experiments/median_interval.py)",
        "",
        f"`python experiments/median_interval.py --reps {args.reps}`; {time.time() - start:.0f} s. "
        "Two samples of one distribution (true difference 0); rate = share of intervals "
        "covering 0 (coverage) or share of TOSTs at 0.05 claiming equivalence when the true "
        f"difference equals the margin {MARGIN} (size); [low, high] = Clopper-Pearson 95%.",
        "",
        f"- coverage, nominal 95%: lowest {cov[cov.nominal < 0.99].rate.min():.3f}, "
        f"median {cov[cov.nominal < 0.99].rate.median():.3f} over "
        f"{int((cov.nominal < 0.99).sum())} settings",
        f"- coverage, nominal {1 - 0.05 / 15:.4f} (Bonferroni over 15 pairs): lowest "
        f"{cov[cov.nominal > 0.99].rate.min():.4f}, "
        f"median {cov[cov.nominal > 0.99].rate.median():.4f}",
        f"- TOST size (nominal at most 0.05): highest {tost.rate.max():.3f} "
        f"(upper bound {tost.high.max():.3f})",
        "",
        "| check | distribution | n | weighted | nominal | rate | 95% interval |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.check} | {r.distribution} | {r.n} | {'yes' if r.weighted else 'no'} | "
            f"{r.nominal:.4g} | {r.rate:.4f} | [{r.low:.4f}, {r.high:.4f}] |"
        )
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:9]))


if __name__ == "__main__":
    main()
