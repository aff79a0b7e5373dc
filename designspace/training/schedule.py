"""The learning-rate schedule and the step counts of a run (pure: no torch).

The papers' reference recipe: the learning rate is given per 128 images and scaled linearly
with the batch size; a half-period cosine decay evaluated at every optimizer step; an optional
linear warm-up. A run lasts ``epochs`` (fractional allowed) or ``max_steps`` steps; an epoch is
``n // batch`` full batches (the last partial batch is dropped; a set smaller than one batch is
one batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from designspace.training.trainconfig import TrainConfig

__all__ = ["Schedule", "lr_at_step"]


def lr_at_step(step: int, total_steps: int, base_lr: float, warmup_steps: int = 0) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of ``total_steps``.

    Half-period cosine from ``base_lr`` at step 0 towards 0 at ``total_steps``, times a linear
    warm-up factor ``(step + 1) / warmup_steps`` during the first ``warmup_steps`` steps.
    """
    lr = 0.5 * base_lr * (1.0 + math.cos(math.pi * step / total_steps))
    if warmup_steps > 0 and step < warmup_steps:
        lr *= (step + 1) / warmup_steps
    return lr


@dataclass(frozen=True)
class Schedule:
    """Step counts and learning rates of one run over ``n`` training images.

    ``batch_size``: images per step (the configured size, at most ``n``); ``base_lr``: the
    peak learning rate, ``lr * configured batch size / 128``; ``num_epochs``: epochs begun
    (the last one may be partial).
    """

    batch_size: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    base_lr: float

    @classmethod
    def of(cls, config: TrainConfig, n: int) -> Schedule:
        """The schedule ``config`` gives a training set of ``n`` >= 1 images."""
        bs = min(config.batch_size, n)
        steps_per_epoch = max(1, n // bs)
        if config.max_steps is not None:
            total_steps = config.max_steps
        else:
            total_steps = max(1, round(config.epochs * steps_per_epoch))
        return cls(
            batch_size=bs,
            steps_per_epoch=steps_per_epoch,
            total_steps=total_steps,
            warmup_steps=round(config.warmup_epochs * steps_per_epoch),
            base_lr=config.lr * config.batch_size / 128.0,
        )

    @property
    def num_epochs(self) -> int:
        """Epochs the run begins: ``ceil(total_steps / steps_per_epoch)``."""
        return math.ceil(self.total_steps / self.steps_per_epoch)

    def lr(self, step: int) -> float:
        """Learning rate of optimizer step ``step`` (0-based), see :func:`lr_at_step`."""
        return lr_at_step(step, self.total_steps, self.base_lr, self.warmup_steps)
