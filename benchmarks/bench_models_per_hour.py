"""Models per hour on this machine: the study recipe, the landed path against the default one.

A fixed set of 24 models - the first 4 samples (seed 0) of each of the six spaces of the
small-regime progression (experiments/fmnist-small-progression.toml: AnyNetXA..XE and RegNetX,
fashion-mnist-small regime, 3.6-4.0 MF) - trained with that study's settings (Fashion-MNIST,
1 epoch of 10,000 images, 5,000 validation images, batch 128, lr 0.1, Nesterov, wd 5e-5) as
real sweeps (``designspace sweep --executor local``, each in a fresh process and output folder):

* ``landed``: the settings the committed studies ran with, given explicitly (fp32,
  channels_last, one 1-thread trial per core);
* ``default``: the same command with every speed setting left to the defaults (``auto``),
  as a new study runs now;
* ``default, train seed 1``: the default path with another training seed: the seed-noise
  floor the two paths' errors are judged against.

models/hour = 24 / the sweep's wall time (process start, data loading and evaluation
included). Achieved flop/s = sum over models of 2 x 3 x multiply-adds x training images /
wall time (forward + backward ~ 3 forward passes), as a share of the machine's fp32 peak
(designspace.training.machine.fp32_peak_flops: cores x clock x 32 flops/cycle).

``--levers``: each lever the issue names, timed per training image on the first model of each
space (one thread, steady state after 2 warm-up steps, the better of two interleaved rounds):
bf16 autocast, NCHW layout, batch 256 (lr scaled), denormals flushed, torch.compile (its
compile time and its break-even), and two 1-thread trials side by side against one 2-thread
trial. Writes results/bench-models-per-hour/{summary.md,models.csv,levers.csv}; the last line
is ``RESULT name=models_per_hour value=<default> baseline=<landed> ratio=<r> target=3``.
Run it on a quiet machine (nothing else running): ``.venv/bin/python
benchmarks/bench_models_per_hour.py --levers``; ``--quick`` (4 models, 300 images) checks
that it works.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "bench-models-per-hour"
SPACES = ("AnyNetXA", "AnyNetXB", "AnyNetXC", "AnyNetXD", "AnyNetXE", "RegNetX")
# fmt: off
STUDY = ["--regime", "fashion-mnist-small", "--seed", "0", "--dataset", "fashion-mnist",
         "--epochs", "1", "--subset", "10000", "--val-subset", "5000", "--batch-size", "128",
         "--lr", "0.1", "--weight-decay", "5e-5", "--executor", "local", "--no-progress"]
# fmt: on
LANDED = ["--precision", "fp32", "--channels-last", "--cpus-per-trial", "1"]
TARGET = 3.0


def sweep(out: Path, n: int, extra: list[str], quick: bool) -> tuple[float, pd.DataFrame]:
    """One sweep in a fresh process; (wall seconds, its results)."""
    spaces = [a for s in SPACES for a in ("--space", s)]
    size = ["--subset", "300", "--val-subset", "200"] if quick else []
    cmd = [sys.executable, "-m", "designspace", "sweep", *spaces, "-n", str(n), *STUDY,
           *size, *extra, "--out", str(out)]  # fmt: skip
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"sweep failed ({' '.join(cmd)}):\n{r.stderr[-2000:]}")
    frame = pd.read_parquet(out / "results").sort_values(["space", "sample_index"])
    return wall, frame.reset_index(drop=True)


def path_row(name: str, wall: float, frame: pd.DataFrame, peak: float | None) -> dict:
    flops = float((2 * 3 * frame["flops"] * frame["train_images"]).sum())
    return {
        "path": name,
        "models": len(frame),
        "wall_s": round(wall, 1),
        "models_per_hour": round(len(frame) * 3600 / wall, 1),
        "precision": ",".join(sorted(set(frame["precision"]))),
        "channels_last": ",".join(sorted({str(v) for v in frame["channels_last"]})),
        "mean_train_s": round(float(frame["train_time_s"].mean()), 2),
        "mean_eval_s": round(float(frame["eval_time_s"].mean()), 2),
        "gflop_per_s": round(flops / wall / 1e9, 2),
        "share_of_peak": round(flops / wall / peak, 4) if peak else None,
    }


# ------------------------------------------------------------------------------ levers
def _archs(n_per_space: int) -> list:
    from designspace.core.sampling import sample

    archs = []
    for space in SPACES:
        s = sample(space, n_per_space, seed=0, regime="fashion-mnist-small")
        archs += [(space, a.with_io(in_channels=1, num_classes=10)) for a in s.archs]
    return archs


def _per_image_us(arch, lever: str, images: int, threads: int = 1) -> float:
    """Steady-state training microseconds per image of ``arch`` under ``lever``."""
    import torch
    import torch.nn.functional as F

    from designspace.training.models import build_model

    torch.set_num_threads(threads)
    torch.set_flush_denormal(lever == "flush denormals")
    torch.manual_seed(0)
    bs = 256 if lever == "batch 256, lr 0.2" else 128
    model = build_model(arch)
    channels_last = lever != "NCHW layout"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.SGD(
        model.parameters(), lr=0.1 * bs / 128, momentum=0.9, nesterov=True, weight_decay=5e-5
    )
    x = torch.randn(bs, 1, 28, 28)
    x = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    y = torch.randint(0, 10, (bs,))
    forward = torch.compile(model) if lever == "torch.compile" else model

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=lever == "bf16 autocast"):
            loss = F.cross_entropy(forward(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    t0 = time.perf_counter()
    for _ in range(2):
        step()
    warm = time.perf_counter() - t0
    steps = max(1, images // bs)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    us = (time.perf_counter() - t0) / (steps * bs) * 1e6
    torch.set_flush_denormal(False)
    if lever == "torch.compile":
        _per_image_us.compile_s = warm  # type: ignore[attr-defined]
    return us


def _solo(args: tuple) -> float:
    arch, images, threads = args
    return _per_image_us(arch, "baseline", images, threads)


def levers(images: int, with_compile: bool) -> pd.DataFrame:
    """Per-image training time of every lever relative to the baseline, per model."""
    names = ["bf16 autocast", "NCHW layout", "batch 256, lr 0.2", "flush denormals"]
    rows = []
    ctx = mp.get_context("spawn")
    for i, (space, arch) in enumerate(_archs(1)):
        best: dict[str, float] = {}
        for _ in range(2):  # interleaved rounds: drift hits every lever alike
            for lever in ["baseline", *names]:
                us = _per_image_us(arch, lever, images)
                best[lever] = min(best.get(lever, np.inf), us)
        for lever in names:
            rows.append(_lever_row(space, arch, lever, best["baseline"], best[lever]))
        # placement: one 2-thread trial vs two 1-thread trials at once (per image of both)
        two_threads = _per_image_us(arch, "baseline", images, threads=2)
        with ctx.Pool(2) as pool:  # both time their steady state at the same time
            each = pool.map(_solo, [(arch, images, 1)] * 2)
        pair = 1.0 / sum(1.0 / us for us in each)  # microseconds per image of the pair
        rows.append(
            _lever_row(space, arch, "one 2-thread trial vs two 1-thread", pair, two_threads)
        )
        if with_compile and i == 0:
            us = _per_image_us(arch, "torch.compile", images)
            row = _lever_row(space, arch, "torch.compile", best["baseline"], us)
            compile_s = _per_image_us.compile_s  # type: ignore[attr-defined]
            saving = (best["baseline"] - us) / 1e6  # seconds per image
            row["compile_s"] = round(compile_s, 1)
            row["break_even_images"] = round(compile_s / saving) if saving > 0 else None
            rows.append(row)
        print(f"levers: {space} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def _lever_row(space: str, arch, lever: str, base_us: float, lever_us: float) -> dict:
    return {
        "space": space,
        "arch_id": arch.id,
        "lever": lever,
        "baseline_us_per_image": round(base_us, 1),
        "lever_us_per_image": round(lever_us, 1),
        "speedup": round(base_us / lever_us, 3),
    }


# ------------------------------------------------------------------------------ report
def agreement(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Spearman and mean |difference| of two runs' errors over the same models."""
    ea, eb = a["val_top1_err"].to_numpy(), b["val_top1_err"].to_numpy()
    rho = stats.spearmanr(ea, eb).statistic
    return {
        "spearman": round(float(rho), 3),
        "mean_abs_diff": round(float(np.abs(ea - eb).mean()), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 models, 300 images: a smoke test")
    ap.add_argument("--levers", action="store_true", help="also time each lever (~3 min)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile lever")
    ap.add_argument("--out", type=Path, default=OUT, help=f"results folder (default {OUT})")
    args = ap.parse_args()
    import torch

    from designspace.training.machine import cpu_info, describe_cpu, fp32_peak_flops

    info = cpu_info()
    peak = fp32_peak_flops(info)
    n = 1 if args.quick else 4
    paths = [("landed", LANDED), ("default", []), ("default, train seed 1", ["--train-seed", "1"])]
    runs = {}
    with tempfile.TemporaryDirectory(prefix="bench-mph-") as tmp:
        for i, (name, extra) in enumerate(paths):
            runs[name] = sweep(Path(tmp) / f"p{i}", n, extra, args.quick)
            print(f"{name}: {runs[name][0]:.1f} s", file=sys.stderr, flush=True)
    table = pd.DataFrame([path_row(k, w, f, peak) for k, (w, f) in runs.items()])
    landed, default, seed1 = (runs[k][1] for k, _ in paths)
    same = agreement(landed, default)
    noise = agreement(default, seed1)
    lever_table = levers(300 if args.quick else 2560, not args.no_compile) if args.levers else None
    ratio = table.loc[1, "models_per_hour"] / table.loc[0, "models_per_hour"]
    args.out.mkdir(parents=True, exist_ok=True)
    models = pd.concat(
        [
            f.assign(path=k)[
                [
                    "path",
                    "space",
                    "sample_index",
                    "arch_id",
                    "flops",
                    "val_top1_err",
                    "train_time_s",
                    "eval_time_s",
                    "precision",
                ]
            ]  # fmt: skip
            for k, (_, f) in runs.items()
        ]
    )
    models.to_csv(args.out / "models.csv", index=False)
    if lever_table is not None:
        lever_table.to_csv(args.out / "levers.csv", index=False)
    machine = {**info, "fp32_peak_gflops": round(peak / 1e9, 1) if peak else None,
               "torch": torch.__version__}  # fmt: skip
    write_summary(args, machine, table, same, noise, ratio, lever_table)
    print(
        f"RESULT name=models_per_hour value={table.loc[1, 'models_per_hour']} "
        f"baseline={table.loc[0, 'models_per_hour']} ratio={ratio:.2f} target={TARGET:g} "
        f"machine={json.dumps(describe_cpu(info))}"
    )


def write_summary(args, machine, table, same, noise, ratio, lever_table) -> None:
    cmd = (
        "benchmarks/bench_models_per_hour.py"
        + (" --levers" if args.levers else "")
        + (" --quick" if args.quick else "")
    )
    lines = [
        "# Models per hour: the small-regime study recipe on this machine",
        "",
        f"`.venv/bin/python {cmd}` - machine: {machine['model']}, {machine['cpus']} cores at "
        f"{machine['mhz']} MHz, flags avx512f={machine['avx512f']} avx2={machine['avx2']} "
        f"avx512_bf16={machine['avx512_bf16']} amx_bf16={machine['amx_bf16']}; fp32 peak "
        f"estimate {machine['fp32_peak_gflops']} GFLOP/s; torch {machine['torch']}.",
        "",
        table.to_markdown(index=False),
        "",
        f"Default path / landed path: **{ratio:.2f}x** models/hour (target {TARGET:g}x).",
        f"Errors, landed vs default (same seed): Spearman {same['spearman']}, mean |difference| "
        f"{same['mean_abs_diff']}; seed-noise floor (default, train seed 0 vs 1): Spearman "
        f"{noise['spearman']}, mean |difference| {noise['mean_abs_diff']}.",
    ]
    if lever_table is not None:
        summary = lever_table.groupby("lever", sort=False)["speedup"].agg(["min", "median", "max"])
        lines += [
            "",
            "## Levers (per training image, one thread unless stated; speedup > 1 is faster)",
            "",
            summary.round(3).reset_index().to_markdown(index=False),
            "",
            lever_table.to_markdown(index=False),
        ]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
