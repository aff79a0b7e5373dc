"""``designspace spaces``: list the built-in design spaces and their distributions."""

from __future__ import annotations

import argparse

from designspace.commands.common import HelpFormatter, examples


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spaces",
        help="list the built-in design spaces",
        description="List the built-in design spaces (or show one in full) with the "
        "distribution of every parameter. Aliases AnyNetA..AnyNetE mean AnyNetXA..AnyNetXE.",
        epilog=examples(
            ("designspace spaces", "every built-in space, one line each"),
            ("designspace spaces AnyNetXE", "one space with the distribution of each parameter"),
            ("designspace spaces my_space.yaml", "check and show a space file"),
            ("designspace spaces --regimes", "the regimes (input size, classes, flops band)"),
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("name", nargs="?", help="show only this space (or a .yaml/.toml space file)")
    p.add_argument("--regimes", action="store_true", help="list the regimes instead")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from designspace.core.regimes import REGIMES, format_quantity
    from designspace.core.spaces import get_space, list_spaces

    if args.regimes:
        wide = max(map(len, REGIMES))
        for r in REGIMES.values():
            lo, hi = r.flops
            print(
                f"{r.name:{wide}s} {r.resolution:4d} px  {r.in_channels} ch  {r.num_classes:5d} "
                f"classes  flops {format_quantity(lo)}..{format_quantity(hi)}  "
                f"{r.description}"
            )
        return 0
    names = [args.name] if args.name else list_spaces()
    wide = max(10, *map(len, names))
    for name in names:
        space = get_space(name)
        if args.name:
            print(f"{space.name}: {space.description}")
            for key, value in space.parameters().items():
                print(f"  {key:18s} {value}")
        else:
            inside = f" [inside {space.refines.name}]" if space.refines is not None else ""
            print(f"{space.name:{wide}s} {space.description}{inside}")
    if not args.name:
        print(
            "\nShow one in full with 'designspace spaces NAME'; regimes: "
            "'designspace spaces --regimes'."
        )
    return 0
