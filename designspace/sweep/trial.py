"""One trial, as every executor runs it in a worker process: train one model, return its row.

The data set is loaded once per worker process and reused by every later trial of that
process (a cache keyed by the data settings, never sent between processes). Bad settings
(:class:`DesignSpaceError`) and CUDA out-of-memory become ``failed`` metrics at once (a retry
would fail the same way); any other exception propagates, so the executor can retry it.
"""

from __future__ import annotations

import socket
from typing import Any

from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError

# A cache, not configuration: one data set per worker process, keyed by the data settings.
_DATA_CACHE: dict[tuple, Any] = {}


def data_for(config: Any) -> Any:
    """The (cached) in-memory data set of training settings ``config`` on its device."""
    from designspace.training.data import load_data
    from designspace.training.train import resolve_device

    device = resolve_device(config.device)
    key = (config.data, str(device))
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = load_data(config.data, device=device)
    return _DATA_CACHE[key]


def run_trial(arch_json: str, settings: dict[str, Any], trainer: Any = None) -> dict[str, Any]:
    """Train the architecture ``arch_json`` with training settings ``settings`` (a
    ``TrainConfig.to_dict()``) and return the result row (``TrainResult.to_row()``), or
    ``{"status": "failed", "error": ...}`` for bad settings and out-of-memory."""
    import torch

    from designspace.training.train import TrainConfig, train

    config = TrainConfig.from_dict(settings)
    # Outside the try: a data set missing on one node is worth a retry on another.
    data = data_for(config)
    try:
        arch = Architecture.from_json(arch_json)
        return (trainer or train)(arch, config, data=data).to_row()
    except DesignSpaceError as exc:  # bad settings: the same on every retry
        return {"status": "failed", "error": str(exc)}
    except torch.OutOfMemoryError as exc:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return {"status": "failed", "error": f"out of memory: {str(exc).splitlines()[0]}"}


def hostname() -> str:
    """This machine's name (the ``host`` column)."""
    return socket.gethostname()
