"""Null populations for refine's in-sample stage: how often is a constraint adopted when no
constraint helps?

    python experiments/refine_null.py                  # 400 replicates per variant
    python experiments/refine_null.py --replicates 30 --out scratch/refine-null   # quick

The population is the committed small-regime study's AnyNetXA arm
(``results/fmnist-small-progression``: 100 models of fashion-mnist-small, their real
configurations and flops). The catalog of candidate constraints
(:func:`designspace.core.constraints.catalog`) and every candidate's score of every model are
computed once; each replicate then only replaces the errors and runs
:func:`designspace.analysis.refine_evidence.rank_candidates` (partial Spearman given log flops,
Holm over all testable candidates, at most one adoption). Three null variants:

* ``permuted``: the real errors permuted across the 100 models (no relation to the
  architecture at all);
* ``flops_only``: errors = the least-squares line of the real error on log flops + the real
  residuals permuted (a complexity effect only, which the partial correlation must not credit
  to a constraint);
* ``subset50``: 50 models drawn without replacement (the size of a confirmation arm), with
  their errors permuted among them; the candidates stay those of the full population's catalog.

Every replicate has its own generator, ``numpy.random.default_rng([seed, variant, replicate])``
(variant 0, 1, 2 in the order above). Any adoption is a false adoption. Reported per variant:
the share of replicates that adopt something with its exact (Clopper-Pearson) 95% interval
(the issue's target: upper bound <= 8%), the share with any directional verdict (supported or
harmful), and how often each candidate was the false adoption. Writes
``OUT/replicates.csv`` (one row per replicate) and ``OUT/summary.md`` (with the command, the
commit and the seeds). :func:`run` is the fast mode the test suite calls.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis.load import load_results
from designspace.analysis.refine_evidence import candidate_scores, rank_candidates
from designspace.core.arch import Architecture
from designspace.core.constraints import catalog
from designspace.core.spaces import get_space

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = ROOT / "results" / "fmnist-small-progression" / "results"
DEFAULT_OUT = ROOT / "results" / "refine-null"
VARIANTS = ("permuted", "flops_only", "subset50")
METRIC = "val_top1_err"
#: The issue's bound on the upper end of the adoption share's 95% interval.
TARGET = 0.08


@dataclass
class NullRun:
    """The outcome of :func:`run`: one row per replicate, one per variant, and the setup."""

    replicates: pd.DataFrame
    summary: pd.DataFrame
    by_candidate: pd.DataFrame
    real: pd.DataFrame
    source: str
    space: str
    n_models: int
    n_candidates: int
    candidates: list[str]
    seed: int
    subset: int
    alpha: float
    seconds: float


def load_population(results: Path = DEFAULT_RESULTS, space: str = "AnyNetXA") -> pd.DataFrame:
    """The usable models of ``space`` in a results folder: ``space``, ``arch_json``, ``flops``
    and the error. Reads only ``space``'s parquet files when the folder is a sweep's results
    folder (``SPACE-*.parquet``), else the whole set."""
    files = sorted(Path(results).glob(f"{space}-*.parquet"))
    frame = load_results(files if files else results)
    frame = frame[frame["space"].astype(str) == space]
    if "status" in frame.columns:
        frame = frame[frame["status"].astype(str) == "ok"]
    frame = frame[np.isfinite(pd.to_numeric(frame[METRIC], errors="coerce"))]
    return frame[["space", "arch_json", "flops", METRIC]].reset_index(drop=True)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) ``level`` interval of a share ``k`` of ``n``."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def _null_errors(
    variant: int, rng: np.random.Generator, err: np.ndarray, fitted: np.ndarray, subset: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, errors) of one null replicate."""
    n = err.size
    if VARIANTS[variant] == "permuted":
        return np.arange(n), rng.permutation(err)
    if VARIANTS[variant] == "flops_only":
        return np.arange(n), fitted + rng.permutation(err - fitted)
    rows = np.sort(rng.choice(n, size=subset, replace=False))
    return rows, rng.permutation(err[rows])


