"""The outcome of one training run (:class:`TrainResult`); no torch, so callers can name it.

Errors are fractions in [0, 1] (nan when not measured); times in seconds; memory in MiB.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TrainResult", "failed_result"]


@dataclass
class TrainResult:
    """Outcome of one run. Errors are fractions in [0, 1] (nan when not measured).

    ``status``: "ok", "diverged" (non-finite loss) or "failed" (e.g. CUDA out of memory; see
    ``error``). ``train_time_s`` counts optimizer steps only (no evaluation, no set-up);
    ``images_per_s`` = training images processed / ``train_time_s``; ``wall_time_s`` is the
    whole call. ``peak_memory_mb``: peak CUDA memory allocated on a GPU, the process's peak
    resident set size on a CPU (MiB).
    """

    status: str
    val_top1_err: float
    best_val_top1_err: float
    val_top5_err: float | None
    train_loss: float
    epoch_train_loss: list[float]
    epoch_val_top1_err: list[float]
    epoch_val_top5_err: list[float]
    train_time_s: float
    images_per_s: float
    peak_memory_mb: float
    device: str
    steps: int
    epochs_done: float
    error: str | None = None
    eval_time_s: float = 0.0
    wall_time_s: float = 0.0
    train_images: int = 0
    resolution: int = 0
    precision: str = "fp32"
    channels_last: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        """Flat record for one results row (lists stay lists; ``extra`` is dropped)."""
        row = asdict(self)
        row.pop("extra")
        return row


def failed_result(
    device: str, peak_memory_mb: float, message: str, wall: float, **kw: Any
) -> TrainResult:
    """A run that trained nothing: status "failed", errors nan, ``message`` as the error.

    ``device`` is the device's display name, ``wall`` the seconds the call took; ``kw`` sets
    further fields (resolution, precision, channels_last).
    """
    nan = float("nan")
    return TrainResult(
        status="failed",
        val_top1_err=nan,
        best_val_top1_err=nan,
        val_top5_err=None,
        train_loss=nan,
        epoch_train_loss=[],
        epoch_val_top1_err=[],
        epoch_val_top5_err=[],
        train_time_s=0.0,
        images_per_s=0.0,
        peak_memory_mb=peak_memory_mb,
        device=device,
        steps=0,
        epochs_done=0.0,
        error=message,
        wall_time_s=wall,
        **kw,
    )
