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

    [placement]                 # optional: executor, cpus_per_trial, gpus_per_trial,
    cpus_per_trial = 1          # max_concurrent

Every key is checked when the file is read, before anything starts: its type, unknown keys
(named with the file and the closest valid key), ``reference`` among ``spaces``, every training
setting (:meth:`TrainConfig.from_dict`) and the placement (:class:`~designspace.sweep.Placement`).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from designspace.errors import DesignSpaceError

DEMO = "demo"
REQUIRED = ("name", "spaces", "n", "regime", "out")
PLACEMENT_KEYS = ("executor", "cpus_per_trial", "gpus_per_trial", "max_concurrent")


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

    def train_config(self):  # -> designspace.trainconfig.TrainConfig
        """The TrainConfig every model of the study is trained with."""
        from designspace.trainconfig import TrainConfig

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
    from designspace.regimes import get_regime

    try:
        get_regime(regime)
    except DesignSpaceError as exc:
        raise DesignSpaceError(f"{where}: {exc}") from None
    _typed(data, "out", (str,), "a folder (a string)", where)
    if "seed" in data and _typed(data, "seed", (int,), "an integer >= 0", where) < 0:
        raise DesignSpaceError(f"{where}: 'seed' must be an integer >= 0, got {data['seed']}")
    if "description" in data:
        _typed(data, "description", (str,), "a string", where)
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
    from designspace.trainconfig import TrainConfig

    TrainConfig.from_dict(train, where=f"{where}, [train]")
    placement = data.get("placement", {})
    if not isinstance(placement, dict):
        raise DesignSpaceError(f"{where}: [placement] must be a table")
    _unknown(placement, PLACEMENT_KEYS, f"{where}, [placement]", "key")
    from designspace.sweep.config import Placement

    try:
        Placement(**placement)
    except DesignSpaceError as exc:
        raise DesignSpaceError(f"{where}, [placement]: {exc}") from None
    out = Path(data["out"])
    if base is not None and not out.is_absolute():
        out = base / out
    values = dict(data, spaces=tuple(spaces), out=str(out))
    return Study(**values)


def load_study(path: str | Path) -> Study:
    """Read a study TOML file (``out`` is relative to the repository root, i.e. the parent of
    the file's folder, so ``experiments/x.toml`` with ``out = "results/x"`` lands in
    ``results/x``); ``demo`` loads the built-in demo study (``out = runs/demo``)."""
    if str(path) == DEMO:
        text = resources.files("designspace").joinpath("data/demo-study.toml").read_text()
        return study_from_dict(tomllib.loads(text), "the demo study", base=Path.cwd())
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except OSError as exc:
        raise DesignSpaceError(f"cannot read study file {p}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DesignSpaceError(f"study file {p} is not valid TOML: {exc}") from None
    return study_from_dict(data, str(p), base=p.resolve().parent.parent)


@dataclass
class StudyResult:
    """Where a finished study's results and report are, and its comparison table."""

    results_dir: Path
    report_dir: Path
    results: Any  # pandas.DataFrame, one row per model
    comparison: Any  # pandas.DataFrame, one row per space
    report: Any  # designspace.report.AnalysisReport


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
) -> StudyResult:
    """Sweep every space of ``study`` (resuming what is already done) and analyze the results.

    ``out`` and ``n`` override the study's; ``placement_overrides`` its ``[placement]``
    (e.g. ``{"executor": "local"}``). Results go to ``OUT/`` (the sweep's parquet data set and
    manifest), the analysis to ``OUT/analysis/``. One writer per ``OUT``: another sweep or
    study writing there is refused, or waited for with ``wait``.
    """
    from designspace.report import analyze
    from designspace.sweep import Placement, SweepConfig, run_sweep
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
    placement = Placement(**{**study.placement, **(placement_overrides or {})})
    check_out_dir(out_dir)
    with out_lock(out_dir, wait=wait, command=f"study {study.name}"):
        results = run_sweep(config, out_dir, placement, progress=progress, lock=False)
        report_dir = out_dir / "analysis"
        rep = analyze(
            results, report_dir, by="space", reference=study.reference, sources=[str(out_dir)]
        )
    table = rep.tables.get("comparison")
    return StudyResult(out_dir, report_dir, results, table, rep)
