"""``designspace describe``: per-stage output shapes and complexity of one network."""

from __future__ import annotations

import argparse

from designspace.commands.common import (
    HelpFormatter,
    add_architecture_arguments,
    add_regime_arguments,
    architecture_from_args,
    examples,
    regime_from_args,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "describe",
        help="show a network's stages, output shapes and complexity",
        description="Show a network's per-stage output shapes and complexity: flops "
        "(multiply-adds, bias adds included; BN, pooling and activations free), params (BN "
        "gamma/beta included) and acts (output elements of convs and linear layers). "
        "Resolution: --resolution, else --regime's, else the row's in --from FILE, else 28 px "
        "for RegNetX32 and 224 px otherwise.",
        epilog=examples(
            ("designspace describe RegNetY-400MF", "a published model at 224 px"),
            (
                "designspace describe RegNetX32 --counter both",
                "the chapter's model at 28 px, analytic and fvcore counts side by side",
            ),
            (
                "designspace describe arch.json --regime cifar10",
                "an architecture JSON file, with CIFAR-10's input, classes and stem",
            ),
            (
                "designspace describe --from samples.parquet --index 3 --json",
                "row 3 of a samples or results table, as one JSON object",
            ),
            ("designspace describe --list", "the named models"),
        ),
        formatter_class=HelpFormatter,
    )
    add_architecture_arguments(p)
    p.add_argument("--list", action="store_true", help="list the named models")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--counter",
        choices=["analytic", "fvcore", "both"],
        default="analytic",
        help="count analytically (default), with fvcore on the built model, or both",
    )
    add_regime_arguments(p, default=None, bands=False)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from designspace.core.complexity import complexity, stage_summary
    from designspace.core.named import CHAPTER_MODEL, list_models
    from designspace.core.regimes import format_quantity
    from designspace.errors import DesignSpaceError

    if args.list:
        print("\n".join(list_models()))
        return 0
    arch, table_res = architecture_from_args(args)
    resolution = 28 if arch.name == CHAPTER_MODEL else 224
    if table_res is not None:
        resolution = table_res
    if args.regime:
        regime = regime_from_args(args)
        arch = arch.with_io(regime.in_channels, regime.num_classes, regime.stem)
        resolution = regime.resolution
    else:
        for key in ("in_channels", "num_classes"):
            value = getattr(args, key)
            if value is not None and value <= 0:
                raise DesignSpaceError(f"--{key.replace('_', '-')} must be positive, got {value}")
        arch = arch.with_io(args.in_channels, args.num_classes, args.stem)
    if args.resolution is not None:
        if args.resolution <= 0:
            raise DesignSpaceError(f"--resolution must be positive, got {args.resolution}")
        resolution = args.resolution
    if resolution < 1:
        raise DesignSpaceError("resolution must be at least 1 px")

    counts = {}
    if args.counter in ("analytic", "both"):
        counts["analytic"] = complexity(arch, resolution)
    if args.counter in ("fvcore", "both"):
        from designspace.training.counting import count_fvcore

        counts["fvcore"] = count_fvcore(arch, resolution)
    main = counts.get("analytic") or counts["fvcore"]
    layers = stage_summary(arch, resolution)

    if args.json:
        out = {
            "name": arch.name,
            "arch_id": arch.id,
            "resolution": resolution,
            "flops": main.flops,
            "params": main.params,
            "acts": main.acts,
            "depths": arch.depths,
            "widths": arch.widths,
            "group_widths": arch.group_widths,
            "bottleneck_ratios": arch.bottleneck_ratios,
            "strides": arch.strides,
            "se_ratio": arch.se_ratio,
            "block": arch.block,
            "stem": arch.stem,
            "stem_width": arch.stem_width,
            "in_channels": arch.in_channels,
            "num_classes": arch.num_classes,
            "layers": layers,
            "counters": {k: v.as_dict() for k, v in counts.items()},
            "architecture": arch.to_dict(),
        }
        print(json.dumps(out))
        return 0

    title = arch.name or f"architecture {arch.id}"
    print(
        f"{title}: {arch.block.upper()} blocks, {arch.stem} stem {arch.stem_width}, input "
        f"{arch.in_channels}x{resolution}x{resolution}, {arch.num_classes} classes"
    )
    print(
        f"{'layer':8s} {'d':>3s} {'w':>5s} {'b':>4s} {'g':>4s} {'output shape':>16s} "
        f"{'flops':>9s} {'params':>9s} {'acts':>9s}"
    )
    for row in layers:
        shape = "x".join(str(x) for x in row["output_shape"])
        dwbg = ["", "", "", ""]
        if row["layer"].startswith("stage"):
            s = arch.stages[int(row["layer"][5:]) - 1]
            dwbg = [str(s.depth), str(s.width), f"{s.bottleneck_ratio:g}", str(s.group_width)]
        print(
            f"{row['layer']:8s} {dwbg[0]:>3s} {dwbg[1]:>5s} {dwbg[2]:>4s} {dwbg[3]:>4s} "
            f"{shape:>16s} {format_quantity(row['flops']):>9s} "
            f"{format_quantity(row['params']):>9s} {format_quantity(row['acts']):>9s}"
        )
    for name, c in counts.items():
        print(
            f"{name:8s} total: flops {c.flops:,} ({format_quantity(c.flops)}), params "
            f"{c.params:,}, acts {c.acts:,}"
        )
    if len(counts) == 2:
        same = counts["analytic"] == counts["fvcore"]
        print("analytic and fvcore agree exactly" if same else "analytic and fvcore DISAGREE")
        return 0 if same else 1
    return 0
