"""The training loop: epochs of seeded batches, an evaluation after each, one TrainResult.

Each epoch is one seeded permutation of the training images in batches of the schedule's size
(see :mod:`~designspace.training.schedule`); the loss is checked for finiteness every step on a
CPU, every ``CHECK_EVERY_CUDA`` steps on a GPU (each check synchronizes). A non-finite loss ends
the run with status "diverged". Same seed, same data, same device and thread count: the same
numbers, bit for bit (CPU).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from designspace.core.arch import Architecture
from designspace.training.batches import Normalizer, augment_batch
from designspace.training.checkpoint import save_checkpoint
from designspace.training.data import InMemoryData
from designspace.training.evaluate import evaluate
from designspace.training.optim import SGD
from designspace.training.precision import device_name, peak_memory_mb, sync
from designspace.training.result import TrainResult
from designspace.training.schedule import Schedule
from designspace.training.step import Stepper
from designspace.training.trainconfig import TrainConfig

__all__ = ["CHECK_EVERY_CUDA", "run_training"]

CHECK_EVERY_CUDA = 25  # steps between loss finiteness checks on a GPU (each one syncs)
EVAL_BATCH = 500  # images per evaluation batch


@dataclass(frozen=True)
class _Setup:
    """What stays fixed during a run: the model, its step, the data on the device."""

    model: nn.Module
    stepper: Stepper
    normalize: Normalizer
    train_x: torch.Tensor  # uint8 NHWC
    train_y: torch.Tensor
    val_x: torch.Tensor  # uint8 NHWC
    val_y: torch.Tensor
    num_classes: int
    schedule: Schedule
    generator: torch.Generator
    augment: bool
    pad: int
    device: torch.device
    bf16: bool
    progress: bool


@dataclass
class _History:
    """What a run has done so far (per-epoch lists, times in seconds)."""

    epoch_loss: list[float] = field(default_factory=list)
    epoch_top1: list[float] = field(default_factory=list)
    epoch_top5: list[float] = field(default_factory=list)
    train_time: float = 0.0
    eval_time: float = 0.0
    step: int = 0
    status: str = "ok"
    error: str | None = None


def run_training(
    arch: Architecture,
    config: TrainConfig,
    data: InMemoryData,
    device: torch.device,
    bf16: bool,
    channels_last: bool,
    progress: bool = False,
    save: str | Path | None = None,
    start: float | None = None,
) -> TrainResult:
    """Train ``arch`` (inputs and classes already those of ``data``) on ``device``.

    ``bf16``: autocast; ``channels_last``: the model's memory layout; ``progress``: a bar per
    epoch (on a terminal) and one line per epoch on stderr; ``save``: checkpoint path for an
    "ok" run; ``start``: the caller's ``time.perf_counter()`` at its start (wall time counts
    from it; now when None). Raises what torch raises (out of memory included).
    """
    start = time.perf_counter() if start is None else start
    setup = _setup(arch, config, data, device, bf16, channels_last, progress)
    hist = _History()
    for epoch in range(setup.schedule.num_epochs):
        _train_epoch(setup, hist, epoch)
        if hist.status != "ok":
            break
        _evaluate_epoch(setup, hist, epoch)
    result = _result(setup, hist, data.resolution, channels_last, start)
    if save is not None and result.status == "ok":
        save_checkpoint(save, setup.model, arch, config, result)
    return result


def _setup(
    arch: Architecture,
    config: TrainConfig,
    data: InMemoryData,
    device: torch.device,
    bf16: bool,
    channels_last: bool,
    progress: bool,
) -> _Setup:
    from designspace.training.models import build_model

    # Model init uses the global RNG: seed it without disturbing the caller's RNG state.
    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(config.seed)
        model = build_model(arch, zero_init_last_bn=config.zero_init_last_bn)
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()

    train_x = data.train_x.to(device).permute(0, 2, 3, 1).contiguous()  # NHWC uint8
    train_y = data.train_y.to(device)
    val_x = data.val_x.to(device).permute(0, 2, 3, 1).contiguous()
    val_y = data.val_y.to(device)
    normalize = Normalizer(data, device, channels_last)
    schedule = Schedule.of(config, train_x.shape[0])
    optimizer = SGD(
        list(model.parameters()),
        momentum=config.momentum,
        nesterov=config.nesterov,
        weight_decay=config.weight_decay,
    )
    stepper = Stepper(
        model,
        optimizer,
        config.label_smoothing,
        device,
        bf16,
        graph=config.cuda_graph is not False,
    )
    return _Setup(
        model=model,
        stepper=stepper,
        normalize=normalize,
        train_x=train_x,
        train_y=train_y,
        val_x=val_x,
        val_y=val_y,
        num_classes=data.num_classes,
        schedule=schedule,
        generator=torch.Generator(device=device).manual_seed(config.seed),
        augment=config.augment if config.augment is not None else data.augment_default,
        pad=max(1, data.resolution // 8),
        device=device,
        bf16=bf16,
        progress=progress,
    )


def _train_epoch(setup: _Setup, hist: _History, epoch: int) -> None:
    """The optimizer steps of one epoch; appends its mean loss or sets status "diverged"."""
    sched, device, gen = setup.schedule, setup.device, setup.generator
    bs = sched.batch_size
    steps_now = min(sched.steps_per_epoch, sched.total_steps - hist.step)
    check_every = 1 if device.type == "cpu" else CHECK_EVERY_CUDA
    perm = torch.randperm(setup.train_x.shape[0], generator=gen, device=device)
    loss_sum = torch.zeros((), dtype=torch.float32, device=device)
    bar = _bar(setup.progress, steps_now, epoch, sched.num_epochs)
    sync(device)
    t0 = time.perf_counter()
    for i in range(steps_now):
        idx = perm[i * bs : (i + 1) * bs]
        xb = setup.train_x[idx]
        if setup.augment:
            xb = augment_batch(xb, gen, setup.pad)
        loss = setup.stepper(setup.normalize(xb), setup.train_y[idx], sched.lr(hist.step))
        loss_sum += loss.detach().float()
        hist.step += 1
        if (i + 1) % check_every == 0 or i + 1 == steps_now:
            if not math.isfinite(float(loss_sum)):
                hist.status = "diverged"
                hist.error = (
                    f"training loss became non-finite at step {hist.step} (epoch {epoch + 1})"
                )
                break
        if bar is not None:
            bar.update(1)
            if (i + 1) % 20 == 0 or i + 1 == steps_now:
                bar.set_postfix(loss=f"{float(loss_sum) / (i + 1):.4f}", refresh=False)
    sync(device)
    hist.train_time += time.perf_counter() - t0
    if bar is not None:
        bar.close()
    if hist.status == "ok":
        hist.epoch_loss.append(float(loss_sum) / steps_now)


def _evaluate_epoch(setup: _Setup, hist: _History, epoch: int) -> None:
    """Validation errors after an epoch, appended to ``hist`` (and printed with progress)."""
    t1 = time.perf_counter()
    top1, top5 = evaluate(
        setup.model,
        setup.val_x,
        setup.val_y,
        setup.normalize,
        setup.num_classes,
        EVAL_BATCH,
        setup.bf16,
    )
    sync(setup.device)
    hist.eval_time += time.perf_counter() - t1
    hist.epoch_top1.append(top1)
    if top5 is not None:
        hist.epoch_top5.append(top5)
    if setup.progress:
        top5_text = f"  top-5 err {top5:.4f}" if top5 is not None else ""
        print(
            f"epoch {epoch + 1}/{setup.schedule.num_epochs}: train loss "
            f"{hist.epoch_loss[-1]:.4f}  val top-1 err {top1:.4f}{top5_text}",
            file=sys.stderr,
        )


def _result(
    setup: _Setup, hist: _History, resolution: int, channels_last: bool, start: float
) -> TrainResult:
    nan = float("nan")
    ok = hist.status == "ok"
    bs, step = setup.schedule.batch_size, hist.step
    return TrainResult(
        status=hist.status,
        val_top1_err=hist.epoch_top1[-1] if ok else nan,
        best_val_top1_err=min(hist.epoch_top1) if hist.epoch_top1 else nan,
        val_top5_err=(hist.epoch_top5[-1] if ok and hist.epoch_top5 else None),
        train_loss=hist.epoch_loss[-1] if ok else nan,
        epoch_train_loss=hist.epoch_loss,
        epoch_val_top1_err=hist.epoch_top1,
        epoch_val_top5_err=hist.epoch_top5,
        train_time_s=hist.train_time,
        images_per_s=step * bs / hist.train_time if hist.train_time > 0 else 0.0,
        peak_memory_mb=peak_memory_mb(setup.device),
        device=device_name(setup.device),
        steps=step,
        epochs_done=step / setup.schedule.steps_per_epoch,
        error=hist.error,
        eval_time_s=hist.eval_time,
        wall_time_s=time.perf_counter() - start,
        train_images=step * bs,
        resolution=resolution,
        precision="bf16" if setup.bf16 else "fp32",
        channels_last=channels_last,
    )


def _bar(progress: bool, total: int, epoch: int, num_epochs: int) -> Any:
    if not progress or not sys.stderr.isatty():  # the per-epoch lines suffice in logs
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"epoch {epoch + 1}/{num_epochs}",
        unit="step",
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
