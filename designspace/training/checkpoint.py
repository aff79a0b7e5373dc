"""Checkpoints: a trained network's weights, architecture, settings and metrics in one file.

Only tensors, strings, numbers, lists and dicts are stored, so ``torch.load(path,
weights_only=True)`` reads a checkpoint back without unpickling code. The payload's first key
is ``format`` (:data:`FORMAT`): it sits in the first bytes of the file, where
:func:`designspace.formats.outputs.is_checkpoint` recognises a checkpoint designspace wrote
(``train --save`` replaces only those) without unpickling anything.

A checkpoint is written atomically: to a hidden temporary file beside it, flushed, then renamed
into place; the temporary file is removed on any failure, Ctrl-C or SIGTERM (which the command
line raises as an exception), so a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from designspace.core import reading
from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError
from designspace.training.result import TrainResult
from designspace.training.trainconfig import TrainConfig

__all__ = ["FORMAT", "LOAD_LIMIT", "Checkpoint", "load_checkpoint", "save_checkpoint"]

FORMAT = "designspace-checkpoint-1"
#: The largest checkpoint :func:`load_checkpoint` reads by default (bytes): RegNetY-32GF's
#: 145M parameters take about 0.6 GiB.
LOAD_LIMIT = 4 << 30


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
    file is written atomically (see the module docstring); whether ``path`` may be replaced
    is the caller's to check (``train --save``: :func:`designspace.formats.outputs.check_out_file`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,  # first: the mark designspace.formats.outputs.is_checkpoint reads
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "arch_json": arch.to_json(),
        "config": config.to_dict(),
        "result": result.to_row() if result is not None else {},
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def load_checkpoint(path: str | Path, limit: int = LOAD_LIMIT) -> Checkpoint:
    """Read a :func:`save_checkpoint` file with ``torch.load(weights_only=True)`` (no code is
    unpickled): a regular file of at most ``limit`` bytes, opened through
    :func:`designspace.core.reading.open_regular` (a FIFO or a device is refused, never read);
    DesignSpaceError for anything else or a file that is not a designspace checkpoint."""
    path = Path(path)
    if not os.path.lexists(path):
        raise DesignSpaceError(f"checkpoint {path} does not exist")
    with reading.open_regular(path, "checkpoint", limit) as fh:
        try:
            payload = torch.load(fh, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for a bad file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise DesignSpaceError(f"{path} is not a readable checkpoint ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DesignSpaceError(f"{path} is not a designspace checkpoint")
    return Checkpoint(
        arch=Architecture.from_json(payload["arch_json"]),
        config=TrainConfig.from_dict(payload["config"]),
        state_dict=payload["state_dict"],
        result=payload["result"],
    )
