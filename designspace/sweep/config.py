"""What a sweep evaluates (:class:`SweepConfig`) and where its trials run (:class:`Placement`).

Pure: imports neither torch nor ray. The training settings' class is imported lazily (it holds
every training setting; building one validates them).
"""

from __future__ import annotations

import math
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from designspace.errors import DesignSpaceError

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


@dataclass(frozen=True)
class Placement:
    """Where and how many trials run; does not change what a trial computes.

    ``executor``: ``"ray"`` (Ray Tune: a local Ray, or a cluster with ``address``) or
    ``"local"`` (worker processes on this machine, no Ray); see
    :data:`designspace.sweep.registry.EXECUTORS`. ``address`` (Ray only): None starts a local
    Ray bound to 127.0.0.1 (or uses the one already initialized in this process); ``"auto"``
    or ``"HOST:PORT"`` joins a running cluster. ``cpus_per_trial`` (also the trial's torch
    threads, at least 1) and ``gpus_per_trial`` may be fractions; None for GPUs means
    :data:`DEFAULT_GPU_SHARE` when the machine or cluster has GPUs and the device is not
    ``cpu``, else 0. ``max_concurrent`` caps the trials running at once (None: as many as the
    resources allow). ``object_store_memory`` (bytes) sizes a local Ray's object store (None:
    5% of memory, between 256 MiB and 2 GiB). ``verbose`` shows Ray's and Tune's own output.
    """

    address: str | None = None
    cpus_per_trial: float = DEFAULT_CPUS_PER_TRIAL
    gpus_per_trial: float | None = None
    max_concurrent: int | None = None
    object_store_memory: int | None = None
    verbose: bool = False
    executor: str = DEFAULT_EXECUTOR

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
        a = self.address
        if a is not None:
            if not isinstance(a, str):
                raise DesignSpaceError(f"--address must be auto or HOST:PORT, got {a!r}")
            if a != "auto" and "://" not in a:
                host, sep, port = a.rpartition(":")
                if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                    raise DesignSpaceError(f"--address must be auto or HOST:PORT, got {a!r}")
        m = self.max_concurrent
        if m is not None and (not _is_int(m) or m < 1):
            raise DesignSpaceError(f"--max-concurrent must be an integer >= 1, got {m!r}")
        o = self.object_store_memory
        if o is not None and (not _is_int(o) or o <= 0):
            raise DesignSpaceError(
                f"object_store_memory must be a positive number of bytes, got {o!r}"
            )
        from designspace.sweep.registry import check_executor

        check_executor(self.executor)
        if self.executor != "ray" and a is not None:
            raise DesignSpaceError(
                f"--address joins a Ray cluster, but the {self.executor} executor runs on this "
                f"machine only; drop --address or use --executor ray"
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_address(address: str) -> None:
    """DesignSpaceError (one line) when a Ray cluster address ``HOST:PORT`` accepts no
    connection within 5 s (``auto`` and ``ray://`` addresses are left to Ray)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except OSError as exc:
        raise DesignSpaceError(
            f"cannot reach a Ray cluster at {address} ({exc.strerror or exc}); start one with "
            f"'ray start --head' or check the address"
        ) from None
