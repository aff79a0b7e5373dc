"""Evaluation: top-k counts and errors of logits, and the validation error of a model.

Errors are fractions in [0, 1]; images arrive as uint8 NHWC and are normalized per batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from designspace.training.precision import autocast

__all__ = ["evaluate", "topk_correct", "topk_errors"]


def topk_correct(
    logits: torch.Tensor, targets: torch.Tensor, ks: tuple[int, ...] = (1,)
) -> torch.Tensor:
    """Number of samples whose target is among the ``k`` highest logits, for each k (a tensor).

    Ties are broken by :func:`torch.topk` order. ``k`` larger than the number of classes counts
    every sample as correct.
    """
    kmax = min(max(ks), logits.shape[1])
    top = logits.topk(kmax, dim=1).indices
    hit = top == targets[:, None]
    return torch.stack([hit[:, : min(k, kmax)].any(dim=1).sum() for k in ks])


def topk_errors(
    logits: torch.Tensor, targets: torch.Tensor, ks: tuple[int, ...] = (1, 5)
) -> list[float]:
    """Top-k error for each k: fraction in [0, 1] of samples whose target is not in the top k."""
    n = targets.shape[0]
    correct = topk_correct(logits, targets, ks)
    return [1.0 - float(c) / n for c in correct]


def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    normalize: Callable[[torch.Tensor], torch.Tensor],
    num_classes: int,
    batch_size: int = 500,
    bf16: bool = False,
) -> tuple[float, float | None]:
    """(top-1 error, top-5 error or None when <= 5 classes) of ``model`` in eval mode, no grad.

    ``images``: uint8 NHWC; ``normalize`` maps a uint8 NHWC batch to the model's input. The
    model's training mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    ks = (1, 5) if num_classes > 5 else (1,)
    correct = torch.zeros(len(ks), dtype=torch.int64, device=images.device)
    with torch.inference_mode(), autocast(images.device, bf16):
        for i in range(0, images.shape[0], batch_size):
            logits = model(normalize(images[i : i + batch_size]))
            correct += topk_correct(logits.float(), labels[i : i + batch_size], ks)
    model.train(was_training)
    errs = [1.0 - c / images.shape[0] for c in correct.tolist()]
    return errs[0], (errs[1] if len(errs) > 1 else None)
