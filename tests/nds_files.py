"""Small generated files in the format of the NDS releases (the real ones are not ours to ship)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

GENOTYPE = (
    "{'normal': [['sep_conv_3x3', 0], ['skip_connect', 1]], 'normal_concat': [2, 3], "
    "'reduce': [['max_pool_3x3', 0], ['none', 1]], 'reduce_concat': [2, 3]}"
)


def anynet_record(i: int, epochs: int = 6, diverged: bool = False, nan: bool = False) -> dict:
    """One AnyNet-style record (bottleneck blocks with groups, so every list is used)."""
    start = 90.0 - i
    test = [start - 10.0 * math.log1p(e) - 0.1 * i * e for e in range(epochs)]
    if diverged:
        test = [99.9] * epochs
    train = [x + 2.0 for x in test]
    loss = [5.0 - 0.5 * e for e in range(epochs)]
    if nan:
        loss = [float("nan")] * epochs
    return {
        "job_id": str(1000 + i),
        "rng_seed": i + 1,
        "exp_mem": 3000 + i,
        "params": 1_000_000 + 10_000 * i,
        "flops": 200_000_000 + 5_000_000 * i,
        "net": {
            "block_type": "res_bottleneck_block",
            "bot_muls": [0.0, 0.25, 0.5],
            "ds": [1, 1 + i % 3, 2],
            "num_gs": [1, 2, 4],
            "ss": [4, 1, 2],
            "ws": [32 + 8 * i, 64 + 32 * (i % 2), 256],  # distinct nets, as in the real files
        },
        "optim": {
            "base_lr": 0.01 * (1 + i),
            "iter_lr": False,
            "lr_policy": "cos",
            "max_ep": epochs,
            "mom": 0.9,
            "wd": 1e-4 * (1 + i),
        },
        "act_mem": 100.0 + i,
        "iter_time": 0.2,
        "min_test_top1": min(test),
        "train_ep_loss": loss,
        "train_ep_top1": train,
        "test_ep_top1": test,
        "train_it_loss": [6.0, 5.5],
        "train_it_top1": [99.0, 98.0],
    }


def cifar_record(i: int, seed: int) -> dict:
    """A reruns-style record: CIFAR, basic blocks (empty bot_muls / num_gs), prec_time."""
    r = anynet_record(i)
    r["net"] = {
        "block_type": "res_basic_block",
        "bot_muls": [],
        "ds": [1, 2, 3, 3],
        "num_gs": [],
        "ss": [1, 1, 2, 2],
        "ws": [16, 32, 128, 160],
    }
    r["rng_seed"] = seed
    r["min_test_top1"] = 5.0 + 0.01 * seed + 0.5 * i
    r["test_ep_top1"] = [40.0, 20.0, r["min_test_top1"] + 0.2, r["min_test_top1"]]
    r["train_ep_top1"] = [50.0, 25.0, 3.0, 1.0]
    r["train_ep_loss"] = [1.5, 0.9, 0.1, 0.05]
    r["prec_time"] = {"test_fw": 0.007, "train_bw": 0.013, "train_fw": 0.008, "train_fw_bw": 0.02}
    r["train_it_loss"], r["train_it_top1"] = [], []
    return r


def darts_record(i: int) -> dict:
    r = anynet_record(i)
    r["net"] = {
        "aux": False,
        "depth": 8 + 2 * i,
        "drop_prob": 0.0,
        "genotype": GENOTYPE,
        "width": 16 + 8 * i,
    }
    return r


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def lrwd_file(folder: Path, name: str = "Toy_lr-wd_in.json", n: int = 8) -> Path:
    """A list-shaped ImageNet file of ``n`` AnyNet records; the last one diverged."""
    records = [anynet_record(i) for i in range(n - 1)] + [anynet_record(n - 1, diverged=True)]
    return write(folder / name, records)


def reruns_file(folder: Path, name: str = "Toy_reruns.json", n: int = 5) -> Path:
    """An object-shaped CIFAR file: {"top": [...], "mid": [...]} of ``n`` seeds each."""
    data = {
        "top": [cifar_record(0, s) for s in range(n)],
        "mid": [cifar_record(2, s) for s in range(n)],
    }
    return write(folder / name, data)
