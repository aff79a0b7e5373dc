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

    [placement]                 # optional: cpus_per_trial, gpus_per_trial, max_concurrent
    cpus_per_trial = 1
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from designspace.errors import DesignSpaceError

DEMO = "demo"


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

    def train_config(self):  # -> designspace.train.TrainConfig (torch imported lazily)
        """The TrainConfig every model of the study is trained with."""
        from designspace.train import TrainConfig

        return TrainConfig.from_dict(self.train)


def study_from_dict(data: dict[str, Any], where: str = "study", base: Path | None = None) -> Study:
    """Build a :class:`Study` from a mapping (a parsed TOML file); ``base`` resolves ``out``."""
    known = {f.name for f in fields(Study)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DesignSpaceError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(known)}")
    missing = [k for k in ("name", "spaces", "n", "regime", "out") if k not in data]
    if missing:
        raise DesignSpaceError(f"{where}: missing key(s) {missing}")
    spaces = data["spaces"]
    if isinstance(spaces, str) or not spaces:
        raise DesignSpaceError(f"{where}: 'spaces' must be a non-empty list of space names")
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
) -> StudyResult:
    """Sweep every space of ``study`` (resuming what is already done) and analyze the results.

    ``out`` and ``n`` override the study's. Results go to ``OUT/`` (the sweep's parquet data
    set and manifest), the analysis to ``OUT/analysis/``.
    """
    from designspace.report import analyze
    from designspace.sweep import Placement, SweepConfig, run_sweep

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
    results = run_sweep(config, out_dir, placement, progress=progress)
    report_dir = out_dir / "analysis"
    reference = study.reference if study.reference in study.spaces else None
    rep = analyze(results, report_dir, by="space", reference=reference, sources=[str(out_dir)])
    table = rep.tables.get("comparison")
    return StudyResult(out_dir, report_dir, results, table, rep)