def _outcome(table: pd.DataFrame) -> dict:
    adopted = table.loc[table["adopted"].astype(bool), "constraint"]
    tested = table[table["verdict"] != "not testable"]
    return {
        "adopted": str(adopted.iloc[0]) if len(adopted) else "",
        "n_supported": int((table["verdict"] == "supported").sum()),
        "n_harmful": int((table["verdict"] == "harmful").sum()),
        "n_testable": len(tested),
        "min_p_adjusted": float(tested["p_adjusted"].min()) if len(tested) else np.nan,
        "first": str(table.iloc[0]["constraint"]),
    }


def run(
    replicates: int = 400,
    seed: int = 0,
    *,
    results: Path = DEFAULT_RESULTS,
    space: str = "AnyNetXA",
    subset: int = 50,
    alpha: float = 0.05,
    progress: Callable[[str], None] | None = None,
) -> NullRun:
    """Run ``replicates`` null populations of each variant (see the module docstring) and
    summarize them. ``seed`` seeds every replicate's generator with the variant and replicate
    number; ``subset`` is the size of the ``subset50`` variant's populations."""
    start = time.perf_counter()
    parent = get_space(space)
    data = load_population(results, space)
    archs = [Architecture.from_json(j) for j in data["arch_json"]]
    candidates = catalog(parent, archs)
    scores = candidate_scores(archs, candidates)
    err = data[METRIC].to_numpy(dtype=float)
    logf = np.log(data["flops"].to_numpy(dtype=float))
    slope, intercept = np.polyfit(logf, err, 1)
    fitted = intercept + slope * logf
    slim = data[["space", "flops"]]
    real = rank_candidates(data, parent, candidates, scores=scores, alpha=alpha)

    rows = []
    for v, name in enumerate(VARIANTS):
        for i in range(replicates):
            rng = np.random.default_rng([seed, v, i])
            idx, e = _null_errors(v, rng, err, fitted, subset)
            frame = slim.iloc[idx].assign(**{METRIC: e})
            table = rank_candidates(frame, parent, candidates, scores=scores[idx], alpha=alpha)
            rows.append(
                {"variant": name, "replicate": i, "rng": f"[{seed}, {v}, {i}]", "n": idx.size}
                | _outcome(table)
            )
        if progress is not None:
            progress(f"{name}: {replicates} replicates, {time.perf_counter() - start:.1f} s")
    reps = pd.DataFrame(rows)

    summary = []
    for name in VARIANTS:
        r = reps[reps["variant"] == name]
        k = int((r["adopted"] != "").sum())
        claims = int(((r["n_supported"] + r["n_harmful"]) > 0).sum())
        lo, hi = clopper_pearson(k, len(r))
        clo, chi = clopper_pearson(claims, len(r))
        summary.append(
            {
                "variant": name,
                "n_models": int(r["n"].iloc[0]),
                "replicates": len(r),
                "adopted": k,
                "share": k / len(r),
                "ci_low": lo,
                "ci_high": hi,
                "meets_target": hi <= TARGET,
                "any_claim": claims,
                "claim_ci_low": clo,
                "claim_ci_high": chi,
            }
        )
    counts = (
        reps[reps["adopted"] != ""]
        .groupby(["adopted", "variant"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(VARIANTS), fill_value=0)
    )
    counts["total"] = counts.sum(axis=1)
    counts = counts.sort_values("total", ascending=False).reset_index()
    return NullRun(
        replicates=reps,
        summary=pd.DataFrame(summary),
        by_candidate=counts.rename(columns={"adopted": "constraint"}),
        real=real,
        source=_shown(results),
        space=space,
        n_models=len(data),
        n_candidates=len(candidates),
        candidates=[c.id for c in candidates],
        seed=seed,
        subset=subset,
        alpha=alpha,
        seconds=time.perf_counter() - start,
    )


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "designspace", "experiments"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def summary_markdown(result: NullRun, command: str, commit: str) -> str:
    """The summary page: setup, the adoption shares with their intervals, the candidates."""
    out = [
        "# Refine's in-sample stage on null populations",
        "",
        f"Command: `{command}`  ",
        f"Commit: `{commit}`  ",
        f"Seeds: replicate i of variant v uses `numpy.random.default_rng([{result.seed}, v, i])` "
        f"(v = {', '.join(f'{i} {n}' for i, n in enumerate(VARIANTS))}); the catalog does not "
        f"use a seed.  ",
        f"Run time: {result.seconds:.0f} s",
        "",
        f"Population: the {result.space} models of {result.source} ({result.n_models} "
        f"models; by default the committed small-regime arm of fashion-mnist-small). The "
        f"catalog gives {result.n_candidates} candidates for {result.space}; their scores are "
        f"computed once. Each "
        f"replicate replaces the errors and ranks every candidate by the partial Spearman "
        f"correlation of its score with the error given log flops, Holm over the testable "
        f"candidates at alpha {result.alpha:g}; at most one (the best supported) is adopted. "
        f"Under these nulls no constraint helps, so every adoption is false.",
        "",
        f"- permuted: the real errors permuted across the {result.n_models} models;",
        "- flops_only: the least-squares line of the real error on log flops plus the real "
        "residuals permuted (a complexity effect only);",
        f"- subset50: {result.subset} models drawn without replacement (a confirmation arm's "
        f"size), errors permuted among them, candidates of the full population's catalog.",
        "",
        "| variant | models | replicates | adopted | share | 95% CI (Clopper-Pearson) | "
        f"upper <= {_pct(TARGET)} | any supported/harmful verdict | its 95% CI |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for _, r in result.summary.iterrows():
        out.append(
            f"| {r['variant']} | {r['n_models']} | {r['replicates']} | {r['adopted']} | "
            f"{_pct(r['share'])} | [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}] | "
            f"{'yes' if r['meets_target'] else 'NO'} | {r['any_claim']} | "
            f"[{_pct(r['claim_ci_low'])}, {_pct(r['claim_ci_high'])}] |"
        )
    out += ["", "## Which candidate was the false adoption", ""]
    if result.by_candidate.empty:
        out.append("None: no replicate adopted anything.")
    else:
        out.append("| constraint | " + " | ".join(VARIANTS) + " | total |")
        out.append("| --- | " + " | ".join("---:" for _ in VARIANTS) + " | ---: |")
        for _, r in result.by_candidate.iterrows():
            cells = " | ".join(str(int(r[v])) for v in VARIANTS)
            out.append(f"| {r['constraint']} | {cells} | {int(r['total'])} |")
    out += [
        "",
        "## For reference: the real errors",
        "",
        "The same ranking on the population's real errors (first five rows):",
        "",
        "| rank | constraint | verdict | rho | Holm p |",
        "| ---: | --- | --- | ---: | ---: |",
    ]
    for _, r in result.real.head(5).iterrows():
        out.append(
            f"| {r['rank']} | {r['constraint']} | {r['verdict']} | {r['rho']:+.3f} | "
            f"{r['p_adjusted']:.3g} |"
        )
    out += [
        "",
        f"Candidates ({result.n_candidates}): " + ", ".join(f"`{c}`" for c in result.candidates),
        "",
        "Per-replicate outcomes: replicates.csv (variant, replicate, rng key, models, the "
        "adopted candidate or empty, counts of supported / harmful / testable candidates, the "
        "smallest Holm p, the first-ranked candidate).",
        "",
    ]
    return "\n".join(out)


def write(result: NullRun, out: Path, command: str) -> None:
    """Write ``out/replicates.csv`` and ``out/summary.md``."""
    out.mkdir(parents=True, exist_ok=True)
    result.replicates.to_csv(out / "replicates.csv", index=False, float_format="%.6g")
    (out / "summary.md").write_text(summary_markdown(result, command, _commit()))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the experiment and write its files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=400, help="per variant (400)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every replicate (0)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--space", default="AnyNetXA")
    parser.add_argument("--subset", type=int, default=50, help="models per subset50 replicate")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.replicates < 1 or args.seed < 0 or args.subset < 4:
        parser.error("need --replicates >= 1, --seed >= 0 and --subset >= 4")
    result = run(
        args.replicates,
        args.seed,
        results=args.results,
        space=args.space,
        subset=args.subset,
        alpha=args.alpha,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    shown = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "experiments/refine_null.py", *shown])
    write(result, args.out, command)
    print(result.summary.to_string(index=False))
    print(f"wrote {args.out}/summary.md and replicates.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
