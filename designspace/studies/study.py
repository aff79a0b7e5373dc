"""A study: one file that fixes everything of a design-space comparison, and runs it.

A study names the spaces, the regime, n per space, the sampling seed, every training setting
and where results go; :func:`run_study` sweeps the spaces (Ray Tune, resumable) and writes the
analysis (tables, plots, ``report.md``, ``report.html``) next to the results. ``designspace
demo`` is the built-in demo study; ``experiments/*.toml`` hold the project's studies.

File format (TOML)::

    name = "fmnist-progression"
    description = "..."
    spaces = ["AnyNetXA", "AnyNetXB", "AnyNetXC", "AnyNetXD", "AnyNetXE", "RegNetX"]
    n = 48                      # configurations per space
    seed = 0                    # sampling seed
    regime = "fashion-mnist"    # see `designspace spaces --regimes`
    reference = "AnyNetXA"      # the space others are compared with
    out = "results/fmnist-progression"   # relative to the study file's folder's parent

    [train]                     # any TrainConfig field (see `designspace train --help`)
    epochs = 1
    subset = 10000

    confirmatory = ["shared_b", "widths_increase", "good_wm"]   # optional, see below

    [placement]                 # optional: executor, cpus_per_trial, gpus_per_trial,
    cpus_per_trial = 1          # max_concurrent, and the chosen executor's own options
                                # (e.g. address; slurm_partition, slurm_time, ...)

An optional ``budget = "10m"`` (or ``--budget``) makes ``n`` a maximum: the study measures this
machine's speed on its first round of models and trains as many models per space as fit in
the budget (:mod:`designspace.studies.budget`), round-robin across spaces, and stops starting models
when the budget ends; rerunning resumes (with a bigger budget, the same sweep goes on).

An optional ``confirmatory`` list declares the study's confirmatory family: the nested steps it
exists to test (rules of ``designspace.analysis.rules.NESTED_STEPS`` whose two spaces it holds)
and any preferences (``best_b``, ``good_g``, ``good_depth``, ``good_wm``). Their p-values are
adjusted together, once; every other verdict of the report is exploratory and is not among
its findings (:mod:`designspace.analysis.family`). Left out: every nested step whose two
spaces the study holds.

Every key is checked when the file is read, before anything starts: its type, unknown keys
(named with the file and the closest valid key), ``reference`` among ``spaces``, every training
setting (:meth:`TrainConfig.from_dict`) and the placement
(:meth:`~designspace.sweep.Placement.from_values`: the shared keys and the chosen executor's
option keys, found through the executor registry).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    import pandas as pd

    from designspace.sweep import Placement, SweepConfig

DEMO = "demo"
REQUIRED = ("name", "spaces", "n", "regime", "out")


@dataclass(frozen=True)
class Study:
    """Everything a study fixes (training settings as a plain dict of TrainConfig fields)."""

    name: str
    spaces: tuple[str, ...]
    n: int
    regime: str
    out: str
    seed: int = 0
    reference: str | None = None
    description: str = ""
    train: dict[str, Any] = field(default_factory=dict)
    placement: dict[str, Any] = field(default_factory=dict)
    budget: str | None = None
    confirmatory: tuple[str, ...] | None = None

    def train_config(self):  # -> designspace.training.trainconfig.TrainConfig
        """The TrainConfig every model of the study is trained with."""
        from designspace.training.trainconfig import TrainConfig

        return TrainConfig.from_dict(self.train)


def _unknown(keys: Any, known: tuple[str, ...] | list[str], where: str, what: str) -> None:
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DesignSpaceError(
                f"{where}: unknown {what} {key!r}{hint}; valid: {', '.join(known)}"
            )


def _typed(data: dict[str, Any], key: str, kinds: tuple[type, ...], text: str, where: str) -> Any:
    value = data[key]
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        raise DesignSpaceError(f"{where}: {key!r} must be {text}, got {value!r}")
    return value


def study_from_dict(data: dict[str, Any], where: str = "study", base: Path | None = None) -> Study:
    """Build a :class:`Study` from a mapping (a parsed TOML file); ``where`` names the file
    in messages; ``base`` resolves a relative ``out``. Every key and value is checked
    (DesignSpaceError naming the file and the key)."""
    if not isinstance(data, dict):
        raise DesignSpaceError(f"{where}: a study is a table of key = value")
    known = tuple(f.name for f in fields(Study))
    _unknown(data, known, where, "key")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise DesignSpaceError(f"{where}: missing key(s) {missing}")
    _typed(data, "name", (str,), "a string", where)
    spaces = data["spaces"]
    if (
        not isinstance(spaces, list)
        or not spaces
        or not all(isinstance(s, str) and s for s in spaces)
    ):
        raise DesignSpaceError(
            f"{where}: 'spaces' must be a non-empty list of space names, got {spaces!r}"
        )
    if len(set(spaces)) != len(spaces):
        raise DesignSpaceError(f"{where}: a space is named twice in 'spaces': {spaces}")
    n = _typed(data, "n", (int,), "a positive integer", where)
    if n <= 0:
        raise DesignSpaceError(f"{where}: 'n' must be a positive integer, got {n}")
    regime = _typed(data, "regime", (str,), "a regime name", where)
    from designspace.core.regimes import get_regime

    try:
        get_regime(regime)
    except DesignSpaceError as exc:
        raise DesignSpaceError(f"{where}: {exc}") from None
    _typed(data, "out", (str,), "a folder (a string)", where)
    if "seed" in data and _typed(data, "seed", (int,), "an integer >= 0", where) < 0:
        raise DesignSpaceError(f"{where}: 'seed' must be an integer >= 0, got {data['seed']}")
    if "description" in data:
        _typed(data, "description", (str,), "a string", where)
    if "budget" in data:
        from designspace.studies.budget import parse_duration

        _typed(data, "budget", (str,), 'a duration such as "10m"', where)
        try:
            parse_duration(data["budget"])
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{where}: 'budget': {exc}") from None
    reference = data.get("reference")
    if reference is not None:
        _typed(data, "reference", (str,), "a space name", where)
        if reference not in spaces:
            close = difflib.get_close_matches(reference, spaces, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DesignSpaceError(
                f"{where}: reference {reference!r} is not one of the study's spaces{hint}: "
                f"{', '.join(spaces)}"
            )
    train = data.get("train", {})
    if not isinstance(train, dict):
        raise DesignSpaceError(f"{where}: [train] must be a table of training settings")
    from designspace.training.trainconfig import TrainConfig

    TrainConfig.from_dict(train, where=f"{where}, [train]")
    placement = data.get("placement", {})
    if not isinstance(placement, dict):
        raise DesignSpaceError(f"{where}: [placement] must be a table")
    from designspace.sweep.config import Placement

    if "verbose" in placement:  # a command-line choice, not part of a study
        raise DesignSpaceError(
            f"{where}, [placement]: unknown key 'verbose'; give --verbose on the command line"
        )
    try:
        Placement.from_values(placement)
    except DesignSpaceError as exc:
        raise DesignSpaceError(f"{where}, [placement]: {exc}") from None
    out = Path(data["out"])
    if base is not None and not out.is_absolute():
        out = base / out
    values = dict(data, spaces=tuple(spaces), out=str(out))
    if "confirmatory" in data:
        from designspace.analysis.family import check_study_family

        values["confirmatory"] = check_study_family(data["confirmatory"], spaces, where)
    return Study(**values)


def load_study(path: str | Path) -> Study:
    """Read a study TOML file (``out`` is relative to the repository root, i.e. the parent of
    the file's folder, so ``experiments/x.toml`` with ``out = "results/x"`` lands in
    ``results/x``); ``demo`` loads the built-in demo study (``out = runs/demo``)."""
    if str(path) == DEMO:
        text = resources.files("designspace").joinpath("data/demo-study.toml").read_text()
        return study_from_dict(tomllib.loads(text), "the demo study", base=Path.cwd())
    from designspace.core import reading

    p = Path(path)
    text = reading.read_text(p, "study file", reading.SMALL_LIMIT)
    data = reading.parse_toml(text, f"study file {p}")
    return study_from_dict(data, str(p), base=p.resolve().parent.parent)


@dataclass
class StudyResult:
    """Where a finished study's results and report are, and its comparison table."""

    results_dir: Path
    report_dir: Path
    results: Any  # pandas.DataFrame, one row per model
    comparison: Any  # pandas.DataFrame, one row per space
    report: Any  # designspace.reporting.report.AnalysisReport


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies under it (for messages and
    the report's provenance line, which should not carry one machine's absolute paths)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def run_study(
    study: Study,
    *,
    out: str | Path | None = None,
    n: int | None = None,
    progress: bool = True,
    placement_overrides: dict[str, Any] | None = None,
    wait: bool = False,
    budget: float | None = None,
    say: Callable[[str], None] | None = None,
) -> StudyResult:
    """Sweep every space of ``study`` (resuming what is already done) and analyze the results.

    ``out`` and ``n`` override the study's; ``placement_overrides`` its ``[placement]``
    (flat keys, e.g. ``{"executor": "local"}``; another executor drops the file's options of
    its own). Results go to ``OUT/`` (the sweep's parquet data set and
    manifest), the analysis to ``OUT/analysis/``. One writer per ``OUT``: another sweep or
    study writing there is refused, or waited for with ``wait``. ``budget`` (seconds of
    training, None: the study's ``budget``, if any): train as many of the ``n`` models per
    space as fit (:func:`budgeted_sweep`); ``say`` receives its plan lines (default: stdout).
    """
    from designspace.reporting.report import analyze
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.sweep.config import override_values
    from designspace.sweep.locks import out_lock
    from designspace.sweep.plan import check_out_dir

    out_dir = _shown(Path(out or study.out))
    config = SweepConfig(
        spaces=study.spaces,
        n=n or study.n,
        seed=study.seed,
        regime=study.regime,
        train=study.train_config(),
        name=study.name,
    )
    placement = Placement.from_values(override_values(study.placement, placement_overrides or {}))
    check_out_dir(out_dir)
    if budget is None and study.budget is not None:
        from designspace.studies.budget import parse_duration

        budget = parse_duration(study.budget)
    with out_lock(out_dir, wait=wait, command=f"study {study.name}"):
        if budget is None:
            results = run_sweep(config, out_dir, placement, progress=progress, lock=False)
        else:
            results = budgeted_sweep(
                config, out_dir, placement, budget, progress=progress, say=say or print
            )
        report_dir = out_dir / "analysis"
        rep = analyze(
            results,
            report_dir,
            by="space",
            reference=study.reference,
            confirmatory=study.confirmatory,
            sources=[str(out_dir)],
        )
    table = rep.tables.get("comparison")
    return StudyResult(out_dir, report_dir, results, table, rep)


