"""The architectures of a seed-replicate noise floor, taken from committed studies (issue 19,
item 5): the first ``--per-space`` models (by sample index) of every space of each results
folder, as a samples table that ``designspace replicate --samples`` trains once per seed.

    .venv/bin/python experiments/noise_samples.py \
        results/fmnist-small-progression results/fmnist-small-regnet \
        --skip RegNetX --per-space 3 --out experiments/fmnist-small-noise-samples.csv

Size (stated in README): with the seed-to-seed sd of the small regime's benchmark (24
architectures, seeds 0 and 1: mean |difference| 0.0098, so the sd of a difference is
0.0098 x sqrt(pi / 2) = 0.0123), a paired test detects a 0.01 shift between two seeds with 80%
power at level 0.05 on ((1.96 + 0.84) x 0.0123 / 0.01)^2 = 11.9, i.e. 12 architectures (13 for
the signed-rank test, efficiency 0.955); 3 per space over 9 spaces = 27 architectures, 3 seeds
each, give 54 degrees of freedom for the pooled sd.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from designspace.analysis.load import load_results

COLUMNS = ["space", "regime", "sample_seed", "sample_index", "arch_id", "arch_json", "flops"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="committed results folders")
    ap.add_argument("--per-space", type=int, default=3)
    ap.add_argument("--skip", nargs="*", default=[], help="spaces to leave out")
    ap.add_argument("--out", required=True, help="the samples table (.csv)")
    args = ap.parse_args()
    frames = []
    for folder in args.results:
        d = load_results(folder)
        d = d[(d["status"] == "ok") & ~d["space"].isin(args.skip)]
        d = d.sort_values(["space", "sample_index"]).groupby("space").head(args.per_space)
        frames.append(d[COLUMNS])
    table = pd.concat(frames, ignore_index=True)
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists; choose a new name")
    table.to_csv(out, index=False)
    print(f"{len(table)} architectures of {table['space'].nunique()} spaces -> {out}")


if __name__ == "__main__":
    main()
