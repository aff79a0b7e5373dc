"""The short-schedule trainer: one architecture, one data set, one :class:`TrainResult`.

The public entry point; the pieces live one concept per module and are re-exported here:

- :mod:`~designspace.training.schedule`: SGD with momentum 0.9 (Nesterov), learning rate given
  per 128 images and scaled linearly with the batch size, a half-period cosine decay evaluated
  at every step, an optional linear warm-up; step counts (``epochs``, fractional allowed, or
  ``max_steps``; the last partial batch of an epoch is dropped);
- :mod:`~designspace.training.optim`: the SGD update (weight decay on every parameter, BN and
  biases included, as the reference code does by default);
- :mod:`~designspace.training.precision`: device, bf16 or fp32, memory layout, threads;
- :mod:`~designspace.training.batches`: uint8 NHWC batches gathered, augmented and normalized
  on the device;
- :mod:`~designspace.training.step`: one step (optional label smoothing), a CUDA graph on GPU;
- :mod:`~designspace.training.evaluate`: top-k errors; :mod:`~designspace.training.checkpoint`;
- :mod:`~designspace.training.loop`: the epochs; :mod:`~designspace.training.result`:
  :class:`TrainResult`.

Errors are fractions in [0, 1]. A non-finite training loss ends the run with status
``"diverged"``; CUDA running out of memory gives status ``"failed"``; bad settings raise
:class:`~designspace.errors.DesignSpaceError`; any other exception propagates to the caller.
Same seed, same data, same device and thread count: the same numbers, bit for bit (CPU).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError
from designspace.training.batches import Normalizer, augment_batch
from designspace.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from designspace.training.data import InMemoryData, load_data
from designspace.training.evaluate import evaluate, topk_correct, topk_errors
from designspace.training.loop import run_training
from designspace.training.optim import SGD
from designspace.training.precision import (
    cudnn_benchmark,
    device_name,
    peak_memory_mb,
    resolve_channels_last,
    resolve_device,
    threads,
    use_bf16,
)
from designspace.training.result import TrainResult, failed_result
from designspace.training.schedule import lr_at_step
from designspace.training.trainconfig import (
    PRECISIONS,
    TrainConfig,
    check_resolution,
    min_resolution,
)

__all__ = [
    "PRECISIONS",
    "SGD",
    "Checkpoint",
    "TrainConfig",
    "TrainResult",
    "augment_batch",
    "check_resolution",
    "evaluate",
    "load_checkpoint",
    "lr_at_step",
    "min_resolution",
    "resolve_device",
    "save_checkpoint",
    "topk_correct",
    "topk_errors",
    "train",
]

_Normalizer = Normalizer  # the name this module gave the class before the split


def train(
    arch: Architecture,
    config: TrainConfig,
    data: InMemoryData | None = None,
    progress: bool = False,
    save: str | Path | None = None,
) -> TrainResult:
    """Train ``arch`` on ``data`` (loaded from ``config`` when None) and evaluate each epoch.

    The network's input channels and classes are taken from the data set
    (``arch.with_io``). ``progress`` shows a tqdm bar per epoch (when stderr is a terminal) and
    one line per epoch on stderr. ``save`` writes a checkpoint (:func:`save_checkpoint`) at
    the end of an "ok" run. Bad settings raise
    DesignSpaceError; a non-finite loss returns status "diverged"; CUDA out-of-memory returns
    status "failed".
    """
    start = time.perf_counter()
    config.validate()
    device = resolve_device(config.device)
    if data is None:
        # Fail on a too-small resolution before spending time on loading.
        check_resolution(arch, config.data.resolution)
        data = load_data(config.data, device=device)
    arch = arch.with_io(in_channels=data.in_channels, num_classes=data.num_classes)
    check_resolution(arch, data.resolution)
    if data.num_train < 1 or data.num_val < 1:
        raise DesignSpaceError("the data set has no training or no validation images")
    bf16 = use_bf16(config.precision, device)
    channels_last = resolve_channels_last(config.channels_last)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with threads(config.threads), cudnn_benchmark(device.type == "cuda"):
            return run_training(
                arch, config, data, device, bf16, channels_last, progress, save, start
            )
    except torch.OutOfMemoryError as exc:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        return failed_result(
            device_name(device),
            peak_memory_mb(device),
            f"out of memory: {str(exc).splitlines()[0]}",
            time.perf_counter() - start,
            resolution=data.resolution,
            precision="bf16" if bf16 else "fp32",
            channels_last=channels_last,
        )
