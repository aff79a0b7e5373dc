"""Device and precision: which device, bf16 or fp32, which layout, how many threads.

On a GPU the model runs channels_last under bf16 autocast. On a CPU the defaults are fp32 (bf16
autocast measured about 10x slower on an AVX2 CPU without bf16 units) and channels_last
(measured about 1.6x faster than NCHW for RegNetX32 at 28 px: oneDNN's convolutions and batch
norm avoid layout reorders). Also the device's name and peak memory, as a result reports them.
"""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Iterator

import torch

from designspace.errors import DesignSpaceError

__all__ = [
    "autocast",
    "cudnn_benchmark",
    "device_name",
    "peak_memory_mb",
    "resolve_channels_last",
    "resolve_device",
    "sync",
    "threads",
    "use_bf16",
]


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available else cpu; a CUDA device that is absent is bad input."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DesignSpaceError(f"device must be auto, cpu, cuda or cuda:N, got {name!r}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DesignSpaceError(
                f"device {name!r} requested but CUDA is not available; use --device cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DesignSpaceError(
                f"device {name!r} does not exist ({torch.cuda.device_count()} CUDA device(s))"
            )
    return device


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether to train under bf16 autocast: ``bf16``, or ``auto`` on a GPU (``fp32``: no)."""
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def resolve_channels_last(setting: bool | None) -> bool:
    """The memory layout: channels_last unless the setting says False (None means True)."""
    return setting if setting is not None else True


def autocast(
    device: torch.device, bf16: bool, cache: bool = True
) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``bf16``, else a no-op context.

    ``cache``: autocast's weight-cast cache; CUDA graph capture needs it off.
    """
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=cache)


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``n`` inside the block (None: left as it is)."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def cudnn_benchmark(on: bool) -> Iterator[None]:
    """cuDNN autotuning for the run's fixed shapes, restored afterwards."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = on or before
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA), so a wall-clock time covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    """``cpu``, or ``cuda:N (model name)`` for a GPU."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def peak_memory_mb(device: torch.device) -> float:
    """Peak CUDA memory allocated on a GPU, else the process's peak resident set size (MiB)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
