"""Stem check: what the stride-1 "small" stem changes for the d2l chapter's RegNetX32 on
Fashion-MNIST 28 px.

The regime ``fashion-mnist-small`` puts the stride-1 "small" stem in front of the stages
instead of the stride-2 "simple" one, so every stage runs at twice the side (RegNetX32's two
stages: 14 and 7 px instead of 7 and 4 px; a four-stage network's: 14/7/4/2 instead of
7/4/2/1). This trains the same RegNetX32 with each stem (same parameters, so the same seed
gives the same initial weights and the same batch order: the runs are paired by seed) for
every seed of ``--seeds``, on the study schedule (the ``[train]`` section of ``--study``),
and reports per stem n, mean and sd of the top-1 error, the difference small - simple with a
Welch 95% t interval and Welch's t-test p-value, the paired-by-seed difference with its paired
t interval and p, MFLOPs, params and training speed, and the machine (CPU model and flags,
torch version, threads) and command line.

Run (10 trainings of one epoch of 10,000 images; rerunning resumes):
    python experiments/stem.py
On all the data (60,000 training and 10,000 test images, one epoch = 469 steps):
    python experiments/stem.py --all-data --seeds 0 1 2 --out results/regnetx32/stem-all-data
Tiny end-to-end check (a few optimizer steps):
    python experiments/stem.py --seeds 0 1 --max-steps 2 --subset 256 --val-subset 100 \\
        --threads 1 --out /tmp/stem-check
Writes to --out (default results/regnetx32/stem): runs.csv (one row per stem x seed, rewritten
after every run and reused on rerun: stem/seed pairs already there are not trained again),
config.json (the training settings but the seed; a rerun with other settings into the same
--out is refused), summary.json and summary.md (over the seeds of --seeds; runs whose status
is not "ok" are counted but left out of the statistics).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import platform
import shlex
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = "RegNetX32"
STEMS = ("simple", "small")
COLUMNS = (
    "stem",
    "seed",
    "val_top1_err",
    "flops",
    "params",
    "train_time_s",
    "images_per_s",
    "status",
)
_CONVERT = {
    "stem": str,
    "seed": int,
    "val_top1_err": float,
    "flops": int,
    "params": int,
    "train_time_s": float,
    "images_per_s": float,
    "status": str,
}


class BadInput(Exception):
    """Something the user can fix: printed as one line, exit code 2."""


# --------------------------------------------------------------------------- inputs
def read_train_section(path: str | Path) -> dict[str, Any]:
    """The ``[train]`` table of the study TOML file at ``path`` (BadInput when the file is
    missing, unreadable, not TOML or has no ``[train]`` table)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            study = tomllib.load(f)
    except FileNotFoundError:
        raise BadInput(f"study file {path} does not exist") from None
    except OSError as exc:
        raise BadInput(f"cannot read study file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"study file {path} is not valid TOML: {exc}") from None
    train = study.get("train")
    if not isinstance(train, dict):
        raise BadInput(f"study file {path} has no [train] table")
    return dict(train)


def variants() -> dict[str, Any]:
    """``{"simple": Architecture, "small": Architecture}``: RegNetX32 with each stem."""
    from designspace.core.named import get_model

    base = get_model(MODEL)
    return {stem: dataclasses.replace(base, stem=stem) for stem in STEMS}


def read_runs(path: Path) -> list[dict[str, Any]]:
    """Rows of ``runs.csv`` (typed); [] when the file does not exist. BadInput for a file
    without the expected columns or with values that do not parse."""
    if not path.exists():
        return []
    try:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or set(COLUMNS) - set(reader.fieldnames):
                raise BadInput(
                    f"{path} is not a runs file of this experiment (columns: "
                    f"{', '.join(COLUMNS)}); use another --out"
                )
            rows = [{k: _CONVERT[k](r[k]) for k in COLUMNS} for r in reader]
    except (ValueError, TypeError, csv.Error) as exc:
        raise BadInput(f"{path} is corrupt ({exc}); remove it or use another --out") from None
    for row in rows:
        if row["stem"] not in STEMS:
            raise BadInput(f"{path} holds an unknown stem {row['stem']!r}")
    return rows


def write_runs(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` to ``path`` atomically (temporary file, then rename), ordered by seed
    then stem; floats keep every digit, so a reread gives the same numbers."""
    ordered = sorted(rows, key=lambda r: (r["seed"], STEMS.index(r["stem"])))
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in ordered:
            writer.writerow({k: row[k] for k in COLUMNS})
    os.replace(tmp, path)


def check_settings(path: Path, settings: dict[str, Any]) -> None:
    """Refuse (BadInput) ``settings`` that differ from those recorded in ``path``
    (config.json), if it exists."""
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} is unreadable ({exc}); remove it or use another --out") from None
    changed = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
    if changed:
        what = ", ".join(f"{k} {old.get(k)!r} -> {settings.get(k)!r}" for k in changed)
        raise BadInput(
            f"{path.parent} holds runs made with other settings ({what}); "
            f"use another --out or remove that folder"
        )


# --------------------------------------------------------------------------- statistics
def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


def welch(small: Sequence[float], simple: Sequence[float]) -> dict[str, float]:
    """Mean(small) - mean(simple) with Welch's 95% t interval, df, t and two-sided p.

    NaN where a group has fewer than 2 runs or both groups have no spread.
    """
    import numpy as np
    from scipy import stats

    nan = float("nan")
    out = {"estimate": nan, "low": nan, "high": nan, "df": nan, "t": nan, "p": nan}
    if len(small) >= 1 and len(simple) >= 1:
        out["estimate"] = float(np.mean(small) - np.mean(simple))
    if len(small) < 2 or len(simple) < 2:
        return out
    if np.var(small, ddof=1) + np.var(simple, ddof=1) == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(small, simple, equal_var=False)
        ci = res.confidence_interval(0.95)
    low, high, df = float(ci.low), float(ci.high), float(res.df)
    out.update(low=low, high=high, df=df, t=float(res.statistic), p=float(res.pvalue))
    return out


def paired(small: Sequence[float], simple: Sequence[float]) -> dict[str, float]:
    """Mean of the per-seed differences small - simple with the paired 95% t interval, df, t
    and two-sided p (NaN with fewer than 2 pairs or differences without spread)."""
    import numpy as np
    from scipy import stats

    nan = float("nan")
    out = {"estimate": nan, "low": nan, "high": nan, "df": nan, "t": nan, "p": nan}
    d = np.asarray(small, dtype=float) - np.asarray(simple, dtype=float)
    if len(d) >= 1:
        out["estimate"] = float(d.mean())
    if len(d) < 2 or np.var(d, ddof=1) == 0:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_rel(small, simple)
        ci = res.confidence_interval(0.95)
    low, high, df = float(ci.low), float(ci.high), float(res.df)
    out.update(low=low, high=high, df=df, t=float(res.statistic), p=float(res.pvalue))
    return out


def summarize(
    rows: Sequence[dict[str, Any]], seeds: Sequence[int], archs: dict[str, Any], resolution: int
) -> dict[str, Any]:
    """Per-stem statistics and the small - simple differences over the rows of ``seeds``
    (statistics over "ok" runs with a finite error only)."""
    import numpy as np

    from designspace.core.complexity import complexity, stage_summary

    wanted = set(seeds)
    ok: dict[str, dict[int, dict[str, Any]]] = {stem: {} for stem in STEMS}
    per_stem: dict[str, Any] = {}
    for stem in STEMS:
        mine = [r for r in rows if r["stem"] == stem and r["seed"] in wanted]
        good = [r for r in mine if r["status"] == "ok" and math.isfinite(r["val_top1_err"])]
        ok[stem] = {r["seed"]: r for r in good}
        errs = [r["val_top1_err"] for r in good]
        cost = complexity(archs[stem], resolution)
        nan = float("nan")
        per_stem[stem] = {
            "n": len(good),
            "n_not_ok": len(mine) - len(good),
            "mean_err": float(np.mean(errs)) if errs else nan,
            "sd_err": float(np.std(errs, ddof=1)) if len(errs) >= 2 else nan,
            "mflops": cost.flops / 1e6,
            "params": cost.params,
            "stage_sides_px": [
                s["output_shape"][1]
                for s in stage_summary(archs[stem], resolution)
                if s["layer"] != "head"
            ],
            "images_per_s": float(np.mean([r["images_per_s"] for r in good])) if good else nan,
            "train_time_s": float(np.mean([r["train_time_s"] for r in good])) if good else nan,
        }
    small_errs = [r["val_top1_err"] for r in ok["small"].values()]
    simple_errs = [r["val_top1_err"] for r in ok["simple"].values()]
    both = sorted(set(ok["small"]) & set(ok["simple"]))
    pair_small = [ok["small"][s]["val_top1_err"] for s in both]
    pair_simple = [ok["simple"][s]["val_top1_err"] for s in both]
    return {
        "stems": per_stem,
        "flops_ratio_small_over_simple": per_stem["small"]["mflops"] / per_stem["simple"]["mflops"],
        "difference": {"n_small": len(small_errs), "n_simple": len(simple_errs)}
        | welch(small_errs, simple_errs),
        "paired": {"n_pairs": len(both), "seeds": both} | paired(pair_small, pair_simple),
        "per_seed": [
            {
                "seed": s,
                "simple": ok["simple"][s]["val_top1_err"],
                "small": ok["small"][s]["val_top1_err"],
                "difference": ok["small"][s]["val_top1_err"] - ok["simple"][s]["val_top1_err"],
            }
            for s in both
        ],
    }


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, spec)


def render_markdown(summary: dict[str, Any]) -> str:
    """summary.md: the tables and the machine of :func:`summarize`'s result plus context."""
    st, diff, pr = summary["stems"], summary["difference"], summary["paired"]
    cfg, cpu = summary["train"], summary["machine"]["cpu"]
    lines = [
        f"# {MODEL}: small (stride-1) vs simple (stride-2) stem",
        "",
        f"Data: {cfg['dataset']} at {summary['resolution']} px, subset {cfg['subset']}, "
        f"val_subset {cfg['val_subset']}, epochs {cfg['epochs']}, max_steps {cfg['max_steps']}, "
        f"batch {cfg['batch_size']}, lr {cfg['lr']}, wd {cfg['weight_decay']}; "
        f"seeds {summary['seeds']} (study {summary['study']}).",
        "",
        "| stem | n | not ok | mean err | sd | MFLOPs | params | sides px | images/s | train s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for stem in STEMS:
        s = st[stem]
        lines.append(
            f"| {stem} | {s['n']} | {s['n_not_ok']} | {_fmt(s['mean_err'], '.4f')} | "
            f"{_fmt(s['sd_err'], '.4f')} | {s['mflops']:.2f} | {s['params']:,} | "
            f"{'/'.join(str(h) for h in s['stage_sides_px'])} | "
            f"{_fmt(s['images_per_s'], '.0f')} | {_fmt(s['train_time_s'], '.1f')} |"
        )
    lines += [
        "",
        f"FLOPs ratio small / simple: {summary['flops_ratio_small_over_simple']:.3f}; "
        "sides px: stem output, then each stage.",
        "",
        "| small - simple | estimate | 95% low | 95% high | df | t | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, d in (
        (f"Welch ({diff['n_small']} vs {diff['n_simple']} runs)", diff),
        (f"paired by seed ({pr['n_pairs']} pairs)", pr),
    ):
        lines.append(
            f"| {label} | {_fmt(d['estimate'], '+.4f')} | {_fmt(d['low'], '+.4f')} | "
            f"{_fmt(d['high'], '+.4f')} | {_fmt(d['df'], '.2f')} | {_fmt(d['t'], '.3f')} | "
            f"{_fmt(d['p'], '.4f')} |"
        )
    lines += ["", "| seed | simple | small | small - simple |", "|---|---|---|---|"]
    for r in summary["per_seed"]:
        lines.append(
            f"| {r['seed']} | {r['simple']:.4f} | {r['small']:.4f} | {r['difference']:+.4f} |"
        )
    m = summary["machine"]
    lines += [
        "",
        f"Machine: {cpu['model']} ({cpu['cpus']} CPUs; avx512f {cpu['avx512f']}, "
        f"avx2 {cpu['avx2']}), device {m['device']}, torch {m['torch']}, "
        f"{m['threads']} thread(s).",
        "",
        f"Command: `{summary['command']}`",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options (see the module docstring)."""
    ap = argparse.ArgumentParser(
        description="What the stride-1 'small' stem changes for RegNetX32 on Fashion-MNIST 28 px."
    )
    ap.add_argument(
        "--study",
        default=str(ROOT / "experiments/fmnist-small-progression.toml"),
        help="study TOML whose [train] section is the schedule (default: "
        "experiments/fmnist-small-progression.toml)",
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="(0 1 2 3 4)")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads (2)")
    ap.add_argument("--device", default=None, help="auto, cpu, cuda or cuda:N (study's or auto)")
    ap.add_argument("--max-steps", type=int, default=None, help="optimizer steps per run")
    ap.add_argument("--subset", type=int, default=None, help="override the training subset")
    ap.add_argument("--val-subset", type=int, default=None, help="override the validation subset")
    ap.add_argument(
        "--all-data",
        action="store_true",
        help="train on all 60,000 training images and validate on all 10,000 test images",
    )
    ap.add_argument("--epochs", type=float, default=None, help="override the epochs")
    ap.add_argument("--out", default=str(ROOT / "results/regnetx32/stem"))
    return ap.parse_args(argv)


def _relative(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (summaries stay portable)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _command(argv: Sequence[str] | None) -> str:
    if argv is None:
        argv = sys.argv[1:]
    try:
        script = os.path.relpath(__file__)
    except ValueError:
        script = __file__
    return shlex.join(["python", script, *argv])


def run(args: argparse.Namespace, command: str) -> int:
    """Train what runs.csv lacks, then write the summaries; BadInput/DesignSpaceError for bad
    input."""
    import torch

    from designspace.core.complexity import complexity
    from designspace.core.datasets import check_subsets, dataset_facts
    from designspace.training.machine import cpu_info
    from designspace.training.trainconfig import TrainConfig

    if len(set(args.seeds)) != len(args.seeds):
        raise BadInput(f"--seeds repeats a seed: {' '.join(map(str, args.seeds))}")
    for option, value in (
        ("--threads", args.threads),
        ("--max-steps", args.max_steps),
        ("--subset", args.subset),
        ("--val-subset", args.val_subset),
        ("--epochs", args.epochs),
    ):
        if value is not None and value <= 0:
            raise BadInput(f"{option} must be > 0, got {value}")
    train_section = read_train_section(args.study)
    for key, value in (
        ("max_steps", args.max_steps),
        ("subset", args.subset),
        ("val_subset", args.val_subset),
        ("device", args.device),
        ("epochs", args.epochs),
    ):
        if value is not None:
            train_section[key] = value
    if args.all_data:
        if args.subset is not None or args.val_subset is not None:
            raise BadInput("--all-data and --subset/--val-subset exclude each other")
        train_section["subset"] = None
        train_section["val_subset"] = None
    train_section["threads"] = args.threads
    base = TrainConfig.from_dict(train_section, where=str(args.study))
    check_subsets(base.data)
    facts = dataset_facts(base.data)
    archs = {
        stem: a.with_io(in_channels=facts.channels, num_classes=facts.classes)
        for stem, a in variants().items()
    }
    resolution = facts.resolution
    costs = {stem: complexity(a, resolution) for stem, a in archs.items()}

    out = Path(args.out)
    settings = {k: v for k, v in base.to_dict().items() if k != "seed"}
    check_settings(out / "config.json", settings)
    runs_path = out / "runs.csv"
    rows = read_runs(runs_path)
    done = {(r["stem"], r["seed"]) for r in rows}
    todo = [(seed, stem) for seed in args.seeds for stem in STEMS if (stem, seed) not in done]

    from designspace.training.train import resolve_device, train

    device = resolve_device(base.device)
    if todo:
        from designspace.training.data import load_data

        print(
            f"training {len(todo)} run(s) of {MODEL} ({len(rows)} already in {runs_path})",
            flush=True,
        )
        data = load_data(base.data, device=device)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot create --out {out}: {exc.strerror or exc}") from None
        (out / "config.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
        for seed, stem in todo:
            result = train(archs[stem], dataclasses.replace(base, seed=seed), data=data)
            rows.append(
                {
                    "stem": stem,
                    "seed": seed,
                    "val_top1_err": float(result.val_top1_err),
                    "flops": costs[stem].flops,
                    "params": costs[stem].params,
                    "train_time_s": float(result.train_time_s),
                    "images_per_s": float(result.images_per_s),
                    "status": result.status,
                }
            )
            write_runs(runs_path, rows)
            print(
                f"  {stem:6s} seed {seed}: err {result.val_top1_err:.4f} ({result.status}), "
                f"{result.train_time_s:.1f} s, {result.images_per_s:.0f} images/s",
                flush=True,
            )
    else:
        print(f"nothing to train: every stem/seed is in {runs_path}")

    summary = summarize(rows, args.seeds, archs, resolution)
    summary = {
        "model": MODEL,
        "study": _relative(args.study),
        "seeds": list(args.seeds),
        "resolution": resolution,
        "train": settings,
        **summary,
        "machine": {
            "cpu": cpu_info(),
            "device": str(device),
            "torch": torch.__version__,
            "threads": args.threads,
            "python": platform.python_version(),
        },
        "command": command,
    }
    summary = _nan_to_none(summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(render_markdown(summary))

    st, d, p = summary["stems"], summary["difference"], summary["paired"]
    for stem in STEMS:
        s = st[stem]
        print(
            f"{stem:6s}: n {s['n']}, err {_fmt(s['mean_err'], '.4f')} +- "
            f"{_fmt(s['sd_err'], '.4f')} (sd), {s['mflops']:.2f} MFLOPs, {s['params']:,} params, "
            f"{_fmt(s['images_per_s'], '.0f')} images/s"
        )
    print(
        f"small - simple: {_fmt(d['estimate'], '+.4f')} [{_fmt(d['low'], '+.4f')}, "
        f"{_fmt(d['high'], '+.4f')}] Welch p {_fmt(d['p'], '.4f')}; paired "
        f"{_fmt(p['estimate'], '+.4f')} [{_fmt(p['low'], '+.4f')}, {_fmt(p['high'], '+.4f')}] "
        f"p {_fmt(p['p'], '.4f')} ({p['n_pairs']} pairs)"
    )
    print(f"wrote {runs_path}, {out / 'summary.md'}, {out / 'summary.json'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 on success, 2 (one line on stderr, no traceback) for bad input."""
    args = parse_args(argv)
    from designspace.errors import DesignSpaceError

    try:
        return run(args, _command(argv))
    except (BadInput, DesignSpaceError) as exc:
        print(f"stem.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
