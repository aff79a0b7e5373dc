"""The models-per-hour benchmark's arithmetic (the benchmark itself runs outside the suite)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_models_per_hour as bench  # noqa: E402

from designspace.training.machine import cpu_info, fp32_peak_flops  # noqa: E402


def _frame(errors):
    n = len(errors)
    return pd.DataFrame(
        {
            "flops": [4e6] * n,
            "train_images": [10_000] * n,
            "precision": ["fp32"] * n,
            "channels_last": [True] * n,
            "train_time_s": [10.0] * n,
            "eval_time_s": [2.0] * n,
            "val_top1_err": errors,
        }
    )


def test_models_per_hour_and_flop_rate_from_a_sweep():
    row = bench.path_row("x", 120.0, _frame([0.2] * 24), peak=1e11)
    assert row["models_per_hour"] == 720.0  # 24 models in 2 minutes
    # 24 x 2 flops x 3 passes x 4e6 multiply-adds x 10,000 images / 120 s
    assert row["gflop_per_s"] == pytest.approx(24 * 6 * 4e6 * 1e4 / 120 / 1e9, rel=1e-3)
    assert row["share_of_peak"] == pytest.approx(row["gflop_per_s"] * 1e9 / 1e11, rel=1e-3)


def test_error_agreement_is_spearman_and_mean_absolute_difference():
    a = np.array([0.20, 0.25, 0.30, 0.22])
    b = a + np.array([0.01, -0.01, 0.02, 0.0])
    got = bench.agreement(_frame(a), _frame(b))
    assert got["mean_abs_diff"] == pytest.approx(0.01, abs=1e-4)
    assert got["spearman"] == 1.0  # same order


def test_the_peak_estimate_is_cores_times_clock_times_vector_width():
    info = {"cpus": 2, "mhz": 2500.0, "avx512f": True, "avx2": True}
    assert fp32_peak_flops(info) == 2 * 2.5e9 * 32
    assert fp32_peak_flops({**info, "avx512f": False, "avx2": False}) == 2 * 2.5e9 * 8
    assert fp32_peak_flops({**info, "mhz": None}) is None
    here = cpu_info()
    assert {"avx512_bf16", "amx_bf16", "mhz"} <= set(here)
