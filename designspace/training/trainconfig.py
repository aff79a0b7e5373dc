"""The settings of one training run (:class:`TrainConfig`), without torch.

Pure: a sweep plans, a study file is checked and ``designspace train`` refuses bad arguments
without importing torch. :mod:`designspace.training.train` re-exports everything here.

The data settings (:data:`DATA_FIELDS`) are the fields of
:class:`~designspace.core.datasets.DataConfig`; ``TrainConfig`` keeps them flat (so that
``TrainConfig(subset=1000)``, :meth:`TrainConfig.to_dict` and the ``cfg_<field>`` results
columns stay as they were) and hands them out as one frozen value, :attr:`TrainConfig.data`.
Each field's ``metadata`` holds its command-line help (``help``, ``metavar``, ``group``), from
which :mod:`designspace.commands.options` generates the options.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from designspace.core.arch import Architecture
from designspace.core.datasets import DataConfig
from designspace.core.fieldcheck import check_keys, check_types, prefix
from designspace.errors import DesignSpaceError

__all__ = [
    "DATA_FIELDS",
    "PRECISIONS",
    "TrainConfig",
    "check_resolution",
    "min_resolution",
]

PRECISIONS = ("auto", "fp32", "bf16")
DATA_FIELDS = tuple(f.name for f in fields(DataConfig))


def _opt(default: Any, group: str, help: str, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"group": group, "help": help, "metavar": metavar})


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run; every field is recorded in sweep results as ``cfg_<field>``.

    ``lr`` is per 128 images (the effective rate is ``lr * batch_size / 128``); ``epochs`` may
    be fractional; ``max_steps`` (optimizer steps) overrides ``epochs`` when given.
    ``warmup_epochs`` of linear warm-up multiply the cosine schedule. ``augment`` None means the
    data set's default (off for Fashion-MNIST, on for CIFAR-10 and ImageFolder): random crop
    with zero padding of ``resolution // 8`` px and horizontal flip, per batch on the device.
    ``precision`` auto = bf16 autocast on CUDA, fp32 on CPU. ``channels_last`` None = on (both
    devices; measured faster on CPU too). ``threads`` sets torch's intra-op threads during the
    run (restored after). ``subset_seed`` picks the class-balanced subsets (independent of
    ``seed``, which drives initialization, shuffling and augmentation).
    ``zero_init_last_bn`` starts the BN closing each residual branch at gamma 0, so every
    block starts as the identity (Goyal et al. 2017): without it, the deep sampled networks of
    AnyNetXD/XE do not train at all in a short schedule (measured: 0.90 vs 0.20 error after one
    epoch of 10,000 Fashion-MNIST images; README, "Studies").
    ``cuda_graph`` None = on with CUDA: after 3 eager warm-up steps the whole training step
    (forward, backward, update) is captured once as a CUDA graph and replayed, which removes
    the per-kernel launch cost that dominates small networks (measured: README, "Benchmarks");
    if capture fails the run goes on eagerly. Ignored on CPU.

    The data fields (``dataset``, ``data_root``, ``resize``, ``subset``, ``val_subset``,
    ``subset_seed``, ``augment``) are documented on :class:`~designspace.core.datasets.DataConfig`.
    """

    dataset: str = "fashion-mnist"
    data_root: str | None = None
    resize: int | None = None
    subset: int | None = None
    val_subset: int | None = None
    epochs: float = _opt(10.0, "schedule", "epochs, fractional allowed (10)", "E")
    max_steps: int | None = _opt(None, "schedule", "optimizer steps; overrides --epochs", "N")
    batch_size: int = _opt(128, "schedule", "images per step (128)", "N")
    lr: float = _opt(
        0.1, "schedule", "learning rate per 128 images, scaled by batch size / 128 (0.1)"
    )
    momentum: float = _opt(0.9, "schedule", "SGD momentum (0.9)", "M")
    nesterov: bool = _opt(True, "schedule", "Nesterov momentum (default on)")
    weight_decay: float = _opt(5e-5, "schedule", "weight decay (5e-5)", "WD")
    warmup_epochs: float = _opt(0.0, "schedule", "linear warm-up epochs (0)", "E")
    label_smoothing: float = _opt(0.0, "schedule", "label smoothing (0)", "EPS")
    augment: bool | None = None
    device: str = _opt("auto", "run", "auto (default), cpu, cuda or cuda:N", "DEV")
    precision: str = _opt(
        "auto", "run", "auto (default: bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16", "P"
    )
    channels_last: bool | None = _opt(None, "run", "channels_last memory format (default on)")
    threads: int | None = _opt(None, "run", "torch intra-op threads on CPU (default: torch's)", "N")
    seed: int = _opt(0, "schedule", "seed of init, order, augmentation (0)", "S")
    subset_seed: int = 0
    zero_init_last_bn: bool = _opt(
        True,
        "schedule",
        "start each residual branch's last BN at gamma 0, i.e. every block as the identity "
        "(default on: deep sampled networks do not train in short schedules without it)",
    )
    cuda_graph: bool | None = _opt(
        None,
        "run",
        "capture the training step as a CUDA graph after 3 warm-up steps (default on with "
        "CUDA; ignored on CPU)",
    )

    def __post_init__(self) -> None:
        self.validate()

    @property
    def data(self) -> DataConfig:
        """The data settings as one frozen, hashable value (validated)."""
        return DataConfig(**{name: getattr(self, name) for name in DATA_FIELDS})

    def with_data(self, data: DataConfig) -> TrainConfig:
        """A copy that trains on ``data`` (every data field replaced)."""
        return dataclasses.replace(self, **data.to_dict())

    def validate(self, where: str | None = None) -> None:
        """Raise DesignSpaceError naming the first bad setting (``where``: the file it came
        from, for the message)."""
        check_types(self, where, what="training setting")
        try:
            self.data.validate()
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{prefix(where)}{exc}") from None
        checks = [
            (self.batch_size > 0, f"batch size must be > 0, got {self.batch_size}"),
            (
                math.isfinite(self.epochs) and self.epochs > 0,
                f"epochs must be > 0, got {self.epochs}",
            ),
            (
                self.max_steps is None or self.max_steps > 0,
                f"max_steps must be > 0, got {self.max_steps}",
            ),
            (self.lr > 0 and math.isfinite(self.lr), f"lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (
                self.weight_decay >= 0 and math.isfinite(self.weight_decay),
                f"weight decay must be >= 0, got {self.weight_decay}",
            ),
            (
                self.warmup_epochs >= 0 and math.isfinite(self.warmup_epochs),
                f"warm-up epochs must be >= 0, got {self.warmup_epochs}",
            ),
            (
                0 <= self.label_smoothing < 1,
                f"label smoothing must be in [0, 1), got {self.label_smoothing}",
            ),
            (
                self.precision in PRECISIONS,
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}",
            ),
            (
                self.threads is None or self.threads > 0,
                f"threads must be > 0, got {self.threads}",
            ),
            (
                self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda"),
                f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise DesignSpaceError(f"{prefix(where)}{message}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (JSON- and parquet-friendly)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str | None = None) -> TrainConfig:
        """Inverse of :meth:`to_dict`. An unknown key (named with the closest valid one) or a
        value of the wrong type raises DesignSpaceError; ``where`` (e.g. the study file's
        path) starts the message."""
        check_keys(cls, data, where, what="training setting")
        try:
            return cls(**data)
        except DesignSpaceError as exc:
            if where and not str(exc).startswith(prefix(where)):
                raise DesignSpaceError(f"{prefix(where)}{exc}") from None
            raise


def min_resolution(arch: Architecture) -> int:
    """Smallest input side (px) the network can take (:attr:`Architecture.min_resolution`)."""
    return arch.min_resolution


def check_resolution(arch: Architecture, resolution: int) -> None:
    """Bad input when ``resolution`` (px) < :func:`min_resolution` (a strided layer on 1 px)."""
    need = min_resolution(arch)
    if resolution < need:
        raise DesignSpaceError(
            f"images of {resolution} px are too small for this network (total stride "
            f"{arch.total_stride}: a stride-2 layer would see a single pixel); use --resize "
            f"{need} or more"
        )
