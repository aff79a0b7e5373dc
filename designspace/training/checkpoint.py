"""Checkpoints: a trained network's weights, architecture, settings and metrics in one file.

Only tensors, strings, numbers, lists and dicts are stored, so ``torch.load(path,
weights_only=True)`` reads a checkpoint back without unpickling code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError
from designspace.training.result import TrainResult
from designspace.training.trainconfig import TrainConfig

__all__ = ["FORMAT", "Checkpoint", "load_checkpoint", "save_checkpoint"]

FORMAT = "designspace-checkpoint-1"


@dataclass
class Checkpoint:
    """A saved run: weights, architecture, settings and metrics."""

    arch: Architecture
    config: TrainConfig
    state_dict: dict[str, torch.Tensor]
    result: dict[str, Any]

    def model(self) -> nn.Module:
        """The network with the saved weights, in eval mode, on the CPU."""
        from designspace.training.models import build_model

        net = build_model(self.arch)
        net.load_state_dict(self.state_dict)
        return net.eval()


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    arch: Architecture,
    config: TrainConfig,
    result: TrainResult | None = None,
) -> Path:
    """Write weights (CPU tensors), ``arch.to_json()``, the config and the metrics to ``path``.

    Only tensors, strings, numbers, lists and dicts are stored, so
    ``torch.load(path, weights_only=True)`` reads it back (see :func:`load_checkpoint`). The
    file is written next to ``path`` and moved into place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "arch_json": arch.to_json(),
        "config": config.to_dict(),
        "result": result.to_row() if result is not None else {},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a :func:`save_checkpoint` file with ``torch.load(weights_only=True)``."""
    path = Path(path)
    if not path.is_file():
        raise DesignSpaceError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file
        raise DesignSpaceError(f"{path} is not a readable checkpoint ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DesignSpaceError(f"{path} is not a designspace checkpoint")
    return Checkpoint(
        arch=Architecture.from_json(payload["arch_json"]),
        config=TrainConfig.from_dict(payload["config"]),
        state_dict=payload["state_dict"],
        result=payload["result"],
    )
