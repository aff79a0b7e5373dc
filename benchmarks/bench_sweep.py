"""Sweep speed: throughput against the chapter's loop, and Ray overhead against plain Ray Tune.

(a) **Throughput.** A sweep of K copies of the chapter's RegNetX32 (28 px, batch 128, a fixed
step budget, one CPU and one torch thread per trial, as many trials as cores) against the d2l
chapter's training loop (chapter_baseline.py) training the same model with all cores. Both are
steady-state rates of the training steps alone: ours = the sum over the concurrently running
trials of each trial's images/s (median trial rate x concurrency), the chapter's = training
images / the seconds of its epoch loop (data set-up and validation excluded). The end-to-end
figure (all training images / the sweep's wall time, Ray start excluded) is printed too.
Ray is started once, before the sweeps, and its start time is reported on its own.
Target: 1.8x.

(b) **Overhead.** A sweep of N sampled AnyNetXA models (fashion-mnist regime with the small
stem, 28 px) with a fixed step budget, on a Ray started beforehand (its start is timed and
reported separately). Value = the sweep's wall time; baseline = the sum of the trials' own
time in the trainer (each ``train()`` call: model build, steps, validation) / concurrency.
Target: value <= 1.15 x baseline. The same sweep written the plain Ray Tune way (a function
trainable that loads the data and trains, a new process per trial: ``reuse_actors=False``,
Tune's default loggers) is measured in the same run for comparison.

(c) ``--gpu`` (only where a GPU is present): a sweep of N models at 96 px sharing the card
(``--gpus-per-trial``, default 0.25); reports models per hour and the card's mean utilization
(sampled with nvidia-smi).

Lines ``RESULT name=.. value=.. baseline=.. ratio=.. target=..`` are machine-readable. Run on a
quiet machine; ``--quick`` shrinks everything to check that the script works.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def chapter_rate(images: int, workers: int) -> dict:
    """The chapter's loop on RegNetX32 over ``images`` training images, all cores, in a fresh
    process; returns its JSON (images, epoch_train_s, ...)."""
    from designspace.training.data import FASHION_MNIST_DIR

    code = (
        "import json, sys, tempfile\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from chapter_baseline import prepare_torchvision_root, run_chapter\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        f"    root = prepare_torchvision_root({str(FASHION_MNIST_DIR)!r}, tmp)\n"
        f"    out = run_chapter(root, 1, 28, 128, 0.05, list(range({images})), "
        f"list(range(500)), {workers})\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"chapter baseline failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def samples_of_chapter_model(path: Path, k: int) -> Path:
    """A samples table of k copies of RegNetX32 (sample_index 0..k-1)."""
    import pandas as pd

    from designspace.core.named import get_model

    arch = get_model("RegNetX32")
    rows = [
        {"space": "RegNetX32", "sample_index": i, "arch_json": arch.to_json()} for i in range(k)
    ]
    pd.DataFrame(rows).to_json(path, orient="records", lines=True)
    return path


def throughput(args: argparse.Namespace, tmp: Path, ch: dict) -> None:
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.training.train import TrainConfig

    n_cores = cores()
    images = args.tp_steps * 128
    chapter = ch["images"] / sum(ch["epoch_train_s"])

    samples = samples_of_chapter_model(tmp / "regnetx32.jsonl", args.tp_models)
    config = SweepConfig(
        samples=str(samples),
        train=TrainConfig(max_steps=args.tp_steps, batch_size=128, subset=images,
                          val_subset=500),
    )  # fmt: skip
    print(f"(a) sweep: {args.tp_models} x RegNetX32, {args.tp_steps} steps each ...", flush=True)
    t = time.perf_counter()
    frame = run_sweep(config, tmp / "throughput", Placement(cpus_per_trial=1), progress=False)
    wall = time.perf_counter() - t
    ok = frame[frame.status == "ok"]
    concurrency = min(n_cores, len(ok))
    per_trial = statistics.median(ok.images_per_s)
    summed = per_trial * concurrency
    end_to_end = ok.train_images.sum() / wall
    print(
        f"    chapter {chapter:.0f} images/s ({ch['threads']} threads); sweep: {concurrency} "
        f"trials x {per_trial:.0f} images/s = {summed:.0f}; end to end {end_to_end:.0f} "
        f"images/s over {wall:.1f} s"
    )
    print(
        f"RESULT name=sweep_throughput_images_per_s value={summed:.1f} baseline={chapter:.1f} "
        f"ratio={summed / chapter:.3f} target=1.8 end_to_end={end_to_end:.1f}"
    )


def plain_trial(config: dict) -> None:
    """The plain Ray Tune way: everything inside the trial, nothing reused."""
    from ray import tune

    from designspace.core.arch import Architecture
    from designspace.training.data import load_data
    from designspace.training.train import TrainConfig, train

    cfg = TrainConfig.from_dict(config["train"])
    result = train(Architecture.from_json(config["arch_json"]), cfg, load_data(cfg))
    tune.report({"wall_time_s": result.wall_time_s, "status": result.status})


def plain_tune(arch_jsons: list[str], train_config: dict, storage: Path) -> tuple[float, list]:
    from ray import tune

    tuner = tune.Tuner(
        tune.with_resources(plain_trial, {"cpu": 1}),
        param_space={"arch_json": tune.grid_search(arch_jsons), "train": train_config},
        tune_config=tune.TuneConfig(reuse_actors=False),
        run_config=tune.RunConfig(storage_path=str(storage), name="plain", verbose=0),
    )
    t = time.perf_counter()
    grid = tuner.fit()
    wall = time.perf_counter() - t
    return wall, [r.metrics.get("wall_time_s", float("nan")) for r in grid]


def overhead(args: argparse.Namespace, tmp: Path, ray_start: float) -> None:
    from designspace.core.regimes import get_regime
    from designspace.sweep import Placement, SweepConfig, plan_sweep, run_sweep
    from designspace.training.train import TrainConfig

    n_cores = cores()
    train = TrainConfig(max_steps=args.oh_steps, batch_size=128, subset=args.oh_steps * 128,
                        val_subset=500)  # fmt: skip
    config = SweepConfig(
        spaces=("AnyNetXA",), n=args.oh_models, train=train,
        regime=get_regime("fashion-mnist").with_overrides(stem="small"),
    )  # fmt: skip
    print(f"(b) sweep: {args.oh_models} models x {args.oh_steps} steps ...", flush=True)
    t = time.perf_counter()
    frame = run_sweep(config, tmp / "overhead", Placement(cpus_per_trial=1), progress=False)
    wall = time.perf_counter() - t
    ideal = frame.wall_time_s.sum() / n_cores
    ideal_steps = frame.train_time_s.sum() / n_cores
    print(
        f"    wall {wall:.1f} s; trials' own time / {n_cores} = {ideal:.1f} s (steps only "
        f"{ideal_steps:.1f} s); Ray start {ray_start:.1f} s; statuses "
        f"{frame.status.value_counts().to_dict()}"
    )
    print(
        f"RESULT name=sweep_overhead_wall_s value={wall:.2f} baseline={ideal:.2f} "
        f"ratio={wall / ideal:.3f} target=1.15 ray_start_s={ray_start:.2f} "
        f"models={len(frame)}"
    )
    if args.skip_plain:
        return
    print("(b) the same sweep the plain Ray Tune way ...", flush=True)
    arch_jsons = list(plan_sweep(config).arch_json)
    settings = {**train.to_dict(), "threads": 1, "device": "cpu"}
    plain_wall, own = plain_tune(arch_jsons, settings, tmp / "plain")
    plain_ideal = sum(own) / n_cores
    print(
        f"    plain Tune wall {plain_wall:.1f} s; trials' own time / {n_cores} = "
        f"{plain_ideal:.1f} s; {(plain_wall - wall) / len(arch_jsons):.2f} s more per "
        f"model than the sweep"
    )
    print(
        f"RESULT name=plain_tune_overhead_wall_s value={plain_wall:.2f} "
        f"baseline={plain_ideal:.2f} ratio={plain_wall / plain_ideal:.3f} target=-"
    )
    print(
        f"RESULT name=sweep_speedup_vs_plain_tune value={plain_wall / wall:.3f} "
        f"baseline=1 ratio={plain_wall / wall:.3f} target=-"
    )


def gpu(args: argparse.Namespace, tmp: Path) -> None:
    import torch

    from designspace.core.regimes import get_regime
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.training.train import TrainConfig

    if not torch.cuda.is_available():
        print("(c) no GPU here: skipped")
        return
    samples: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        cmd = ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]
        while not stop.is_set():
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
                samples.append(float(out.split()[0]))
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                pass
            stop.wait(0.5)

    config = SweepConfig(
        spaces=("AnyNetXA",), n=args.gpu_models,
        regime=get_regime("fashion-mnist"),
        train=TrainConfig(resize=96, epochs=args.gpu_epochs),
    )  # fmt: skip
    placement = Placement(gpus_per_trial=args.gpus_per_trial,
                          cpus_per_trial=1)  # fmt: skip
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t = time.perf_counter()
    frame = run_sweep(config, tmp / "gpu", placement, progress=False)
    wall = time.perf_counter() - t
    stop.set()
    watcher.join()
    per_hour = len(frame) / wall * 3600
    util = statistics.mean(samples) if samples else float("nan")
    print(
        f"(c) {len(frame)} models at 96 px, {args.gpu_epochs} epoch(s), "
        f"{args.gpus_per_trial} GPU per trial on {torch.cuda.get_device_name(0)}: {wall:.0f} s, "
        f"{per_hour:.0f} models/hour, mean utilization {util:.0f}%, statuses "
        f"{frame.status.value_counts().to_dict()}"
    )
    print(
        f"RESULT name=sweep_gpu_models_per_hour value={per_hour:.1f} baseline=- ratio=- "
        f"target=- gpu_util_pct={util:.0f} gpus_per_trial={args.gpus_per_trial}"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes: check that it works")
    p.add_argument("--tp-models", type=int, default=8, help="(a) RegNetX32 copies")
    p.add_argument("--tp-steps", type=int, default=150, help="(a) steps per model (batch 128)")
    p.add_argument("--workers", type=int, default=4, help="(a) chapter DataLoader workers")
    p.add_argument("--oh-models", type=int, default=24, help="(b) models")
    p.add_argument("--oh-steps", type=int, default=60, help="(b) steps per model (batch 128)")
    p.add_argument("--skip-plain", action="store_true", help="(b) skip the plain Tune sweep")
    p.add_argument("--gpu", action="store_true", help="(c) the GPU sweep (when there is one)")
    p.add_argument("--gpu-models", type=int, default=32)
    p.add_argument("--gpu-epochs", type=float, default=1.0)
    p.add_argument("--gpus-per-trial", type=float, default=0.25)
    p.add_argument("--only", choices=["throughput", "overhead"], help="run one part")
    args = p.parse_args()
    if args.quick:
        args.tp_models, args.tp_steps, args.oh_models, args.oh_steps = 2, 10, 4, 5
        args.gpu_models, args.gpu_epochs = 4, 0.05
    chapter = None
    if args.only in (None, "throughput"):  # before Ray: the chapter loop forks data workers
        images = args.tp_steps * 128
        print(f"(a) chapter loop: RegNetX32, {images} images, all cores ...", flush=True)
        chapter = chapter_rate(images, args.workers)
    import ray

    t = time.perf_counter()
    ray.init(num_cpus=cores(), include_dashboard=False, log_to_driver=False,
             logging_level="ERROR", object_store_memory=256 * 2**20)  # fmt: skip
    ray_start = time.perf_counter() - t
    print(f"Ray started in {ray_start:.1f} s (not charged to the sweeps below)")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            if chapter is not None:
                throughput(args, Path(tmp), chapter)
            if args.only in (None, "overhead"):
                overhead(args, Path(tmp), ray_start)
            if args.gpu:
                gpu(args, Path(tmp))
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
