"""SYNTHETIC results sets in the sweep's schema, with a planted truth, for the analysis tests.

Nothing here is trained: architectures are sampled from AnyNetX-like spaces (independent of
designspace.core.spaces, so the analysis tests do not depend on it), and each model's error is a
known function of its configuration plus Gaussian noise (:class:`Truth`). flops/params/acts are
a cheap proxy, not the papers' counts.

``python tests/synthetic.py DIR`` rewrites the committed fixture results/fixtures/small_results.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from designspace.core.arch import Architecture, Stage

SPACES = ("AnyNetXA", "AnyNetXB", "AnyNetXC", "AnyNetXD", "AnyNetXE")


@dataclass(frozen=True)
class Truth:
    """error = base + sum of planted effects + N(0, noise); effects are error fractions.

    Indicators (shared_b, shared_g, widths_increase, depths_increase) add their coefficient
    when true; ``log2_b`` multiplies the mean log2 bottleneck ratio; ``e_fit`` multiplies the
    fitted RegNet e_fit; ``depth_opt`` = (target, coefficient) adds coef * (depth - target)^2;
    ``b_one`` multiplies the fraction of stages with bottleneck ratio 1 (shared-b spaces: 0 or
    1, so it is the error change of b = 1).
    """

    base: float = 0.30
    noise: float = 0.01
    shared_b: float = 0.0
    shared_g: float = 0.0
    widths_increase: float = 0.0
    depths_increase: float = 0.0
    log2_b: float = 0.0
    b_one: float = 0.0
    e_fit: float = 0.0
    depth_opt: tuple[float, float] | None = None
    extra: dict = field(default_factory=dict)


def sample_arch(space: str, rng: np.random.Generator, max_depth: int = 6) -> Architecture:
    """One AnyNetX-like network of ``space`` (A..E constraints as in DDS), 4 stages."""
    d = rng.integers(1, max_depth + 1, size=4)
    w = np.exp(rng.uniform(np.log(16), np.log(512), size=4))
    b = rng.choice([1, 2, 4], size=4)
    g = rng.choice([1, 2, 4, 8, 16], size=4)
    if space >= "AnyNetXB":
        b[:] = b[0]
    if space >= "AnyNetXC":
        g[:] = g[0]
    if space >= "AnyNetXD":
        w = np.sort(w)
    if space >= "AnyNetXE":
        d = np.sort(d)
    stages = []
    for di, wi, bi, gi in zip(d, w, b, g, strict=True):
        unit = int(np.lcm(int(bi * gi), 8))  # width: a multiple of 8 and of b*g
        width = max(unit, int(round(wi / unit)) * unit)
        stages.append(Stage(int(di), width, int(bi), int(gi), 2))
    return Architecture(tuple(stages), block="x", stem="small", in_channels=1, num_classes=10)


def _proxy_complexity(arch: Architecture, resolution: int = 28) -> tuple[int, int, int]:
    flops = params = acts = 0
    res, w_in = resolution, arch.stem_width
    for s in arch.stages:
        for j in range(s.depth):
            res_out = (res - 1) // s.stride + 1 if j == 0 else res
            inner = s.inner_width
            p = w_in * inner + 9 * inner * s.group_width + inner * s.width
            params += p
            flops += p * res_out * res_out
            acts += (2 * inner + s.width) * res_out * res_out
            res, w_in = res_out, s.width
    return int(flops), int(params), int(acts)


def make_results(
    spaces: tuple[str, ...] = ("AnyNetXA",),
    n: int = 300,
    truth: Truth | None = None,
    seed: int = 0,
    max_depth: int = 6,
    n_failed: int = 0,
    sweep: str = "synthetic",
) -> pd.DataFrame:
    """``n`` models per space with errors from ``truth``; ``n_failed`` extra failed rows."""
    from designspace.analysis.features import add_features

    truth = truth or Truth()
    rng = np.random.default_rng(seed)
    rows = []
    for space in spaces:
        for i in range(n + n_failed):
            arch = sample_arch(space, rng, max_depth)
            flops, params, acts = _proxy_complexity(arch)
            row = dict(
                sweep=sweep,
                space=space,
                regime="fashion-mnist",
                sample_seed=seed,
                sample_index=i,
                arch_json=arch.to_json(),
                **arch.to_row(),
                resolution=28,
                flops=flops,
                params=params,
                acts=acts,
                cfg_dataset="fashion-mnist",
                cfg_epochs=1.0,
                cfg_batch_size=128,
                cfg_lr=0.1,
                cfg_seed=0,
                status="ok" if i < n else "failed",
                train_loss=0.5,
                train_time_s=1.0,
                images_per_s=1000.0,
                peak_memory_mb=100.0,
                device="synthetic",
                steps=100,
                epochs_done=1.0,
                error=None if i < n else "synthetic failure",
                host="synthetic",
                designspace_version="synthetic",
                finished_at="2020-01-01T00:00:00Z",
                attempt=1,
            )
            rows.append(row)
    data = pd.DataFrame(rows)
    need_fit = truth.e_fit != 0
    feats = add_features(data, fit=need_fit)
    err = np.full(len(data), truth.base)
    for key in ("shared_b", "shared_g", "widths_increase", "depths_increase"):
        err += getattr(truth, key) * feats[key].to_numpy(dtype=float)
    err += truth.log2_b * np.log2(feats["b"].to_numpy(dtype=float))
    if truth.b_one:
        ones = [np.mean(np.asarray(x, dtype=float) == 1) for x in data["bottleneck_ratios"]]
        err += truth.b_one * np.asarray(ones)
    if need_fit:
        err += truth.e_fit * feats["e_fit"].to_numpy(dtype=float)
    if truth.depth_opt is not None:
        target, coef = truth.depth_opt
        err += coef * (feats["depth"].to_numpy(dtype=float) - target) ** 2
    err = np.clip(err + rng.normal(0.0, truth.noise, size=err.size), 0.0, 1.0)
    failed = data["status"].to_numpy() != "ok"
    err[failed] = np.nan
    data["val_top1_err"] = err
    data["best_val_top1_err"] = err
    data["val_top5_err"] = np.clip(err / 3, 0, 1)
    data["epoch_train_loss"] = [[0.9, 0.5]] * len(data)
    data["epoch_val_top1_err"] = [[min(1.0, e + 0.05), e] for e in err]
    return data


def write_fixture(out: Path) -> None:
    """The committed small results set: 3 spaces x 40 models + 4 failed, SYNTHETIC errors."""
    truth = Truth(widths_increase=-0.03, depths_increase=-0.015, log2_b=0.01, noise=0.01)
    data = make_results(
        ("AnyNetXA", "AnyNetXC", "AnyNetXE"),
        n=40,
        truth=truth,
        seed=7,
        n_failed=2,
        sweep="synthetic-fixture",
    )
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    for space, part in data.groupby("space"):
        part.to_parquet(out / f"{space}.parquet", index=False)


if __name__ == "__main__":
    write_fixture(Path(sys.argv[1] if len(sys.argv) > 1 else "results/fixtures/small_results"))
