"""What a sweep evaluates (:class:`SweepConfig`) and where its trials run (:class:`Placement`).

Pure: imports neither torch nor ray. The training settings' class is imported lazily (it holds
every training setting; building one validates them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError
from designspace.sweep.options import ExecutorOptions

if TYPE_CHECKING:
    from designspace.core.regimes import Regime
    from designspace.training.trainconfig import TrainConfig

# Measured on the 2-core development machine (RegNetX32 at 28 px): two 1-thread trainings side
# by side gave ~1,900 images/s each, one 2-thread training ~2,400 images/s, so one CPU per
# trial is the CPU default.
DEFAULT_CPUS_PER_TRIAL = 1.0
# Trials that share one GPU by default (small models leave most of a card idle); not yet
# measured on a GPU.
DEFAULT_GPU_SHARE = 0.25
# Settings that say where a trial runs rather than what it computes: a sweep may be resumed
# with other values, and each row records the value it ran with.
PLACEMENT_SETTINGS = ("threads", "device")
DEFAULT_EXECUTOR = "ray"


def _train_config_class() -> type:
    from designspace.training.trainconfig import TrainConfig

    return TrainConfig


@dataclass(frozen=True)
class SweepConfig:
    """What a sweep evaluates and how each model is trained (the sweep's identity).

    Either ``spaces`` (``n`` configurations of each, sampled with ``seed`` in ``regime``;
    None = the regime of the training data set) or ``samples`` (a .parquet/.csv/.jsonl table
    written by ``designspace sample``, or any table with an ``arch_json`` column or the flat
    architecture columns). ``train`` holds every training setting. ``max_failures`` is how many
    times a trial that raises is retried. ``name`` is the ``sweep`` column (default: the name of
    the output folder).
    """

    spaces: tuple[str, ...] = ()
    n: int = 100
    seed: int = 0
    regime: str | Regime | None = None
    samples: str | None = None
    train: TrainConfig | None = None
    max_failures: int = 2
    name: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.spaces, str):
            object.__setattr__(self, "spaces", (self.spaces,))
        object.__setattr__(self, "spaces", tuple(self.spaces))
        if self.train is None:
            object.__setattr__(self, "train", _train_config_class()())
        if self.samples is not None and self.spaces:
            raise DesignSpaceError("give either spaces or a samples file, not both")
        if self.samples is None and not self.spaces:
            raise DesignSpaceError("name at least one space (--space) or a --samples FILE")
        if len(set(self.spaces)) != len(self.spaces):
            raise DesignSpaceError(f"a space is named twice: {list(self.spaces)}")
        if not _is_int(self.n) or self.n <= 0:
            raise DesignSpaceError(f"-n must be a positive number of configurations, got {self.n}")
        if not _is_int(self.seed) or self.seed < 0:
            raise DesignSpaceError(f"the sampling seed must be an integer >= 0, got {self.seed}")
        if not _is_int(self.max_failures) or self.max_failures < 0:
            raise DesignSpaceError(f"max failures must be >= 0, got {self.max_failures}")


# The placement settings every executor shares (the rest are the executor's own options).
SHARED_PLACEMENT_KEYS = ("executor", "cpus_per_trial", "gpus_per_trial", "max_concurrent")


@dataclass(frozen=True)
class Placement:
    """Where and how many trials run; does not change what a trial computes.

    ``executor``: a name of :data:`designspace.sweep.registry.EXECUTORS` (``"ray"``: Ray Tune
    on a local Ray or a cluster; ``"local"``: worker processes on this machine; ``"slurm"``:
    one SLURM job per trial through submitit). ``cpus_per_trial`` (also the trial's torch
    threads, at least 1) and ``gpus_per_trial`` may be fractions where the executor allows;
    None for GPUs means :data:`DEFAULT_GPU_SHARE` when the machine or cluster has GPUs and the
    device is not ``cpu``, else 0. ``max_concurrent`` caps the trials running at once (None: as
    many as the resources allow). ``verbose`` shows the executor's own output. ``options``:
    the executor's own settings, an instance of its ``Options`` dataclass (None: its
    defaults); :meth:`from_values` builds a placement from flat keys instead.
    """

    executor: str = DEFAULT_EXECUTOR
    cpus_per_trial: float = DEFAULT_CPUS_PER_TRIAL
    gpus_per_trial: float | None = None
    max_concurrent: int | None = None
    verbose: bool = False
    options: ExecutorOptions | None = None

    def __post_init__(self) -> None:
        c = self.cpus_per_trial
        if not _is_number(c) or not math.isfinite(c) or not c > 0:
            raise DesignSpaceError(f"--cpus-per-trial must be a number > 0, got {c!r}")
        g = self.gpus_per_trial
        if g is not None and (
            not _is_number(g)
            or not math.isfinite(g)
            or g < 0
            or (g > 1 and not float(g).is_integer())
        ):
            raise DesignSpaceError(
                f"--gpus-per-trial must be a fraction in [0, 1] or a whole number, got {g!r}"
            )
        m = self.max_concurrent
        if m is not None and (not _is_int(m) or m < 1):
            raise DesignSpaceError(f"--max-concurrent must be an integer >= 1, got {m!r}")
        from designspace.sweep.registry import check_executor, options_class

        check_executor(self.executor)
        cls = options_class(self.executor)
        if self.options is None:
            object.__setattr__(self, "options", cls())
        elif type(self.options) is not cls:
            raise DesignSpaceError(
                f"the options of the {self.executor} executor are a {cls.__name__}, got "
                f"{type(self.options).__name__}"
            )

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Placement:
        """A placement from flat keys, as a study's ``[placement]`` table or the command
        line give them: the shared ones (:data:`SHARED_PLACEMENT_KEYS`, ``verbose``) and the
        chosen executor's option keys (e.g. ``address`` for ray, ``slurm_partition`` for
        slurm). A key of another executor, or of none, is refused (one line, naming its flag)."""
        values = dict(values)
        executor = values.pop("executor", DEFAULT_EXECUTOR)
        from designspace.sweep.registry import EXECUTORS, check_executor, options_class, suggest

        check_executor(executor)
        own = options_class(executor)
        shared = {k: values.pop(k) for k in (*SHARED_PLACEMENT_KEYS, "verbose") if k in values}
        for key in values:
            if key in own.keys():
                continue
            flag = "--" + str(key).replace("_", "-")
            owner = next((n for n in EXECUTORS if key in options_class(n).keys()), None)
            if owner is None:
                known = [*SHARED_PLACEMENT_KEYS, *own.keys()]
                every = known + [k for n in EXECUTORS for k in options_class(n).keys()]
                raise DesignSpaceError(
                    f"unknown placement setting {key!r}{suggest(str(key), every)}; valid: "
                    f"{', '.join(known)}"
                )
            raise DesignSpaceError(
                f"{flag} is an option of the {owner} executor, not of {executor}; drop {flag} "
                f"or use --executor {owner}"
            )
        return cls(executor=executor, options=own.from_values(values), **shared)

    def values(self) -> dict[str, Any]:
        """The flat keys of :meth:`from_values` that rebuild this placement (defaults left
        out, except the executor)."""
        out: dict[str, Any] = {"executor": self.executor}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in ("executor", "options") and value != f.default:
                out[f.name] = value
        out.update(self.options.values())
        return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def override_values(base: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Flat placement keys ``base`` (e.g. a study file's) overridden by ``given`` (e.g. the
    command line's). When ``given`` chooses another executor, ``base``'s options of its own
    executor are dropped (they belong to the executor it no longer uses)."""
    out = dict(base)
    executor = given.get("executor")
    if executor is not None and executor != out.get("executor", DEFAULT_EXECUTOR):
        out = {k: v for k, v in out.items() if k in (*SHARED_PLACEMENT_KEYS, "verbose")}
    out.update(given)
    return out
