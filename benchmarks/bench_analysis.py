"""Analysis speed: the DDS good-range bootstrap and fitting the RegNet rule to many models.

Targets (issue 5): 10^4 bootstrap resamples over 500 models in under 1 s; fitting (w0, wa, wm)
to 500 models' per-block widths in under 10 s (issue 10: over each model's provably sufficient
range, wm up to 1.01 max(T / q, x_d), see designspace/analysis/fit.py). The baseline in the
same run is the dense brute force that the search stands in for (every w0 <= T, 1500 wm
values, the slope solved exactly), timed on the first ``--brute`` models and scaled to 500;
the script also counts the models on which the brute force finds a lower e_fit. Also timed:
compare() of 6 spaces x 48 models (15 Holm-adjusted pairs with 2000 bootstrap resamples
each), against the 1 s it may take in a report. The fitted population is AnyNetXA-like
(4 stages, d_i in 1..16, widths log-uniform multiples of 8 in 8..1024), the kind DDS fits.
``--quick`` fits 100 models and scales the time to 500. Prints RESULT lines for run_all.py.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def anynet_block_widths(n: int, seed: int = 0) -> list[np.ndarray]:
    """Per-block widths of ``n`` random AnyNetXA-like 4-stage networks."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        d = rng.integers(1, 17, size=4)
        w = np.maximum(8, np.round(np.exp(rng.uniform(np.log(8), np.log(1024), 4)) / 8) * 8)
        out.append(np.repeat(w, d))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fit 100 models and scale to 500")
    ap.add_argument(
        "--brute", type=int, default=10, help="models timed with the dense brute force (10)"
    )
    args = ap.parse_args()

    from designspace.analysis import fit_block_widths, good_range
    from designspace.analysis.fit import dense_search

    rng = np.random.default_rng(0)
    stat, err = rng.integers(4, 64, 500).astype(float), rng.random(500)
    good_range(stat, err, n_boot=100)  # warm numpy's first-call costs
    times = []
    for seed in range(5):
        t = time.perf_counter()
        good_range(stat, err, n_boot=10_000, seed=seed)
        times.append(time.perf_counter() - t)
    boot = statistics.median(times)
    print(f"good range, 10^4 resamples x 500 models: median {boot:.3f} s of 5")

    n = 100 if args.quick else 500
    widths = anynet_block_widths(n)
    fit_block_widths(widths[:5])  # warm up
    t = time.perf_counter()
    fits = fit_block_widths(widths)
    fit = (time.perf_counter() - t) * 500 / n
    t = time.perf_counter()
    brute = [dense_search(w)[3] for w in widths[: args.brute]]
    brute_s = (time.perf_counter() - t) * 500 / args.brute
    lower = int(sum(b < e - 1e-12 for b, e in zip(brute, fits["e_fit"], strict=False)))
    print(
        f"dense brute force (every w0 <= T, 1500 wm, exact slope) on {args.brute} models, "
        f"scaled to 500: {brute_s:.1f} s; search / brute = {fit / brute_s:.3f}; the brute "
        f"force finds a lower e_fit on {lower} of {args.brute} (largest gap "
        f"{max(0.0, max(e - b for b, e in zip(brute, fits['e_fit'], strict=False))):.4f})"
    )
    print(
        f"RegNet fit of {n} AnyNetXA-like models: {fit * n / 500:.2f} s"
        f"{' (scaled to 500: ' + f'{fit:.2f} s)' if n != 500 else ''}; "
        f"median e_fit {fits['e_fit'].median():.3f}; flagged at the lower wm limit "
        f"{fits['fit_at_edge'].mean():.0%}"
    )
    import pandas as pd

    from designspace.analysis import Inference, compare

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "space": np.repeat([f"S{i}" for i in range(6)], 48),
            "val_top1_err": rng.normal(0.22, 0.02, 288),
            "status": "ok",
        }
    )
    compare(frame, inference=Inference(n_boot=200))  # warm up
    t = time.perf_counter()
    compare(frame)
    cmp_s = time.perf_counter() - t
    print(f"compare(), 6 spaces x 48 models, 15 pairs, 2000 resamples: {cmp_s:.2f} s")
    print(
        f"RESULT name=compare_6x48_s value={cmp_s:.3f} baseline=1.0 ratio={cmp_s:.3f} target=<=1.0"
    )
    print(
        f"RESULT name=good_range_1e4x500_s value={boot:.3f} baseline=1.0 "
        f"ratio={boot / 1.0:.3f} target=<=1.0"
    )
    print(
        f"RESULT name=regnet_fit_500_s value={fit:.2f} baseline=10.0 "
        f"ratio={fit / 10.0:.3f} target=<=1.0"
    )
    print(
        f"RESULT name=regnet_fit_vs_brute value={fit:.2f} baseline={brute_s:.1f} "
        f"ratio={fit / brute_s:.4f} target=(comparison)"
    )


if __name__ == "__main__":
    main()
