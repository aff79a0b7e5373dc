"""``designspace refine RESULTS --space NAME --out DIR``: the design-space design loop.

Every argument is checked before torch or ray is imported or anything is created.
"""

from __future__ import annotations

import argparse

from designspace.commands.common import HelpFormatter, examples

DESCRIPTION = (
    "Walk the loop that the DDS paper walks by hand from AnyNetXA to RegNet. Round 1 ranks "
    "every constraint of the catalog (a shared b or g, widths or depths that grow, b = 1, a "
    "range of total depth or of a width, the quantized linear width rule, a stage count) by "
    "the evidence in the population of --space in RESULTS: the partial rank correlation "
    "between how close each model comes to satisfying the constraint and its error, with "
    "flops held fixed, Holm over all candidates (no resampling: the verdicts do not depend on "
    "a seed). At most one constraint is adopted per round, the best supported. With --confirm "
    "N it is then tested on N fresh models of the refined space against N fresh models of the "
    "parent, trained with the population's own training settings (a resumable sweep in "
    "DIR/round-<k>/confirm); it stays adopted only if the fresh models confirm it, and the "
    "next round starts from the refined space's fresh models. The loop stops at --rounds, at "
    "a round where nothing is supported, or at the first confirmation that fails.\n"
    "DIR gets candidates.csv (every round's candidates; columns constraint, verdict, rho, "
    "p_adjusted, share_kept, adopted, ...), rounds.csv, refined.yaml (the space with every "
    "kept constraint: designspace sample --space DIR/refined.yaml), log.md (the loop in "
    "words), report.md and round-<k>/ (candidates, both spaces, the comparison, the balance "
    "of the two arms and their EDF plot). Rerunning the same command resumes."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from designspace.commands.sweep import add_placement_arguments

    p = sub.add_parser(
        "refine",
        help="find, adopt and confirm constraints that make a space better (the DDS loop)",
        description=DESCRIPTION,
        epilog=examples(
            (
                "designspace refine results/fmnist-small-progression --space AnyNetXA "
                "--out runs/refine-xa",
                "rank the constraints for AnyNetXA by the evidence in its 100 trained models "
                "(in-sample only: nothing is trained)",
            ),
            (
                "designspace refine results/fmnist-small-progression --space AnyNetXA "
                "--out runs/refine-xa --confirm 50 --rounds 3 --executor local",
                "up to three rounds, each confirmed on 50 + 50 fresh models (rerun to resume)",
            ),
            (
                "designspace refine runs/my-study --space my-space.yaml --out runs/refine-mine "
                "--confirm 100 --budget 2h",
                "confirm on 100 models per arm, starting no training after two hours",
            ),
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("results", help="results folder written by designspace sweep or study")
    p.add_argument(
        "--space",
        required=True,
        metavar="NAME",
        help="the space to refine: a built-in name or a space file whose models RESULTS holds",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (new, or refine's)")
    p.add_argument(
        "--confirm",
        type=int,
        metavar="N",
        help="confirm each adopted constraint on N fresh models per arm (at least 50); "
        "default: in-sample ranking only",
    )
    p.add_argument(
        "--rounds", type=int, default=1, metavar="R", help="at most R rounds (default 1)"
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="level of the in-sample family and of each confirmation (default 0.05)",
    )
    p.add_argument("--metric", default="val_top1_err", help="error column (default val_top1_err)")
    p.add_argument(
        "--seed",
        type=int,
        default=1000,
        help="sampling seed of round 1's fresh models; round k uses SEED + k - 1; must differ "
        "from the population's (default 1000)",
    )
    p.add_argument(
        "--budget",
        metavar="DURATION",
        help="training time all confirmations may use, e.g. 30m or 2h; no model starts after "
        "it (rerun to resume)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    add_placement_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from designspace.commands.sweep import placement_from_args, placement_values
    from designspace.studies.budget import parse_duration
    from designspace.studies.refine import RefineSettings, refine

    budget = parse_duration(args.budget) if args.budget is not None else None
    settings = RefineSettings(
        confirm=args.confirm,
        rounds=args.rounds,
        alpha=args.alpha,
        metric=args.metric,
        seed=args.seed,
        budget=budget,
    )
    if settings.confirm is not None:
        placement_from_args(args)  # the executor says now whether it can run here
    result = refine(
        args.results,
        args.space,
        args.out,
        settings,
        placement_overrides=placement_values(args),
        progress=not args.no_progress,
        say=lambda line: print(line, flush=True),
    )
    kept = [r.adopted.id for r in result.rounds if r.kept and r.adopted is not None]
    print(
        f"\nfinal space {result.final.name}: {', '.join(kept) or 'no constraint adopted'}\n"
        f"candidates: {result.out / 'candidates.csv'}\nrefined space: "
        f"{result.out / 'refined.yaml'}\nlog: {result.out / 'log.md'}"
    )
    return 0
