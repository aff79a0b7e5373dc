"""Sweeps: train every sampled configuration of one or more spaces through Ray Tune.

Ray Tune does the scheduling, placement and retries; this module plans the sweep, records one
result row per model the moment its trial ends, and resumes.

* **Plan**: ``n`` configurations per space, sampled with ``seed`` in the data set's regime (or
  the rows of a samples table), each adapted to the data set's channels and classes; their
  complexity is counted at the training resolution.
* **No waste**: one function trainable, ``TuneConfig(reuse_actors=True)``, so a worker process
  runs trial after trial; the data set is loaded once per worker process (a cache keyed by the
  data settings) and never travels through Ray; per-trial torch threads = CPUs per trial.
* **Results**: the driver writes each finished model's row as its own parquet file (see
  :mod:`designspace.results`) from a Tune callback. The driver, not the trial, writes because
  on a cluster the workers need not share a file system with ``--out``; a driver SIGKILL loses
  only the trials that were running.
* **Resume**: before launching, the finished rows are read and their ``(space, sample_index,
  arch_id)`` taken out of the plan; Tune's own experiment restore is not used (its temporary
  storage is discarded). A rerun of the same sweep therefore trains only what is missing.
* **Faults**: a trial that raises is retried ``max_failures`` times by Tune (on any node),
  then recorded as ``failed`` with the error; a dead worker node costs its running trials a
  retry; bad settings (:class:`DesignSpaceError`) and CUDA out-of-memory are ``failed`` rows
  at once (retrying would fail again); a non-finite loss is a ``diverged`` row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray import tune

from designspace import __version__
from designspace import results as res
from designspace.arch import Architecture
from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    import pandas as pd

    from designspace.regimes import Regime
    from designspace.train import TrainConfig

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
# Train / validation images, channels, classes (for planning only; the trainer reads the data).
_DATASET_FACTS = {
    "fashion-mnist": (60_000, 10_000, 1, 10),
    "cifar10": (50_000, 10_000, 3, 10),
}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff",
                   ".webp"}  # fmt: skip
_TUNE_ENV = {
    # Tune's default JSON/CSV/TensorBoard loggers write several files per trial: not needed.
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    # Experiment state is only for Tune's own restore, which this module does not use.
    "TUNE_GLOBAL_CHECKPOINT_S": "600",
}
_TUNE_QUIET_ENV = {"RAY_AIR_NEW_OUTPUT": "0", "TUNE_PRINT_ALL_TRIAL_ERRORS": "0"}
_QUIET_LOGGERS = ("ray", "ray.tune", "ray.train", "ray.air", "ray.data")

Trainer = Callable[..., Any]  # (arch, config, data=...) -> TrainResult


# --------------------------------------------------------------------------- configuration
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
            from designspace.train import TrainConfig

            object.__setattr__(self, "train", TrainConfig())
        if self.samples is not None and self.spaces:
            raise DesignSpaceError("give either spaces or a samples file, not both")
        if self.samples is None and not self.spaces:
            raise DesignSpaceError("name at least one space (--space) or a --samples FILE")
        if len(set(self.spaces)) != len(self.spaces):
            raise DesignSpaceError(f"a space is named twice: {list(self.spaces)}")
        if not isinstance(self.n, int) or self.n <= 0:
            raise DesignSpaceError(f"-n must be a positive number of configurations, got {self.n}")
        if not isinstance(self.max_failures, int) or self.max_failures < 0:
            raise DesignSpaceError(f"max failures must be >= 0, got {self.max_failures}")


@dataclass(frozen=True)
class Placement:
    """Where and how many trials run; does not change what a trial computes.

    ``address``: None starts a local Ray (or uses the one already initialized in this
    process); ``"auto"`` or ``"HOST:PORT"`` joins a running cluster. ``cpus_per_trial`` (also
    the trial's torch threads, at least 1) and ``gpus_per_trial`` may be fractions; None for
    GPUs means :data:`DEFAULT_GPU_SHARE` when the cluster has GPUs and the device is not
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

    def __post_init__(self) -> None:
        if not self.cpus_per_trial > 0:
            raise DesignSpaceError(f"--cpus-per-trial must be > 0, got {self.cpus_per_trial}")
        g = self.gpus_per_trial
        if g is not None and (g < 0 or (g > 1 and not float(g).is_integer())):
            raise DesignSpaceError(
                f"--gpus-per-trial must be a fraction in [0, 1] or a whole number, got {g}"
            )
        a = self.address
        if a is not None and a != "auto" and "://" not in a:
            host, sep, port = a.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise DesignSpaceError(f"--address must be auto or HOST:PORT, got {a!r}")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise DesignSpaceError(f"--max-concurrent must be >= 1, got {self.max_concurrent}")


@dataclass(frozen=True)
class DatasetFacts:
    """Sizes and shapes of a training set as the planner sees them (no images are read)."""

    num_train: int
    num_val: int
    resolution: int
    in_channels: int
    num_classes: int


def dataset_facts(config: TrainConfig) -> DatasetFacts:
    """Images (after subsets), resolution (px, after resize), channels and classes of the
    data set that ``config`` trains on, from known sizes or by listing an image folder."""
    from designspace.data import native_resolution

    name = config.dataset
    if name in _DATASET_FACTS:
        n_train, n_val, ch, classes = _DATASET_FACTS[name]
    else:  # imagefolder: data_root/{train,val}/<class>/<image>
        if config.data_root is None:
            raise DesignSpaceError(f"data set {name!r} needs --data-root (a local folder)")
        root = Path(config.data_root)
        counts = []
        class_names: set[str] = set()
        for split in ("train", "val"):
            d = root / split
            if not d.is_dir():
                raise DesignSpaceError(f"{d} does not exist: an image folder needs train/ and val/")
            total = 0
            for cls in d.iterdir():
                if cls.is_dir():
                    class_names.add(cls.name)
                    total += sum(1 for f in cls.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES)
            counts.append(total)
        n_train, n_val = counts
        ch, classes = 3, len(class_names)
    return DatasetFacts(
        num_train=min(config.subset or n_train, n_train),
        num_val=min(config.val_subset or n_val, n_val),
        resolution=config.resize or native_resolution(name),
        in_channels=ch,
        num_classes=classes,
    )


def check_data(config: TrainConfig) -> None:
    """Raise DesignSpaceError when the training data cannot be loaded on this machine.

    Fashion-MNIST and CIFAR-10 are loaded once (at native size, about a second); an image
    folder was already listed by :func:`dataset_facts`.
    """
    if config.dataset == "imagefolder":
        return
    from designspace.data import load_data

    load_data(dataclasses.replace(config, resize=None))


def _regime_for(config: SweepConfig) -> Regime:
    from designspace.regimes import REGIMES, Regime, get_regime

    if isinstance(config.regime, Regime):
        return config.regime
    if config.regime is not None:
        return get_regime(config.regime)
    dataset = config.train.dataset
    for regime in REGIMES.values():
        if regime.dataset == dataset:
            return regime
    raise DesignSpaceError(f"no regime for data set {dataset!r}; name one with --regime")


# --------------------------------------------------------------------------- plan
def plan_sweep(config: SweepConfig) -> pd.DataFrame:
    """One row per model to evaluate: identity, architecture and complexity columns.

    Architectures are adapted to the training data's channels and classes
    (:meth:`Architecture.with_io`), so ``arch_id``, ``arch_json`` and the complexity
    (``flops`` = multiply-adds, ``params``, ``acts`` at ``resolution`` px) describe the network
    that is trained.
    """
    import pandas as pd

    from designspace.complexity import complexity

    facts = dataset_facts(config.train)
    entries: list[tuple[str, str | None, int | None, int, Architecture]] = []
    if config.samples is not None:
        entries = _entries_from_table(config.samples, _regime_for(config).name)
    else:
        from designspace.sampling import sample

        regime = _regime_for(config)
        for space in config.spaces:
            s = sample(space, config.n, seed=config.seed, regime=regime)
            entries += [(s.space, regime.name, config.seed, i, a) for i, a in enumerate(s.archs)]
    from designspace.train import check_resolution

    rows = []
    too_small = []
    seen: set[tuple[str, int]] = set()
    for space, regime_name, seed, index, arch in entries:
        if (space, index) in seen:
            raise DesignSpaceError(
                f"the samples name ({space!r}, sample_index {index}) twice; every row needs its "
                f"own (space, sample_index)"
            )
        seen.add((space, index))
        arch = arch.with_io(in_channels=facts.in_channels, num_classes=facts.num_classes)
        try:
            check_resolution(arch, facts.resolution)
        except DesignSpaceError as exc:
            too_small.append(str(exc))
        c = complexity(arch, facts.resolution)
        row: dict[str, Any] = {
            "space": space,
            "regime": regime_name,
            "sample_seed": seed,
            "sample_index": index,
        }
        row.update(arch.to_row())
        row["arch_json"] = arch.to_json(sort_keys=True)
        row.update(resolution=facts.resolution, flops=c.flops, params=c.params, acts=c.acts)
        rows.append(row)
    if too_small:  # every such trial would fail the same way: refuse before starting any
        raise DesignSpaceError(
            f"{len(too_small)} of {len(rows)} models cannot train: {too_small[0]}"
        )
    return pd.DataFrame(rows)


def _entries_from_table(path: str, default_regime: str) -> list:
    from designspace.archfile import read_table

    frame = read_table(path)
    if len(frame) == 0:
        raise DesignSpaceError(f"{path} has no rows")
    entries = []
    for pos, (_, row) in enumerate(frame.iterrows()):
        try:
            if "arch_json" in frame.columns and isinstance(row["arch_json"], str):
                arch = Architecture.from_json(row["arch_json"])
            else:
                arch = Architecture.from_row(row)
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{path}, row {pos}: {exc}") from None
        space = _cell(row, "space") or "samples"
        regime = _cell(row, "regime") or default_regime
        seed = _cell(row, "sample_seed")
        index = _cell(row, "sample_index")
        entries.append(
            (
                str(space),
                str(regime),
                None if seed is None else int(seed),
                pos if index is None else int(index),
                arch,
            )
        )
    return entries


def _cell(row: Any, key: str) -> Any:
    if key not in row.index:
        return None
    value = row[key]
    try:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
    except TypeError:
        return value
    return value


def _key(space: str, index: int, arch_id: str) -> str:
    return f"{space}|{int(index)}|{arch_id}"


def _plan_digest(plan: pd.DataFrame) -> str:
    keys = sorted(
        _key(s, i, a) for s, i, a in zip(plan.space, plan.sample_index, plan.arch_id, strict=True)
    )
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_manifest(config: SweepConfig, plan: pd.DataFrame, name: str) -> dict[str, Any]:
    """The manifest of a sweep: its settings (``study``, ``train``) and its plan's size."""
    regime = (
        None
        if config.samples is not None and config.regime is None
        else dataclasses.asdict(_regime_for(config))
    )
    study = {
        "spaces": list(config.spaces),
        "n": config.n if config.samples is None else None,
        "seed": config.seed if config.samples is None else None,
        "regime": json.loads(json.dumps(regime)),  # tuples -> lists, as read back from JSON
        "samples": str(config.samples) if config.samples is not None else None,
        "samples_sha256": _file_digest(config.samples) if config.samples is not None else None,
        "plan_size": int(len(plan)),
        "plan_sha256": _plan_digest(plan),
        "per_space": {str(k): int(v) for k, v in plan.groupby("space").size().items()},
    }
    return {
        "format": res.MANIFEST_FORMAT,
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "designspace_version": __version__,
        "study": study,
        "train": config.train.to_dict(),
        "max_failures": config.max_failures,
    }


_IGNORED_DIFFERENCES = {f"train.{k}" for k in PLACEMENT_SETTINGS} | {"study.samples"}


_DERIVED = {"study.plan_size", "study.plan_sha256", "study.per_space"}


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Setting differences that make two manifests different sweeps; the plan's size and
    digest are named only when nothing else differs (e.g. another designspace version
    samples other configurations)."""
    diff = [
        d
        for d in res.manifest_differences(old, new)
        if d.split(":", 1)[0] not in _IGNORED_DIFFERENCES
    ]
    primary = [d for d in diff if d.split(":", 1)[0] not in _DERIVED]
    return primary or diff


def _resolve_run_dir(
    out: Path, manifest: dict[str, Any], force_new: bool, explicit_name: bool
) -> tuple[Path, dict[str, Any] | None]:
    """The folder of this sweep inside ``out`` and its existing manifest (None when new).

    ``out`` itself, or ``out/run-K`` for sweeps started there with ``force_new``; a folder
    whose manifest has the same settings is this sweep (resume).
    """
    if out.exists() and not out.is_dir():
        raise DesignSpaceError(f"--out {out} is a file; give a folder")
    candidates = (
        [out]
        + sorted(
            (p for p in out.glob("run-*") if p.is_dir() and p.name[4:].isdigit()),
            key=lambda p: int(p.name[4:]),
        )
        if out.is_dir()
        else [out]
    )
    first_diff: list[str] = []
    for d in candidates:
        old = res.read_manifest(d)
        if old is None:
            continue
        diff = _differences(old, manifest)
        if explicit_name and old.get("name") != manifest["name"]:
            diff.append(f"name: {old.get('name')!r} -> {manifest['name']!r}")
        if not diff:
            return d, old
        if d == out:
            first_diff = diff
    root_free = res.read_manifest(out) is None and not (out / res.DATA_DIRNAME).exists()
    if root_free:
        return out, None
    if not force_new:
        if not first_diff:
            first_diff = [f"{out / res.DATA_DIRNAME} exists but {out / res.MANIFEST_NAME} does not"]
        shown = "; ".join(first_diff[:4]) + (" ..." if len(first_diff) > 4 else "")
        raise DesignSpaceError(
            f"--out {out} holds a different sweep ({shown}); use another --out, or --force-new "
            f"to start this sweep in {out}/run-K beside the existing results (nothing is deleted)"
        )
    k = 2
    while (out / f"run-{k}").exists():
        k += 1
    return out / f"run-{k}", None


# --------------------------------------------------------------------------- the trial
# One data set per worker process, loaded by the first trial that needs it and reused by every
# later trial the (reused) actor runs. A cache, not configuration: keyed by the data settings.
_DATA_CACHE: dict[tuple, Any] = {}


def _data_for(config: TrainConfig) -> Any:
    from designspace.data import load_data
    from designspace.train import resolve_device

    device = resolve_device(config.device)
    key = (config.dataset, config.data_root, config.resize, config.subset, config.val_subset,
           config.subset_seed, str(device))  # fmt: skip
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_data(config, device=device)
    return _DATA_CACHE[key]


def _run_trial(trial: dict[str, Any], settings: dict[str, Any], trainer: Trainer | None) -> None:
    """Ray Tune function trainable: train one model and report its metrics once."""
    import torch

    from designspace.train import TrainConfig, train

    spec = trial["model"]
    config = TrainConfig.from_dict(settings)
    # Outside the try: a data set missing on one node is worth a retry on another.
    data = _data_for(config)
    try:
        arch = Architecture.from_json(spec["arch_json"])
        result = (trainer or train)(arch, config, data=data)
        metrics = result.to_row()
    except DesignSpaceError as exc:  # bad settings: the same on every retry
        metrics = {"status": "failed", "error": str(exc)}
    except torch.OutOfMemoryError as exc:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        metrics = {"status": "failed", "error": f"out of memory: {str(exc).splitlines()[0]}"}
    err = metrics.get("val_top1_err")
    tune.report({
        "ds_metrics": json.dumps(metrics),
        "ds_host": socket.gethostname(),
        "val_top1_err": float(err) if isinstance(err, (int, float)) else float("nan"),
    })  # fmt: skip


# --------------------------------------------------------------------------- recording
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _error_text(trial: Any) -> str:
    """The last error of a Tune trial in one line: the exception line of its traceback, or
    the last line of Ray's message (e.g. why an actor died)."""
    text = ""
    path = getattr(trial, "error_file", None)
    if path and os.path.exists(path):
        with open(path, errors="replace") as fh:
            text = _ANSI.sub("", fh.read())
    block = text.rsplit("Failure # ", 1)[-1].split("\n", 1)[-1] if text else ""
    lines = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
    top = [ln for ln in lines if not ln[0].isspace()]
    if not top:
        return "the trial failed (no error message was recorded)"
    return top[-1][:2000]


class _Recorder(tune.Callback):
    """Writes each model's row as its trial ends, and drives the progress bar."""

    def __init__(
        self,
        plan: dict[str, dict[str, Any]],
        settings: dict[str, Any],
        data_dir: Path,
        schema: Any,
        sweep: str,
        bar: Any,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.data_dir = data_dir
        self.schema = schema
        self.sweep = sweep
        self.bar = bar
        self.recorded: set[str] = set()
        self.counts = {s: 0 for s in res.STATUSES}
        self.retries = 0
        self.running = 0
        self.best = math.inf
        self._last_refresh = 0.0

    def _record(self, trial: Any, metrics: dict[str, Any], host: str | None, attempt: int) -> None:
        key = trial.config["model"]["key"]
        if key in self.recorded:  # e.g. a node died after the report reached the driver
            return
        row = res.assemble_row(
            self.plan[key], self.settings, metrics, sweep=self.sweep, host=host,
            attempt=attempt, version=__version__,
        )  # fmt: skip
        try:
            res.write_result(self.data_dir, row, self.schema)
        except FileExistsError as exc:  # not expected: the plan skips recorded models
            print(f"warning: {exc}; keeping the recorded result", file=sys.stderr)
        self.recorded.add(key)
        status = str(metrics.get("status"))
        self.counts[status] = self.counts.get(status, 0) + 1
        err = metrics.get("val_top1_err")
        if status == "ok" and isinstance(err, (int, float)) and err < self.best:
            self.best = float(err)
        self.bar.update(1)
        self._postfix(force=True)

    def _postfix(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_refresh < 0.5:
            return
        self._last_refresh = now
        post = {"failed": self.counts.get("failed", 0), "running": self.running}
        if self.counts.get("diverged"):
            post["diverged"] = self.counts["diverged"]
        if self.retries:
            post["retries"] = self.retries
        post["best_err"] = f"{self.best:.4f}" if math.isfinite(self.best) else "-"
        self.bar.set_postfix(post, refresh=True)

    def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: D102
        payload = result.get("ds_metrics")
        if payload is not None:
            self._record(trial, json.loads(payload), result.get("ds_host"), trial.num_failures + 1)

    def on_trial_error(self, iteration, trials, trial, **info):  # noqa: D102
        metrics = {"status": "failed", "error": _error_text(trial)}
        self._record(trial, metrics, None, max(1, trial.num_failures))

    def on_trial_complete(self, iteration, trials, trial, **info):  # noqa: D102
        self.running = sum(1 for t in trials if t.status == "RUNNING" and t is not trial)
        self._postfix(force=True)

    def on_trial_recover(self, iteration, trials, trial, **info):  # noqa: D102
        self.retries += 1

    def on_step_end(self, iteration, trials, **info):  # noqa: D102
        now = time.monotonic()
        if now - self._last_refresh >= 0.5:
            self.running = sum(1 for t in trials if t.status == "RUNNING")
            self._postfix()


# --------------------------------------------------------------------------- Ray
def _quiet_env(verbose: bool) -> dict[str, str]:
    env = dict(_TUNE_ENV)
    if not verbose:
        env.update(_TUNE_QUIET_ENV)
    return env


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet_logging(verbose: bool) -> Iterator[None]:
    if verbose:
        yield
        return
    saved = {}
    for name in _QUIET_LOGGERS:
        lg = logging.getLogger(name)
        saved[name] = lg.level
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def default_object_store_memory() -> int:
    """Object store size (bytes) for a local Ray: 5% of memory, clamped to 256 MiB..2 GiB.

    A sweep passes only architectures and settings through the object store.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return int(min(2 * 2**30, max(256 * 2**20, total // 20)))


def _check_address(address: str) -> None:
    """Fail fast (one line) when HOST:PORT does not accept connections."""
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


@contextlib.contextmanager
def ray_connection(placement: Placement) -> Iterator[dict[str, float]]:
    """Connect to Ray for the duration of the block; yields the cluster's total resources.

    Uses the Ray already initialized in this process if there is one (a notebook, a test
    session), else joins ``placement.address``, else starts a local Ray with the dashboard
    off and quiet logs; only a Ray started here is shut down afterwards.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = False
    level = logging.INFO if placement.verbose else logging.ERROR
    if ray.is_initialized():
        if placement.address is not None:
            raise DesignSpaceError(
                "Ray is already initialized in this process; call ray.shutdown() first or "
                "leave the address unset to use it"
            )
    elif placement.address is not None:
        _check_address(placement.address)
        try:
            ray.init(
                address=placement.address, log_to_driver=placement.verbose, logging_level=level
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DesignSpaceError(
                f"cannot join the Ray cluster at {placement.address}: {first}"
            ) from None
        started = True
    else:
        ray.init(
            include_dashboard=False,
            object_store_memory=placement.object_store_memory or default_object_store_memory(),
            log_to_driver=placement.verbose,
            logging_level=level,
        )
        started = True
    try:
        yield _node_resources()
    finally:
        if started:
            ray.shutdown()


def _node_resources() -> dict[str, float]:
    """Totals and the largest single node's CPUs and GPUs (a trial cannot span nodes)."""
    total = ray.cluster_resources()
    biggest_cpu = biggest_gpu = 0.0
    for node in ray.nodes():
        if node.get("Alive"):
            r = node.get("Resources", {})
            biggest_cpu = max(biggest_cpu, r.get("CPU", 0.0))
            biggest_gpu = max(biggest_gpu, r.get("GPU", 0.0))
    return {
        "CPU": total.get("CPU", 0.0),
        "GPU": total.get("GPU", 0.0),
        "node_CPU": biggest_cpu,
        "node_GPU": biggest_gpu,
    }


@dataclass(frozen=True)
class Resources:
    """Per-trial resources and the resulting concurrency."""

    cpus_per_trial: float
    gpus_per_trial: float
    threads: int
    device: str
    concurrency: int
    cluster_cpus: float
    cluster_gpus: float
    notes: list[str] = field(default_factory=list)


def resolve_resources(
    placement: Placement, train: TrainConfig, available: Mapping[str, float]
) -> Resources:
    """Per-trial CPUs/GPUs, torch threads, device and concurrency on ``available`` resources.

    Raises DesignSpaceError when a trial asks for more than any node has.
    """
    cpus, gpus = float(available.get("CPU", 0)), float(available.get("GPU", 0))
    node_cpus = float(available.get("node_CPU", cpus))
    node_gpus = float(available.get("node_GPU", gpus))
    device = train.device
    if placement.gpus_per_trial is None:
        g = DEFAULT_GPU_SHARE if gpus > 0 and device != "cpu" else 0.0
    else:
        g = float(placement.gpus_per_trial)
    if g > 0 and device == "cpu":
        raise DesignSpaceError("--gpus-per-trial > 0 with --device cpu; drop one of them")
    if g > node_gpus:
        raise DesignSpaceError(
            f"--gpus-per-trial {g:g} asks for more GPUs than any node has ({node_gpus:g}); "
            f"use --gpus-per-trial {min(node_gpus, 1):g} or less"
            + (" (or --device cpu)" if node_gpus == 0 else "")
        )
    if device.startswith("cuda") and g == 0:
        raise DesignSpaceError(f"--device {device} needs --gpus-per-trial > 0")
    c = float(placement.cpus_per_trial)
    if c > node_cpus:
        raise DesignSpaceError(
            f"--cpus-per-trial {c:g} asks for more CPUs than any node has ({node_cpus:g})"
        )
    if g > 0:
        device = device if device.startswith("cuda") else "cuda"
    else:
        device = "cpu"
    threads = train.threads or max(1, int(c))
    limits = [int(cpus // c)]
    if g > 0:
        limits.append(int(gpus // g))
    if placement.max_concurrent is not None:
        limits.append(placement.max_concurrent)
    return Resources(c, g, threads, device, max(1, min(limits)), cpus, gpus)


# --------------------------------------------------------------------------- dry run
def estimate_compute(plan: pd.DataFrame, train: TrainConfig) -> dict[str, float]:
    """Training images, and multiply-adds (forward + backward ~ 3 x forward flops per training
    image, plus one forward pass over the validation set per epoch), summed over the plan."""
    facts = dataset_facts(train)
    n = max(1, facts.num_train)
    bs = min(train.batch_size, n)
    per_epoch = max(1, n // bs)
    steps = train.max_steps or max(1, round(train.epochs * per_epoch))
    images = steps * bs
    evals = math.ceil(steps / per_epoch) * facts.num_val
    flops = plan["flops"].astype(float)
    return {
        "models": float(len(plan)),
        "train_images_per_model": float(images),
        "train_images": float(images * len(plan)),
        "multiply_adds": float((3 * images + evals) * flops.sum()),
    }


def describe_plan(
    config: SweepConfig,
    placement: Placement = Placement(),
    out: str | Path | None = None,
    available: Mapping[str, float] | None = None,
    force_new: bool = False,
) -> str:
    """The ``--dry-run`` text: configurations per space, where the results would go and what
    is already done there, resources, concurrency and a compute estimate.

    Starts no Ray (``available`` defaults to this machine's CPUs and GPUs) and writes nothing;
    raises DesignSpaceError where :func:`run_sweep` would refuse (e.g. ``out`` holds a
    different sweep and not ``force_new``).
    """
    from designspace.regimes import format_quantity

    plan = plan_sweep(config)
    if available is None:
        available = _local_resources()
    r = resolve_resources(placement, config.train, available)
    keys = {_key(s, i, a) for s, i, a in
            zip(plan.space, plan.sample_index, plan.arch_id, strict=True)}  # fmt: skip
    done: set[str] = set()
    lines = [f"sweep plan: {len(plan)} configurations"]
    if out is not None:
        out = Path(out).resolve()
        manifest = build_manifest(config, plan, config.name or out.name)
        run_dir, old = _resolve_run_dir(out, manifest, force_new, config.name is not None)
        if old is not None:
            done = {_key(*k) for k in res.scan_results(run_dir).keys()} & keys
        state = "resuming this sweep" if old is not None else "a new sweep"
        lines.append(f"output: {run_dir} ({state})")
    for space, group in plan.groupby("space", sort=False):
        have = sum(
            _key(space, i, a) in done
            for i, a in zip(group.sample_index, group.arch_id, strict=True)
        )
        f = group["flops"]
        lines.append(
            f"  {space}: {len(group)} configurations ({have} already done), flops "
            f"{format_quantity(f.min())}..{format_quantity(f.max())} at "
            f"{int(group['resolution'].iloc[0])} px"
        )
    est = estimate_compute(plan, config.train)
    todo = len(plan) - len(done)
    lines += [
        f"resources: {r.cpus_per_trial:g} CPU and {r.gpus_per_trial:g} GPU per trial "
        f"({r.threads} torch thread(s), device {r.device}); cluster {r.cluster_cpus:g} CPUs, "
        f"{r.cluster_gpus:g} GPUs",
        f"concurrency: {r.concurrency} trials at a time",
        f"compute: {format_quantity(est['train_images_per_model'])} training images per model, "
        f"{format_quantity(est['multiply_adds'])} multiply-adds in all "
        f"({format_quantity(est['multiply_adds'] * todo / max(1, len(plan)))} still to run)",
        f"to run: {todo} of {len(plan)}",
    ]
    return "\n".join(lines)


def _local_resources() -> dict[str, float]:
    cpus = float(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                 else os.cpu_count() or 1)  # fmt: skip
    try:
        import torch

        gpus = float(torch.cuda.device_count())
    except Exception:  # noqa: BLE001 - no usable CUDA means no GPUs
        gpus = 0.0
    return {"CPU": cpus, "GPU": gpus, "node_CPU": cpus, "node_GPU": gpus}


# --------------------------------------------------------------------------- the sweep
def _schema_for(plan: pd.DataFrame) -> Any:
    from designspace.train import TrainConfig, TrainResult

    settings = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    metrics = {f.name: f.type for f in dataclasses.fields(TrainResult) if f.name != "extra"}
    return res.results_schema(int(plan["num_stages"].max()), settings, metrics)


def _plan_records(plan: pd.DataFrame) -> dict[str, dict[str, Any]]:
    records = {}
    for row in plan.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "tolist"):
                v = v.tolist()
            elif hasattr(v, "item"):
                v = v.item()
            clean[k] = v
        records[_key(clean["space"], clean["sample_index"], clean["arch_id"])] = clean
    return records


@dataclass
class SweepRun:
    """Where a sweep's results live and what happened in the last call of :func:`run_sweep`."""

    run_dir: Path
    planned: int
    done_before: int
    counts: dict[str, int]
    missing: int


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    placement: Placement = Placement(),
    *,
    force_new: bool = False,
    progress: bool = True,
    trainer: Trainer | None = None,
    info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run (or resume) a sweep into ``out`` and return all its results as a DataFrame.

    ``out`` gets ``sweep.json`` and the ``results/`` parquet data set (see
    :mod:`designspace.results`); models already recorded there are not trained again.
    ``out`` holding a different sweep is refused unless ``force_new``, which starts this
    sweep in ``out/run-K`` and leaves the existing results alone. ``progress`` shows one
    tqdm bar on stderr. ``trainer`` replaces :func:`designspace.train.train` (same
    signature; it must be importable or picklable by value on the workers). ``info``, when
    given, is filled with a :class:`SweepRun` under ``"run"``.
    """
    from tqdm import tqdm

    out = Path(out).resolve()
    plan = plan_sweep(config)
    name = config.name or out.name
    manifest = build_manifest(config, plan, name)
    run_dir, old = _resolve_run_dir(out, manifest, force_new, config.name is not None)
    if old is None and run_dir != out:
        name = f"{name}/{run_dir.name}" if config.name is None else name
        manifest["name"] = name
    elif old is not None:
        name = old["name"]
    data_dir = run_dir / res.DATA_DIRNAME

    scan = res.scan_results(run_dir) if old is not None else res.ResultsScan(None)
    done = scan.keys()
    records = _plan_records(plan)
    todo = {
        k: r
        for k, r in records.items()
        if (r["space"], int(r["sample_index"]), r["arch_id"]) not in done
    }
    done_before = len(records) - len(todo)
    counts: dict[str, int] = {}

    if todo:
        if placement.address is None:  # fail before Ray starts
            if not ray.is_initialized():
                resolve_resources(placement, config.train, _local_resources())
            check_data(config.train)
        with ray_connection(placement) as available:
            r = resolve_resources(placement, config.train, available)
            settings = dataclasses.replace(config.train, threads=r.threads, device=r.device)
            # A bad file would block its model's new file (same name): move it aside first.
            _quarantine(run_dir, scan.bad)
            if old is None:
                data_dir.mkdir(parents=True, exist_ok=True)
                res.write_manifest(run_dir, manifest)
            data_dir.mkdir(exist_ok=True)
            bar = tqdm(
                total=len(records),
                initial=done_before,
                desc="sweep",
                unit="model",
                file=sys.stderr,
                dynamic_ncols=True,
                disable=not progress,
                smoothing=0.1,
            )
            recorder = _Recorder(
                records, settings.to_dict(), data_dir, _schema_for(plan), name, bar
            )
            try:
                _fit(todo, recorder, settings, r, config.max_failures, placement, trainer)
            finally:
                bar.close()
            counts = dict(recorder.counts)
    frame = res.load_results(run_dir) if data_dir.exists() else plan.iloc[0:0]
    have = set()
    if len(frame):
        have = set(zip(frame.space, frame.sample_index, frame.arch_id, strict=True))
    missing = sum(
        (r["space"], int(r["sample_index"]), r["arch_id"]) not in have for r in records.values()
    )
    if info is not None:
        info["run"] = SweepRun(run_dir, len(records), done_before, counts, missing)
    return frame


def _quarantine(run_dir: Path, bad: list[tuple[Path, str]]) -> None:
    moved = res.quarantine(run_dir, [f for f, _ in bad])
    for (f, reason), dest in zip(bad, moved, strict=True):
        print(
            f"warning: unreadable result file {f.name} ({reason}); moved to {dest}, its model "
            f"will be trained again",
            file=sys.stderr,
        )


def _fit(
    todo: dict[str, dict[str, Any]],
    recorder: _Recorder,
    settings: TrainConfig,
    r: Resources,
    max_failures: int,
    placement: Placement,
    trainer: Trainer | None,
) -> None:
    """One Tune run over the models in ``todo``; ``recorder`` writes their rows."""
    specs = [{"key": k, "arch_json": v["arch_json"]} for k, v in todo.items()]
    trainable = tune.with_resources(
        tune.with_parameters(_run_trial, settings=settings.to_dict(), trainer=trainer),
        {"cpu": r.cpus_per_trial, "gpu": r.gpus_per_trial},
    )
    # Tune's experiment storage serves only its own restore, which is not used: a temporary.
    storage = tempfile.mkdtemp(prefix="designspace-tune-")
    try:
        with _environment(_quiet_env(placement.verbose)), _quiet_logging(placement.verbose):
            tuner = tune.Tuner(
                trainable,
                param_space={"model": tune.grid_search(specs)},
                tune_config=tune.TuneConfig(
                    reuse_actors=True,
                    max_concurrent_trials=placement.max_concurrent,
                    trial_name_creator=lambda t: t.config["model"]["key"],
                    trial_dirname_creator=lambda t: t.trial_id,
                ),
                run_config=tune.RunConfig(
                    name="sweep",
                    storage_path=storage,
                    verbose=2 if placement.verbose else 0,
                    callbacks=[recorder],
                    failure_config=tune.FailureConfig(max_failures=max_failures),
                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                    log_to_file=False,
                ),
            )
            tuner.fit()
    finally:
        shutil.rmtree(storage, ignore_errors=True)
