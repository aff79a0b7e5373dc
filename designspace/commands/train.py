"""``designspace train``: train one network on a short schedule and report its error."""

from __future__ import annotations

import argparse
import math
from typing import Any

from designspace.commands.common import add_architecture_arguments, architecture_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train one network briefly and report its validation error",
        description="Train one network on a short schedule (SGD, momentum 0.9 Nesterov, "
        "half-period cosine, lr per 128 images scaled with the batch size) and report the "
        "validation top-1 error as a fraction in [0, 1]. The network's input channels and "
        "classes are set from the data set. Exit code 0 when training finished, 1 when it "
        "diverged or failed, 2 on bad input.",
        epilog="example (the d2l chapter's run): designspace train RegNetX32 --dataset "
        "fashion-mnist --resize 96 --epochs 10 --lr 0.05 --batch-size 128",
    )
    add_architecture_arguments(p)
    d = p.add_argument_group("data")
    d.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help="fashion-mnist (default; Debian package dataset-fashion-mnist), cifar10 "
        "(torchvision's cifar-10-batches-py folder) or imagefolder (train/ and val/ "
        "class folders)",
    )
    d.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="data folder (default for fashion-mnist: /usr/share/datasets/fashion-mnist)",
    )
    d.add_argument(
        "--resize",
        type=int,
        default=None,
        metavar="PX",
        help="resize images to PX x PX once, up front (default: native size)",
    )
    d.add_argument(
        "--subset",
        type=int,
        default=None,
        metavar="N",
        help="train on a seeded class-balanced subset of N images",
    )
    d.add_argument(
        "--val-subset",
        type=int,
        default=None,
        metavar="N",
        help="validate on a seeded class-balanced subset of N images",
    )
    d.add_argument(
        "--subset-seed", type=int, default=None, metavar="S", help="seed of the subsets (0)"
    )
    d.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random crop with padding + horizontal flip per batch (default: off for "
        "fashion-mnist, on otherwise)",
    )
    s = p.add_argument_group("schedule")
    s.add_argument(
        "--epochs", type=float, default=None, metavar="E", help="epochs, fractional allowed (10)"
    )
    s.add_argument(
        "--max-steps",
        type=int,
        default=None,
        metavar="N",
        help="optimizer steps; overrides --epochs",
    )
    s.add_argument(
        "--batch-size", type=int, default=None, metavar="N", help="images per step (128)"
    )
    s.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate per 128 images, scaled by batch size / 128 (0.1)",
    )
    s.add_argument("--momentum", type=float, default=None, metavar="M", help="SGD momentum (0.9)")
    s.add_argument(
        "--weight-decay", type=float, default=None, metavar="WD", help="weight decay (5e-5)"
    )
    s.add_argument(
        "--warmup-epochs", type=float, default=None, metavar="E", help="linear warm-up epochs (0)"
    )
    s.add_argument(
        "--label-smoothing", type=float, default=None, metavar="EPS", help="label smoothing (0)"
    )
    s.add_argument(
        "--zero-init-last-bn",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start each residual branch's last BN at gamma 0, i.e. every block as the "
        "identity (default on: deep sampled networks do not train in short schedules without it)",
    )
    s.add_argument(
        "--seed", type=int, default=None, metavar="S", help="seed of init, order, augmentation (0)"
    )
    r = p.add_argument_group("run")
    r.add_argument(
        "--device", default=None, metavar="DEV", help="auto (default), cpu, cuda or cuda:N"
    )
    r.add_argument(
        "--precision",
        default=None,
        metavar="P",
        help="auto (default: bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16",
    )
    r.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="channels_last memory format (default on)",
    )
    r.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch intra-op threads on CPU (default: torch's)",
    )
    r.add_argument(
        "--save",
        default=None,
        metavar="PATH",
        help="write a checkpoint (weights, architecture, settings, metrics); read it "
        "with designspace.train.load_checkpoint",
    )
    r.add_argument("--json", action="store_true", help="print one JSON object (no progress output)")
    r.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p.set_defaults(run=run)


_CONFIG_ARGS = (
    "dataset",
    "data_root",
    "resize",
    "subset",
    "val_subset",
    "subset_seed",
    "augment",
    "epochs",
    "max_steps",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "warmup_epochs",
    "label_smoothing",
    "zero_init_last_bn",
    "seed",
    "device",
    "precision",
    "channels_last",
    "threads",
)


def _clean(value: Any) -> Any:
    """NaN/inf -> None so the JSON output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from designspace.data import describe, load_data, native_resolution
    from designspace.train import TrainConfig, check_resolution, resolve_device, train

    arch, _ = architecture_from_args(args)
    settings = {k: getattr(args, k) for k in _CONFIG_ARGS if getattr(args, k) is not None}
    config = TrainConfig(**settings)
    device = resolve_device(config.device)
    check_resolution(arch, config.resize or native_resolution(config.dataset))
    data = load_data(config, device=device)
    arch = arch.with_io(in_channels=data.in_channels, num_classes=data.num_classes)
    progress = not (args.json or args.quiet)
    if progress:
        print(f"training {arch.name or arch.id} on {data.summary()}", file=sys.stderr)
    result = train(arch, config, data, progress=progress, save=args.save)

    flops = params = None
    try:
        from designspace.complexity import complexity

        counts = complexity(arch, data.resolution)
        flops, params = counts.flops, counts.params
    except ImportError:  # the analytic counter is optional for training
        pass

    if args.json:
        out = {
            "name": arch.name,
            "arch_id": arch.id,
            **result.to_row(),
            "flops": flops,
            "params": params,
            "data": describe(data),
            "config": config.to_dict(),
            "architecture": arch.to_dict(),
            "checkpoint": args.save if result.status == "ok" else None,
        }
        print(json.dumps(_clean(out)))
        return 0 if result.status == "ok" else 1

    print(f"{'epoch':>5s} {'train loss':>10s} {'val top-1 err':>13s} {'val top-5 err':>13s}")
    for i, loss in enumerate(result.epoch_train_loss):
        top1 = result.epoch_val_top1_err[i] if i < len(result.epoch_val_top1_err) else None
        top5 = result.epoch_val_top5_err[i] if i < len(result.epoch_val_top5_err) else None
        print(f"{i + 1:>5d} {_fmt(loss):>10s} {_fmt(top1):>13s} {_fmt(top5):>13s}")
    rows = [
        ("model", f"{arch.name or '-'} (id {arch.id})"),
        (
            "complexity",
            f"{flops:,} flops (multiply-adds), {params:,} params at {data.resolution} px"
            if flops is not None
            else "-",
        ),
        ("data", data.summary()),
        ("status", result.status + (f": {result.error}" if result.error else "")),
        ("val top-1 err", f"{_fmt(result.val_top1_err)} (best {_fmt(result.best_val_top1_err)})"),
        ("val top-5 err", _fmt(result.val_top5_err)),
        ("steps", f"{result.steps} ({result.epochs_done:.3g} epochs, batch {config.batch_size})"),
        (
            "train time",
            f"{result.train_time_s:.1f} s ({result.images_per_s:,.0f} images/s); "
            f"evaluation {result.eval_time_s:.1f} s; total {result.wall_time_s:.1f} s",
        ),
        (
            "device",
            f"{result.device}, {result.precision}"
            f"{', channels_last' if result.channels_last else ''}",
        ),
        ("peak memory", f"{result.peak_memory_mb:,.0f} MiB"),
    ]
    if args.save and result.status == "ok":
        rows.append(("checkpoint", args.save))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}s}  {value}")
    return 0 if result.status == "ok" else 1