def done_rounds(config: SweepConfig, out: Path) -> int:
    """How many of its first configurations every space of ``config`` already has recorded in
    ``out`` (0 for a new folder); DesignSpaceError when ``out`` holds a different sweep."""
    from designspace.formats import results as res
    from designspace.sweep.plan import (
        build_manifest,
        plan_digester,
        plan_sweep,
        resolve_run_dir,
    )

    plan = plan_sweep(config)
    manifest = build_manifest(config, plan, config.name or out.name)
    run_dir, old = resolve_run_dir(
        out, manifest, False, config.name is not None, plan_digester(config, plan)
    )
    if old is None:
        return 0
    have = {(s, int(i)) for s, i, _ in res.scan_results(run_dir).keys()}
    rounds = config.n
    for space in config.spaces:
        k = 0
        while k < config.n and (space, k) in have:
            k += 1
        rounds = min(rounds, k)
    return rounds


def budgeted_sweep(
    config: SweepConfig,
    out: Path,
    placement: Placement,
    budget_s: float,
    *,
    progress: bool = True,
    say: Callable[[str], None] = print,
    trainer: Any = None,
) -> pd.DataFrame:
    """Train as many of ``config.n`` models per space as fit in ``budget_s`` seconds; the
    caller holds ``out``'s writer lock. Returns the results of the first ``n`` per space.

    1. A first round (enough models, round-robin over the spaces, to fill every trial slot)
       measures this machine's seconds per model at the sweep's concurrency, and the cost of
       starting a sweep call (:func:`designspace.studies.budget.measure_speed`).
    2. :func:`designspace.studies.budget.plan_budget` chooses ``n``; the plan and its ETA are
       printed (``say``) before the rest is trained, with a deadline that ends the budget.
    A study stopped by the budget is resumable: rerunning continues the same sweep.
    """
    from designspace.studies import budget as bud
    from designspace.sweep import run_sweep
    from designspace.sweep.executor import planned_resources
    from designspace.sweep.resources import resolve_resources

    start = time.time()
    end = start + budget_s
    spaces = len(config.spaces)
    done = done_rounds(config, out)
    if done >= config.n:
        say(f"all {config.n} models per space are already trained; nothing to train")
        return run_sweep(config, out, placement, progress=False, lock=False)
    planned = planned_resources(placement)
    if planned is not None:
        slots = resolve_resources(placement, config.train, planned).concurrency
    else:  # a cluster known only once joined: one model per space to start with
        slots = spaces
    first = min(config.n, done + max(1, math.ceil(slots / spaces)))
    todo = spaces * (first - done)
    say(
        f"budget {bud.format_duration(budget_s)}: training ends by {_clock(end)} (no model "
        f"starts later); first {todo} model(s) ({first - done} per space, {min(slots, todo)} at "
        f"a time) measure this machine's speed"
    )
    info: dict[str, Any] = {}
    begun = time.time()
    frame = run_sweep(
        dataclasses.replace(config, n=first), out, placement, progress=progress, info=info,
        deadline=max(0.0, end - time.time()), lock=False, trainer=trainer,
    )  # fmt: skip
    run = info["run"]
    times = (
        [
            float(t)
            for k, t in zip(_keys(frame), frame["wall_time_s"], strict=True)
            if k in run.recorded and t == t  # not NaN (a failed trial)
        ]
        if len(frame)
        else []
    )
    if run.stopped_at_deadline or not times:
        say(
            f"the budget ended during the first round; {len(frame)} model(s) recorded. Rerun "
            f"with a bigger --budget to continue (nothing is retrained)"
        )
        return frame
    speed = bud.measure_speed(times, run.concurrency or slots, time.time() - begun)
    plan = bud.plan_budget(end - time.time(), speed, spaces, first, config.n)
    more = "" if plan.capped else " (the budget's limit)"
    say(
        f"measured: {speed.seconds_per_model:.1f} s per model, {speed.concurrency} at a time "
        f"({speed.models_per_hour:.0f} models/h), {speed.overhead_s:.0f} s to start a sweep; "
        f"plan: {plan.n} model(s) per space{more} of at most {config.n}, {plan.new_models} more "
        f"to train, ETA {bud.format_duration(plan.eta_s)} (~{_clock(time.time() + plan.eta_s)})"
    )
    if plan.new_models == 0:
        if not plan.capped:
            say(
                f"the budget is spent: {first} model(s) per space recorded. Rerun with a bigger "
                f"--budget to continue (nothing is retrained)"
            )
        return frame
    frame = run_sweep(
        dataclasses.replace(config, n=plan.n), out, placement, progress=progress, info=info,
        deadline=plan.deadline_s, lock=False, trainer=trainer,
    )  # fmt: skip
    if info["run"].missing:
        counts = frame.groupby("space").size().to_dict() if len(frame) else {}
        shown = ", ".join(f"{s} {counts.get(s, 0)}" for s in config.spaces)
        say(
            f"the budget ended before {info['run'].missing} planned model(s) ran; recorded: "
            f"{shown}. Rerun with a bigger --budget to continue (nothing is retrained)"
        )
    return frame


def _keys(frame: pd.DataFrame) -> list[str]:
    from designspace.sweep.plan import model_key

    if not len(frame):
        return []
    return [
        model_key(s, i, a)
        for s, i, a in zip(frame.space, frame.sample_index, frame.arch_id, strict=True)
    ]


def _clock(t: float) -> str:
    """A time.time() instant as ``HH:MM:SS UTC``."""
    return time.strftime("%H:%M:%S UTC", time.gmtime(t))
