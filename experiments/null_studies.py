"""Null studies: how often does a study's report make a claim when there is nothing to find?

    python experiments/null_studies.py               # 200 replicates -> results/null-studies/
    python experiments/null_studies.py --reps 5 --out scratch/null   # a quick check

Each replicate is the committed study's data (default ``results/fmnist-small-progression``:
six spaces x 100 models, with their real structural columns: stage counts, depths, widths,
b, g, flops, params) with the error column **permuted across all rows** (one permutation per
replicate, seeded by ``--seed`` and the replicate number). The six spaces' errors are then
exchangeable: one distribution, while the balance, rules, fits and preferences code runs on
real architectures. Each replicate is analysed with the study's analysis (the report's
verdict sections - comparison, normalized comparison, nested steps, observational rules,
preferences, verdicts, findings - with the study's reference and the default confirmatory
family; no figures are drawn). The RegNet fits of the architectures do not depend on the
errors, so they are computed once and reused by every replicate.

Outcome of a replicate: does it make ANY confirmatory claim (a confirmatory row anywhere in
the report whose verdict is supported / contradicted / better / worse / ...), and does it make
any FALSE one (a directional claim; a sharing step "supported" by equivalence is true under
the null); for contrast the same for the exploratory rows. Reported: each share with its exact
(Clopper-Pearson) 95% interval; the issue asks for the upper bound of the confirmatory share
to be at most 8%.

Resumable: each replicate's outcome is appended to ``OUT/replicates.jsonl`` as it finishes
(a rerun with the same settings skips those done; other settings are refused); progress on
stderr; ``OUT/summary.json`` and ``OUT/summary.md`` are rewritten at the end. ``--n-boot``
(default 2000; the report's default is 10000) is the bootstrap size of the descriptive DDS
good ranges only: every test and interval behind a verdict is exact or asymptotic.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis.family import CONFIRMATORY, false_under_null, is_claim
from designspace.analysis.load import load_results
from designspace.reporting.context import Context, prepare
from designspace.reporting.document import SectionResult
from designspace.reporting.options import AnalysisOptions
from designspace.reporting.sections import SECTIONS

#: The report's sections that produce verdict tables (in registry order).
VERDICT_SECTIONS = (
    "comparison",
    "comparison_normalized",
    "rules_nested",
    "rules_observational",
    "preferences",
    "rules",
    "findings",
)
#: The issue's bound on the upper end of the confirmatory share's 95% interval.
TARGET = 0.08


class _NoFigures(SectionResult):
    """A section result that draws no figure (the null studies need only the tables)."""

    def figure(self, *args: object, **kwargs: object) -> None:
        return None


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) ``level`` interval of a share ``k`` of ``n`` (scipy's)."""
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def null_data(data: pd.DataFrame, metric: str, seed: int, rep: int) -> pd.DataFrame:
    """``data`` with ``metric`` permuted across all rows (replicate ``rep`` of ``seed``)."""
    rng = np.random.default_rng([seed, rep])
    out = data.copy()
    out[metric] = rng.permutation(out[metric].to_numpy())
    return out


def verdict_tables(ctx: Context, sections: tuple[str, ...] = VERDICT_SECTIONS) -> dict:
    """Run the verdict ``sections`` on ``ctx`` (no figures); every table by name. A section
    the data cannot support is left out (as the report would skip it)."""
    tables: dict[str, pd.DataFrame] = {}
    for name in sections:
        sec = SECTIONS[name]
        out = _NoFigures(sec.name, sec.title)
        sec.run(ctx, out)
        tables.update({k: t.frame for k, t in out.tables.items()})
    return tables


@dataclass(frozen=True)
class Outcome:
    """What one null study claimed: the claims (``table: row: verdict``) of each family."""

    confirmatory: list[str]
    confirmatory_false: list[str]
    exploratory: list[str]
    exploratory_false: list[str]
    n_confirmatory: int


def outcome(tables: dict[str, pd.DataFrame], alpha: float) -> Outcome:
    """The claims of every verdict table (rows with columns ``family`` and ``verdict``)."""
    conf, conf_false, expl, expl_false = [], [], [], []
    members = set()
    for name, t in tables.items():
        if "family" not in t.columns or "verdict" not in t.columns:
            continue
        for row, claim in zip(t.to_dict("records"), is_claim(t["verdict"]), strict=True):
            what = row.get("rule", row.get("column", f"{row.get('a')} vs {row.get('b')}"))
            if row.get("space") is not None and name == "rules_observational":
                what = f"{what} in {row['space']}"
            if row["family"] == CONFIRMATORY:
                members.add(what)
            if not claim:
                continue
            tag = f"{name}: {what}: {row['verdict']}"
            false = false_under_null(row, alpha)
            if row["family"] == CONFIRMATORY:
                conf.append(tag)
                if false:
                    conf_false.append(tag)
            else:
                expl.append(tag)
                if false:
                    expl_false.append(tag)
    return Outcome(conf, conf_false, expl, expl_false, len(members))


def null_context(
    data: pd.DataFrame, options: AnalysisOptions, seed: int, rep: int, features: pd.DataFrame
) -> Context:
    """The analysis context of null study ``rep``: ``data`` with its errors permuted, and
    ``features`` (the per-model features and fits of ``data``, same rows) with the same
    errors, so the fits are not recomputed."""
    ctx = prepare(null_data(data, options.metric, seed, rep), options)
    if len(features) != len(ctx.data) or not (features.index == ctx.data.index).all():
        raise ValueError("the features do not hold the analysed rows")
    feats = features.copy()
    feats[options.metric] = ctx.data[options.metric].to_numpy()
    ctx._features = feats  # the fits depend on the architectures only
    return ctx


