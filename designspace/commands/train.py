"""``designspace train``: train one network on a short schedule and report its error."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.commands.common import (
    HelpFormatter,
    add_architecture_arguments,
    architecture_from_args,
)
from designspace.commands.options import add_train_options, settings_from_args, train_options

if TYPE_CHECKING:
    from designspace.core.arch import Architecture
    from designspace.training.trainconfig import TrainConfig


EXAMPLES = """\
examples:
  designspace train RegNetX32 --epochs 1 --subset 10000
      one epoch on 10,000 Fashion-MNIST images (the embedded default data set)
  designspace train RegNetX32 --dataset fashion-mnist --resize 96 --epochs 10 --lr 0.05 \\
      --batch-size 128
      the d2l chapter's run
  designspace train arch.json --dataset cifar10 --data-root ~/data --max-steps 200 --json
      an architecture file on CIFAR-10, one JSON object on stdout
  designspace train --from samples.parquet --index 3 --save model.pt
      row 3 of a samples table; load the checkpoint with designspace.training.train.load_checkpoint
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train one network briefly and report its validation error",
        description="Train one network on a short schedule (SGD, momentum 0.9 Nesterov, "
        "half-period cosine, lr per 128 images scaled with the batch size) and report the "
        "validation top-1 error as a fraction in [0, 1]. The network's input channels and "
        "classes are set from the data set. Exit code 0 when training finished, 1 when it "
        "diverged or failed, 2 on bad input.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    add_architecture_arguments(p)
    options, groups = add_train_options(p)
    r = groups["run"]
    r.add_argument(
        "--save",
        default=None,
        metavar="PATH",
        help="write a checkpoint (weights, architecture, settings, metrics) to a new "
        ".pt/.pth/.ckpt file, or replace one designspace wrote (atomically; any other existing "
        "file is refused); read it with designspace.training.train.load_checkpoint",
    )
    r.add_argument(
        "--retarget",
        action="store_true",
        help="train a --from row sampled for another input (resolution, channels, classes) "
        "anyway, at this data set's input; without it such a row is refused, since its "
        "complexity is no longer the one it was sampled for",
    )
    r.add_argument("--json", action="store_true", help="print one JSON object (no progress output)")
    r.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p.set_defaults(run=run, train_options=options)


# The dests of the training options (designspace sweep copies these options from this parser).
_CONFIG_ARGS = tuple(o.dest for o in train_options())


def check_args(args: argparse.Namespace) -> tuple[Architecture, TrainConfig]:
    """The architecture and training configuration the arguments ask for, with everything
    checked that needs no torch (settings, model, resolution, data folder, subset sizes,
    checkpoint path): bad input is refused here, in well under a second."""
    from designspace.core.datasets import check_subsets, require_root
    from designspace.errors import DesignSpaceError
    from designspace.training.trainconfig import TrainConfig, check_resolution

    config = TrainConfig(**settings_from_args(args, args.train_options))
    arch, recorded = architecture_from_args(args)
    check_resolution(arch, config.data.resolution)
    root = require_root(config.data)
    if root is not None and not root.is_dir():
        raise DesignSpaceError(f"--data-root {root} is not a folder")
    check_subsets(config.data)
    if recorded is not None:
        change = retargeting(arch, recorded, config)
        if change and not args.retarget:
            raise DesignSpaceError(
                f"--from {args.from_file} row {args.index}: {change}; sample models for this "
                f"data set (designspace sample --regime {config.data.dataset} ...) or pass "
                f"--retarget to train this one anyway"
            )
        if change:
            print(f"retargeted: {change}", file=sys.stderr)
    from designspace.core.memory import check_training_memory

    check_training_memory(config.data, config.batch_size, arch=arch)
    if args.save is not None:
        check_save_path(args)
    return arch, config


def retargeting(arch: Architecture, resolution: int, config: TrainConfig) -> str | None:
    """What training ``arch`` (sampled at ``resolution`` px with its own channels and classes)
    on ``config``'s data changes, in words, when its flops (multiply-adds) move by more than
    1%; None when it stays the model it was sampled as."""
    from designspace.core.complexity import complexity
    from designspace.core.datasets import dataset_facts
    from designspace.core.regimes import format_quantity

    facts = dataset_facts(config.data)
    target = arch.with_io(in_channels=facts.channels, num_classes=facts.classes)
    before = complexity(arch, resolution).flops
    after = complexity(target, config.data.resolution).flops
    if abs(after - before) <= 0.01 * before:
        return None
    return (
        f"sampled at {resolution} px, {arch.in_channels} channel(s), {arch.num_classes} classes "
        f"({format_quantity(before)} flops), it would train at {config.data.resolution} px, "
        f"{facts.channels} channel(s), {facts.classes} classes ({format_quantity(after)} flops, "
        f"another complexity band)"
    )


def check_save_path(args: argparse.Namespace) -> Path:
    """The checkpoint path of ``--save`` after the ownership rule of single-file outputs
    (:func:`designspace.formats.outputs.check_out_file`): a new ``.pt``/``.pth``/``.ckpt``
    path, or a checkpoint designspace wrote (recognised by its first bytes, never unpickled);
    not a user's file, a folder, an input (the architecture file, the ``--from`` table) nor a
    path inside a results data set. Creates nothing."""
    from designspace.errors import DesignSpaceError
    from designspace.formats import outputs

    raw = args.save
    if str(raw).strip() and Path(raw).is_dir():
        example = Path(raw) / "model.pt"
        raise DesignSpaceError(f"--save {raw} is a folder; name a file, e.g. {example}")
    inputs = [p for p in (args.arch, args.from_file) if p and os.path.lexists(p)]
    return outputs.check_out_file(
        raw, outputs.CHECKPOINT, outputs.CHECKPOINT_SUFFIXES, inputs=inputs, flag="--save"
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

    arch, config = check_args(args)  # before torch is imported

    from designspace.training.data import describe, load_data
    from designspace.training.train import resolve_device, train

    device = resolve_device(config.device)
    data = load_data(config.data, device=device)
    arch = arch.with_io(in_channels=data.in_channels, num_classes=data.num_classes)
    progress = not (args.json or args.quiet)
    if progress:
        print(f"training {arch.name or arch.id} on {data.summary()}", file=sys.stderr)
    result = train(arch, config, data, progress=progress, save=args.save)

    flops = params = None
    try:
        from designspace.core.complexity import complexity

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
