"""Per-trial resources and concurrency, from a placement and the resources available.

Pure: counts this machine's CPUs and NVIDIA GPUs without importing torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from designspace.errors import DesignSpaceError
from designspace.sweep.config import DEFAULT_GPU_SHARE, Placement

if TYPE_CHECKING:
    from designspace.training.train import TrainConfig


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
    """Per-trial CPUs/GPUs, torch threads, device and concurrency on ``available`` resources
    (``CPU``, ``GPU`` totals; ``node_CPU``, ``node_GPU`` of the largest node).

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


def gpu_count() -> int:
    """NVIDIA GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` when set, else the cards
    the driver lists under ``/proc/driver/nvidia/gpus`` (0 without a driver)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
        valid = []
        for v in ids:
            if v.startswith("-"):  # "-1" hides every later device
                break
            valid.append(v)
        return len(valid)
    root = Path("/proc/driver/nvidia/gpus")
    try:
        return sum(1 for p in root.iterdir() if p.is_dir())
    except OSError:
        return 0


def local_resources() -> dict[str, float]:
    """This machine's usable CPUs (affinity mask) and GPUs, in the form of
    :func:`resolve_resources`'s ``available``."""
    if hasattr(os, "sched_getaffinity"):
        cpus = float(len(os.sched_getaffinity(0)))
    else:
        cpus = float(os.cpu_count() or 1)
    gpus = float(gpu_count())
    return {"CPU": cpus, "GPU": gpus, "node_CPU": cpus, "node_GPU": gpus}