def run_replicate(
    data: pd.DataFrame,
    options: AnalysisOptions,
    seed: int,
    rep: int,
    features: pd.DataFrame,
) -> dict[str, object]:
    """One null study: its outcome as a JSON-able record (with its wall time, seconds)."""
    start = time.perf_counter()
    ctx = null_context(data, options, seed, rep, features)
    o = outcome(verdict_tables(ctx), options.alpha)
    return dict(
        rep=rep,
        any_confirmatory=bool(o.confirmatory),
        any_confirmatory_false=bool(o.confirmatory_false),
        any_exploratory=bool(o.exploratory),
        any_exploratory_false=bool(o.exploratory_false),
        n_confirmatory=o.n_confirmatory,
        confirmatory=o.confirmatory,
        exploratory=o.exploratory,
        seconds=round(time.perf_counter() - start, 2),
    )


def summarize(records: list[dict], settings: dict) -> dict:
    """Shares (with Clopper-Pearson 95% intervals) over ``records``."""
    n = len(records)
    out: dict[str, object] = dict(settings, replicates=n)
    for key in (
        "any_confirmatory",
        "any_confirmatory_false",
        "any_exploratory",
        "any_exploratory_false",
    ):
        k = sum(bool(r[key]) for r in records)
        lo, hi = clopper_pearson(k, n) if n else (float("nan"), float("nan"))
        out[key] = dict(count=k, share=k / n if n else float("nan"), ci95=[lo, hi])
    conf = out["any_confirmatory"]
    out["meets_target"] = bool(n and conf["ci95"][1] <= TARGET)  # type: ignore[index]
    out["seconds_per_replicate"] = (
        float(np.mean([r["seconds"] for r in records])) if records else float("nan")
    )
    return out


def markdown(summary: dict) -> str:
    """The summary as a short Markdown report."""
    lines = [
        f"# Null studies: {summary['data']}",
        "",
        f"{summary['replicates']} null studies: the committed rows of {summary['data']} with "
        f"the error column permuted across all rows (seed {summary['seed']}), analysed with "
        f"reference {summary['reference']}, alpha {summary['alpha']}, {summary['adjust']} "
        f"adjustment, n_boot {summary['n_boot']} (good ranges only), the default "
        f"confirmatory family. Mean {summary['seconds_per_replicate']:.1f} s per replicate.",
        "",
        "| share of null studies that make | count | share | exact 95% interval |",
        "|---|---|---|---|",
    ]
    names = {
        "any_confirmatory": "any confirmatory claim",
        "any_confirmatory_false": "any false confirmatory claim",
        "any_exploratory": "any exploratory claim",
        "any_exploratory_false": "any false exploratory claim",
    }
    for key, text in names.items():
        s = summary[key]
        lines.append(
            f"| {text} | {s['count']} | {s['share']:.3f} | "
            f"[{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}] |"
        )
    verdict = "meets" if summary["meets_target"] else "does not meet"
    lines += [
        "",
        f"The upper bound of the confirmatory share {verdict} the target <= {TARGET:.0%}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="null studies (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the permutations (default 0)")
    ap.add_argument("--out", type=Path, default=Path("results/null-studies"), help="folder")
    ap.add_argument(
        "--data",
        type=Path,
        default=Path("results/fmnist-small-progression"),
        help="the committed study whose rows and sizes are used",
    )
    ap.add_argument("--reference", default="AnyNetXA", help="the study's reference space")
    ap.add_argument(
        "--n-boot", type=int, default=2000, help="bootstrap resamples of the good ranges"
    )
    args = ap.parse_args(argv)
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    options = AnalysisOptions(reference=args.reference, n_boot=args.n_boot, seed=0)
    data = load_results(args.data / "results" if (args.data / "results").is_dir() else args.data)
    data = data[data["status"] == "ok"] if "status" in data.columns else data
    settings = dict(
        data=str(args.data),
        seed=args.seed,
        reference=args.reference,
        n_boot=args.n_boot,
        alpha=options.alpha,
        adjust=options.adjust,
        sizes=data.groupby(options.by).size().to_dict(),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "replicates.jsonl"
    head = args.out / "settings.json"
    if head.exists() and json.loads(head.read_text()) != settings:
        print(f"{head} holds other settings; use another --out", file=sys.stderr)
        return 2
    head.write_text(json.dumps(settings, indent=1) + "\n")
    records = [json.loads(x) for x in log.read_text().splitlines() if x] if log.exists() else []
    done = {r["rep"] for r in records}
    todo = [r for r in range(args.reps) if r not in done]
    print(f"{len(done)} replicate(s) done, {len(todo)} to run", file=sys.stderr)
    start = time.perf_counter()
    features = prepare(data, options).features() if todo else None
    for i, rep in enumerate(todo, 1):
        rec = run_replicate(data, options, args.seed, rep, features)
        with log.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        records.append(rec)
        left = (time.perf_counter() - start) / i * (len(todo) - i)
        conf = sum(r["any_confirmatory"] for r in records)
        print(
            f"[{i}/{len(todo)}] rep {rep}: {rec['seconds']:.1f} s, confirmatory claims "
            f"{len(rec['confirmatory'])}, exploratory {len(rec['exploratory'])}; so far "
            f"{conf}/{len(records)} with a confirmatory claim; ~{left / 60:.0f} min left",
            file=sys.stderr,
        )
    records = [r for r in records if r["rep"] < args.reps]
    summary = summarize(sorted(records, key=lambda r: r["rep"]), settings)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (args.out / "summary.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
