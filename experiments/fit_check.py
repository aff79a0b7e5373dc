"""How close is the RegNet fit to the optimum? The search against a dense brute force on
every distinct architecture of the committed studies.

For each distinct per-block width profile of the given result folders, fits the quantized
linear rule with :func:`designspace.analysis.fit.fit_block_widths` (the search every analysis
uses) and with :func:`designspace.analysis.fit.dense_search` (every w0 <= T x ``--n-wm`` wm
values over the model's provable range, the slope solved exactly), and reports on how many
models the brute force finds a lower e_fit and by how much (the search can also be lower:
the brute force's wm grid misses cells narrower than its step). Resumable: rows already in
``models.csv`` are kept.

Run (about 3 minutes on 2 cores for the 984 architectures of the three committed studies):
    python experiments/fit_check.py
Writes ``--out`` (default results/fit-check): models.csv (one row per distinct profile:
study, depth d, widths, e_fit of both and their parameters) and summary.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ("fmnist-progression", "fmnist-exercises", "fmnist-small-progression")


def profiles(folders: list[Path]) -> pd.DataFrame:
    """Distinct per-block width profiles (JSON list of channels) with the first study that
    has each."""
    from designspace.analysis._data import block_widths
    from designspace.formats.results import load_results

    rows = []
    for folder in folders:
        for w in block_widths(load_results(folder)):
            rows.append({"study": folder.parent.name, "widths": json.dumps([int(x) for x in w])})
    return pd.DataFrame(rows).drop_duplicates("widths").reset_index(drop=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--results",
        nargs="+",
        type=Path,
        default=[ROOT / "results" / s / "results" for s in STUDIES],
        help="result folders (default: the three committed Fashion-MNIST studies)",
    )
    ap.add_argument("--n-wm", type=int, default=2000, help="wm values of the brute force (2000)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "fit-check")
    args = ap.parse_args()

    from designspace.analysis.fit import dense_search, fit_block_widths
    from designspace.errors import DesignSpaceError

    try:
        todo = profiles(args.results)
    except DesignSpaceError as exc:
        print(f"fit_check: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / "models.csv"
    done = pd.read_csv(table) if table.exists() else pd.DataFrame(columns=["widths"])
    todo = todo[~todo["widths"].isin(done["widths"])]
    print(f"{len(todo)} profiles to check ({len(done)} already in {table})", flush=True)
    start = time.perf_counter()
    rows = done.to_dict("records")
    for i, r in enumerate(todo.itertuples(), 1):
        w = np.array(json.loads(r.widths), dtype=float)
        fit = fit_block_widths([w]).iloc[0]
        b0, ba, bm, be = dense_search(w, n_wm=args.n_wm)
        rows.append(
            {
                "study": r.study,
                "d": w.size,
                "widths": r.widths,
                "e_fit": fit["e_fit"],
                "fit_w0": fit["fit_w0"],
                "fit_wa": fit["fit_wa"],
                "fit_wm": fit["fit_wm"],
                "e_dense": be,
                "dense_w0": b0,
                "dense_wa": ba,
                "dense_wm": bm,
            }
        )
        if i % 25 == 0 or i == len(todo):
            pd.DataFrame(rows).to_csv(table, index=False)
            print(f"{i}/{len(todo)} ({time.perf_counter() - start:.0f} s)", flush=True)
    frame = pd.DataFrame(rows)
    gap = frame["e_fit"] - frame["e_dense"]
    worse, better = gap > 1e-9, gap < -1e-9
    lines = [
        "# RegNet fit vs a dense brute force",
        "",
        f"Command: `python experiments/fit_check.py --n-wm {args.n_wm}` (numpy {np.__version__}).",
        "",
        "| study | distinct profiles | brute force lower | by at most | search lower |",
        "|---|---|---|---|---|",
    ]
    for study, part in frame.groupby("study", sort=False):
        g = part["e_fit"] - part["e_dense"]
        lines.append(
            f"| {study} | {len(part)} | {int((g > 1e-9).sum())} | {max(0.0, g.max()):.4f} | "
            f"{int((g < -1e-9).sum())} |"
        )
    lines.append(
        f"| all | {len(frame)} | {int(worse.sum())} | {max(0.0, gap.max()):.4f} | "
        f"{int(better.sum())} |"
    )
    lines += [
        "",
        f"Median e_fit {frame['e_fit'].median():.4f}; median gap where the brute force is "
        f"lower: {gap[worse].median() if worse.any() else 0.0:.4f}.",
    ]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
