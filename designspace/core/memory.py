"""Memory a training setting implies, estimated before anything is allocated (pure: no torch).

``--batch-size`` decides most of what one step of the short-schedule trainer holds, so the
command line estimates it while it checks its arguments and refuses, in one line, a setting
that clearly cannot fit (the estimate is larger than the memory available now), naming the
estimate, the limit and the largest batch that would fit. A setting that fits is never
refused for being close: the estimate is a planning number, not a guarantee.

The estimate of one training step, in bytes (:func:`training_memory`):

* **activations**: ``(acts + C * R**2) * batch * 4 * ACTIVATION_FACTOR``. ``acts`` is the
  output elements of every conv and linear layer for one image
  (:func:`designspace.core.complexity.complexity`), ``C * R**2`` the float input; 4 bytes a
  float32 element; :data:`ACTIVATION_FACTOR` counts what the backward pass keeps for each
  such output besides it (the batch norm's output and its saved statistics, the ReLU's
  output, the residual sum) and the gradients alive while it runs. ``batch`` is the batch
  the trainer really uses: ``--batch-size``, at most the training images;
* **weights**: ``params * 4 * PARAM_COPIES`` (weights, gradients, the momentum buffer and
  one transient copy in the optimizer step);
* **data**: the data set held in memory as uint8 images (:func:`data_set_bytes`);
* **runtime**: :data:`RUNTIME_BYTES`, the interpreter with torch and the trainer loaded
  (measured: 513 MiB peak RSS on Linux, x86-64, torch 2.14 on the CPU).

Measured (CPU, fp32, ``designspace train RegNetX32 --max-steps 2``; peak RSS of the process):
batch 1024 at 28 px 1.19 GiB (estimate 1.25 GiB), batch 512 at 64 px 2.06 GiB (estimate
2.16 GiB); one step alone at batch 256 adds 184 MiB, the estimate's activations and weights
are 176 MiB (``tests/test_memory_estimate.py``). ``ACTIVATION_FACTOR`` is 3 from these runs:
the marginal bytes per image were 2.7 and 3.0 times ``(acts + C * R**2) * 4``.

A sweep checks before its models are sampled, so it checks a lower bound: the stem's output
alone (:func:`stem_memory`), which every model of the sweep has.

On a GPU the step's tensors live in the GPU's memory, which is not known before torch
starts; the host's memory is the limit checked there too (a GPU rarely has more than its
host, and a GPU too small for an accepted setting is reported by torch as out of memory).
bf16 autocast halves some activations; the estimate stays that of float32.

:func:`available_memory` is the memory available now: the kernel's ``MemAvailable`` (psutil
where installed, else ``/proc/meminfo``), at most a cgroup (v2) memory limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from designspace.core import reading
from designspace.core.arch import Architecture
from designspace.core.complexity import complexity, stem_cost
from designspace.core.datasets import DataConfig, DatasetFacts, dataset_facts
from designspace.core.regimes import Regime
from designspace.errors import DesignSpaceError

__all__ = [
    "ACTIVATION_FACTOR",
    "BYTES_PER_ELEMENT",
    "PARAM_COPIES",
    "RUNTIME_BYTES",
    "MemoryEstimate",
    "available_memory",
    "check_fits",
    "check_training_memory",
    "data_set_bytes",
    "estimate_step",
    "format_bytes",
    "stem_memory",
    "training_memory",
]

#: Bytes of one float32 element.
BYTES_PER_ELEMENT = 4
#: Elements held per conv/linear output element (and per input element) through one training
#: step: the output itself, the batch norm's output, the ReLU's output, and the gradients of
#: the backward pass (see the module docstring).
ACTIVATION_FACTOR = 3
#: Copies of every parameter a step holds: weights, gradients, momentum, one transient.
PARAM_COPIES = 4
#: The process before any data or model: Python, numpy, torch and its kernels' workspaces.
RUNTIME_BYTES = 512 << 20


def format_bytes(n: float) -> str:
    """``n`` bytes in words for a message, to 3 significant digits: ``512 MiB``, ``2.31 TiB``."""
    for unit, scale in (("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n / (1 << 10):.3g} KiB"


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one training step holds, by part (see the module docstring). ``batch``: the
    images per step the estimate is for; ``per_image``: activation bytes of one image, so that
    another batch size costs ``per_image`` each."""

    batch: int
    per_image: int
    activations: int
    weights: int
    data: int
    runtime: int = RUNTIME_BYTES

    @property
    def fixed(self) -> int:
        """Bytes that do not grow with the batch: weights, data, runtime."""
        return self.weights + self.data + self.runtime

    @property
    def total(self) -> int:
        """All parts together, bytes."""
        return self.activations + self.fixed

    def largest_batch(self, available: int) -> int:
        """The largest batch whose step fits in ``available`` bytes (0: none does)."""
        room = available - self.fixed
        return max(0, room // self.per_image) if self.per_image > 0 else 0

    def describe(self) -> str:
        """The estimate by part in words: ``2.3 TiB (activations ..., data set ..., ...)``;
        parts of 0 bytes are left out."""
        parts = [("activations", self.activations), ("data set", self.data),
                 ("weights", self.weights), ("runtime", self.runtime)]  # fmt: skip
        shown = ", ".join(f"{name} {format_bytes(n)}" for name, n in parts if n > 0)
        return f"{format_bytes(self.total)} ({shown})"


def estimate_step(
    acts_per_image: int, input_elements: int, params: int, batch: int, data_bytes: int
) -> MemoryEstimate:
    """The estimate of one step from its counts: ``acts_per_image`` (conv and linear output
    elements of one image), ``input_elements`` (``C * R**2``), ``params``, ``batch`` (images
    per step, the one the trainer uses) and ``data_bytes`` (:func:`data_set_bytes`)."""
    per_image = (acts_per_image + input_elements) * BYTES_PER_ELEMENT * ACTIVATION_FACTOR
    return MemoryEstimate(
        batch=batch,
        per_image=per_image,
        activations=per_image * batch,
        weights=params * BYTES_PER_ELEMENT * PARAM_COPIES,
        data=data_bytes,
    )


def data_set_bytes(data: DataConfig, facts: DatasetFacts) -> int:
    """Bytes of the data set in memory (uint8 images, int64 labels), at its peak while it
    loads: the subsets at the training side (``C * R**2`` each); a published data set (not
    counted from a folder) is decoded whole at its native side first (held until the subsets
    are taken), and a resized subset is held at its native side too while it is resized."""
    spec = data.spec
    images = facts.train_images + facts.val_images
    side = facts.resolution
    total = images * (facts.channels * side * side + 8)
    native = spec.resolution
    if not spec.counted:
        whole = (spec.train_size or 0) + (spec.val_size or 0)
        total += whole * (spec.channels * native * native + 8)
    elif side != native:
        total += images * facts.channels * native * native
    return total


def training_memory(
    arch: Architecture, data: DataConfig, facts: DatasetFacts, batch_size: int
) -> MemoryEstimate:
    """The estimate of one training step of ``arch`` (its inputs and classes those of the data
    set) on ``data`` (``facts``: :func:`designspace.core.datasets.dataset_facts`) with
    ``batch_size`` images per step (the trainer uses at most the training images)."""
    counts = complexity(arch, facts.resolution)
    batch = max(1, min(batch_size, facts.train_images))
    return estimate_step(
        counts.acts,
        facts.channels * facts.resolution**2,
        counts.params,
        batch,
        data_set_bytes(data, facts),
    )


def stem_memory(
    data: DataConfig, facts: DatasetFacts, batch_size: int, stem: str, stem_width: int
) -> MemoryEstimate:
    """A lower bound of one training step of any network with this stem (``stem``, ``stem_width``
    output channels) on ``data``: the estimate of :func:`training_memory` with the stem's
    output as the only activations and no weights. What a sweep checks before its models are
    sampled: a batch this bound refuses fits no model of the sweep."""
    counts = stem_cost(facts.resolution, facts.channels, stem_width, stem)[0]
    batch = max(1, min(batch_size, facts.train_images))
    return estimate_step(
        int(counts[2]), facts.channels * facts.resolution**2, 0, batch, data_set_bytes(data, facts)
    )


def check_fits(
    estimate: MemoryEstimate,
    available: int | None,
    *,
    flag: str = "--batch-size",
    what: str = "one training step",
    asked: int | None = None,
    lower_bound: bool = False,
) -> None:
    """DesignSpaceError (one line: the estimate, the limit, what to do) when ``estimate``
    needs more than ``available`` bytes; nothing when it fits or ``available`` is None
    (unknown). ``what`` names the step; ``asked``: the batch size the user gave (default: the
    estimate's batch; the trainer uses at most the training images); ``lower_bound``: the
    estimate is one (:func:`stem_memory`), the message says "at least"."""
    if available is None or estimate.total <= available:
        return
    asked = estimate.batch if asked is None else asked
    images = f"{estimate.batch:,} images" + ("" if asked == estimate.batch else " (all there are)")
    largest = estimate.largest_batch(available)
    if largest >= 1:
        todo = f"use {flag} {largest:,} or fewer".replace(",", "")
    else:
        todo = "train on fewer images (--subset, --val-subset) or at a smaller --resize"
    raise DesignSpaceError(
        f"{flag} {asked}: {what} on {images} needs {'at least' if lower_bound else 'about'} "
        f"{estimate.describe()}, more than the {format_bytes(available)} of memory available; "
        f"{todo}"
    )


def check_training_memory(
    data: DataConfig,
    batch_size: int,
    *,
    arch: Architecture | None = None,
    regime: Regime | None = None,
    flag: str = "--batch-size",
) -> MemoryEstimate:
    """Refuse (:func:`check_fits`, against :func:`available_memory`) a ``batch_size`` whose
    training step on ``data`` cannot fit; returns the estimate. With ``arch`` (its inputs and
    classes set to the data set's here) the step of that network (:func:`training_memory`);
    else a lower bound for any network sampled in ``regime`` (:func:`stem_memory`, its stem)
    or, without a regime, the input batch alone. ``flag`` names the setting in the message."""
    facts = dataset_facts(data)
    if arch is not None:
        target = arch.with_io(in_channels=facts.channels, num_classes=facts.classes)
        estimate = training_memory(target, data, facts, batch_size)
        what = "one training step"
    elif regime is not None:
        estimate = stem_memory(data, facts, batch_size, regime.stem, regime.stem_width)
        what = "a training step of any model (its stem alone)"
    else:
        estimate = estimate_step(0, facts.channels * facts.resolution**2, 0,
                                 max(1, min(batch_size, facts.train_images)),
                                 data_set_bytes(data, facts))  # fmt: skip
        what = "a training step of any model (its input alone)"
    check_fits(estimate, available_memory(), flag=flag, what=what, asked=batch_size,
               lower_bound=arch is None)  # fmt: skip
    return estimate


def available_memory() -> int | None:
    """Bytes of memory available to this process now (see the module docstring); None when
    it cannot be told."""
    available = _mem_available()
    limit = _cgroup_limit()
    if available is None:
        return limit
    return available if limit is None else min(available, limit)


def _mem_available() -> int | None:
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return int(psutil.virtual_memory().available)
        except (OSError, RuntimeError, AttributeError):
            pass
    try:
        text = reading.read_text("/proc/meminfo", "memory information file", 1 << 20)
    except DesignSpaceError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "MemAvailable":
            parts = value.split()
            if parts and parts[0].isdigit():
                return int(parts[0]) * 1024  # kB
    return None


def _cgroup_limit() -> int | None:
    """The cgroup (v2) memory limit of this process (``memory.max``), bytes; None without
    one. Not minus ``memory.current``, which counts reclaimable page cache too."""
    try:
        own = reading.read_text("/proc/self/cgroup", "cgroup file", 1 << 16)
    except DesignSpaceError:
        return None
    for line in own.splitlines():
        if line.startswith("0::"):
            folder = Path("/sys/fs/cgroup") / line[3:].strip().lstrip("/")
            break
    else:
        return None
    try:
        limit = reading.read_text(folder / "memory.max", "cgroup file", 1 << 10).strip()
    except DesignSpaceError:
        return None
    return int(limit) if limit.isdigit() else None  # "max": no limit
