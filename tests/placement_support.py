"""A trainer for the GPU placement tests on a machine without a GPU: it records where each
trial was placed (CUDA_VISIBLE_DEVICES, Ray's GPU ids, its process) and how many trials ran at
once, and trains nothing.

Not a test module. Importing it in a worker (which happens when the trainer is unpickled there,
before any trial runs) makes the worker's data loader a no-op: the trials are placed on
*logical* GPUs, so the worker must not try to put the data set on a CUDA device.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import designspace.sweep.trial as _trial

_trial.data_for = lambda config: None  # no CUDA here: the recording trainer needs no data


class PlacementRecorder:
    """Records each trial's placement in ``marks`` and holds the first ``wave`` trials until
    all of them have started, so that the number running at once is observed, not timed."""

    def __init__(self, marks: str, wave: int, patience_s: float = 120.0) -> None:
        self.marks = marks
        self.wave = wave
        self.patience_s = patience_s

    def __call__(self, arch, config, data=None):
        from designspace.training.train import TrainResult

        marks = Path(self.marks)
        me = f"{arch.id}-{os.getpid()}"
        (marks / f"start-{me}").touch()
        gpu_ids: list = []
        try:
            import ray

            if ray.is_initialized():
                gpu_ids = [str(g) for g in ray.get_gpu_ids()]
        except ImportError:
            pass
        started = len(list(marks.glob("start-*")))
        if started <= self.wave:  # the first wave: wait for the rest of it
            give_up = time.time() + self.patience_s
            while len(list(marks.glob("start-*"))) < self.wave and time.time() < give_up:
                time.sleep(0.05)
        ended = {p.name[4:] for p in marks.glob("end-*")}
        running = sorted(p.name[6:] for p in marks.glob("start-*") if p.name[6:] not in ended)
        record = {
            "trial": me,
            "arch_id": arch.id,
            "pid": os.getpid(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "ray_gpu_ids": gpu_ids,
            "running": running,  # the trials running now (this one included)
            "device": config.device,
        }
        (marks / f"record-{me}.json").write_text(json.dumps(record))
        time.sleep(0.2)  # every trial of the wave checks "running" before the first ends
        (marks / f"end-{me}").touch()
        return TrainResult(
            status="ok", val_top1_err=0.5, best_val_top1_err=0.5, val_top5_err=None,
            train_loss=1.0, epoch_train_loss=[1.0], epoch_val_top1_err=[0.5],
            epoch_val_top5_err=[], train_time_s=0.2, images_per_s=1.0, peak_memory_mb=0.0,
            device=config.device, steps=1, epochs_done=1.0,
        )  # fmt: skip


def records(marks: str | Path) -> list[dict]:
    """The placement records of every trial."""
    return [json.loads(p.read_text()) for p in sorted(Path(marks).glob("record-*.json"))]
