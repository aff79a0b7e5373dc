"""Rejection sampling: the analytic counter against the same loop counting with fvcore.

Figure: seconds per ACCEPTED configuration (flops in the regime's band, default AnyNetXE in
the papers' 224 px / 360-400MF regime), both measured in this one run. Target: fvcore >= 1000x
slower (issue 2).

* Analytic: ``designspace.sample(space, N, seed)``, the project's sampler (candidates drawn in
  batches and counted by the vectorized analytic counter); median wall time over seeds / N.
  A per-candidate loop calling the scalar ``complexity(arch, resolution)`` on the same
  candidate stream is timed too and printed as the like-for-like figure.
* fvcore: the same candidate stream, one candidate at a time: build the model and count it
  with ``count_fvcore(arch, resolution)`` (the model is built without the reference init,
  which only makes this baseline faster, then traced by fvcore at the regime's resolution),
  keep it when its flops lie in the band. The loop is bounded (until
  ``--fvcore-accepted`` configurations are accepted or ``--fvcore-seconds`` pass), so per
  accepted configuration it is extrapolated from the measured mean seconds per counted
  candidate x candidates counted per accepted configuration, the latter from the analytic
  run over the same distribution (draws per accepted x fraction of draws that are valid,
  distinct networks; invalid draws are rejected without building anything). When the bounded
  loop did accept some, its direct figure (elapsed / accepted) is printed as well.

The candidate stream is ``sample(space, M, seed, flops=(0, 1e30))``: the space's own draws
with only the band removed, so it is exactly what the rejection loop sees before the band test.
Prints ``RESULT name=.. value=.. baseline=.. ratio=.. target=..`` (value = analytic s per
accepted config, baseline = fvcore s per accepted config, ratio = baseline / value). Run on a
quiet machine; ``--quick`` shrinks everything to check that the script works.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default="AnyNetXE")
    ap.add_argument("--regime", default="imagenet")
    ap.add_argument("-n", type=int, default=500, help="accepted configs per analytic run")
    ap.add_argument("--seeds", type=int, default=5, help="analytic runs (median is reported)")
    ap.add_argument("--fvcore-accepted", type=int, default=3, help="stop the fvcore loop here")
    ap.add_argument("--fvcore-seconds", type=float, default=60.0, help="or after this long")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: as is)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: check the script works")
    args = ap.parse_args()
    if args.quick:
        args.n, args.seeds, args.fvcore_accepted, args.fvcore_seconds = 50, 2, 1, 10.0

    import torch

    from designspace.core.complexity import complexity
    from designspace.core.regimes import get_regime
    from designspace.core.sampling import sample
    from designspace.training.counting import count_fvcore

    if args.threads:
        torch.set_num_threads(args.threads)
    regime = get_regime(args.regime)
    lo, hi = regime.flops
    res = regime.resolution

    # ---- analytic: the project's sampler
    sample(args.space, 10, seed=1000, regime=regime)  # warm numpy's first-call costs
    times, rates = [], []
    for seed in range(args.seeds):
        t = time.perf_counter()
        s = sample(args.space, args.n, seed=seed, regime=regime)
        times.append(time.perf_counter() - t)
        rates.append(s.draws / len(s.archs))
    analytic_s = statistics.median(times) / args.n
    draws_per_accepted = statistics.mean(rates)

    # ---- the candidate stream (band removed) for both per-candidate loops
    stream_n = 200 if args.quick else 2000
    stream = sample(args.space, stream_n, seed=10_000, regime=regime, flops=(0, 1e30))
    valid_fraction = len(stream.archs) / stream.draws
    counted_per_accepted = draws_per_accepted * valid_fraction

    t = time.perf_counter()
    accepted_scalar = 0
    for arch in stream.archs:
        accepted_scalar += lo <= complexity(arch, res).flops <= hi
    scalar_per_candidate = (time.perf_counter() - t) / len(stream.archs)
    scalar_s = scalar_per_candidate * counted_per_accepted

    # ---- fvcore: build + count per candidate, bounded
    count_fvcore(stream.archs[0], res)  # warm-up (imports, first trace), not timed
    counted = accepted = 0
    t0 = time.perf_counter()
    for arch in stream.archs[1:]:
        c = count_fvcore(arch, res)
        counted += 1
        accepted += lo <= c.flops <= hi
        elapsed = time.perf_counter() - t0
        if accepted >= args.fvcore_accepted or elapsed >= args.fvcore_seconds:
            break
    elapsed = time.perf_counter() - t0
    fvcore_per_candidate = elapsed / counted
    fvcore_s = fvcore_per_candidate * counted_per_accepted

    print(
        f"space {args.space}, regime {regime.name} ({res} px, flops {lo:.4g}..{hi:.4g}), "
        f"torch threads {torch.get_num_threads()}"
    )
    print(
        f"acceptance: {1 / draws_per_accepted:.3%} of draws ({draws_per_accepted:.1f} draws per "
        f"accepted config); {valid_fraction:.1%} of draws are valid distinct networks -> "
        f"{counted_per_accepted:.1f} counted candidates per accepted config"
    )
    print(
        f"analytic sampler: median {statistics.median(times):.3f} s for {args.n} accepted "
        f"({args.seeds} seeds) = {analytic_s * 1e6:.1f} us per accepted config"
    )
    print(
        f"analytic scalar loop: {scalar_per_candidate * 1e6:.1f} us per candidate "
        f"x {counted_per_accepted:.1f} = {scalar_s * 1e3:.2f} ms per accepted config"
    )
    print(
        f"fvcore loop: {counted} candidates counted in {elapsed:.1f} s "
        f"({fvcore_per_candidate:.3f} s each), {accepted} accepted; extrapolated "
        f"{fvcore_per_candidate:.3f} s x {counted_per_accepted:.1f} = {fvcore_s:.1f} s per "
        f"accepted config"
    )
    if accepted:
        print(f"fvcore loop, direct: {elapsed / accepted:.1f} s per accepted config")
    print(
        f"speed-up per accepted config: sampler {fvcore_s / analytic_s:,.0f}x, "
        f"scalar loop {fvcore_s / scalar_s:,.0f}x (target >= 1000x)"
    )
    print(
        f"RESULT name=sampling_analytic_vs_fvcore_s_per_accepted value={analytic_s:.3g} "
        f"baseline={fvcore_s:.3g} ratio={fvcore_s / analytic_s:.0f} target=>=1000"
    )


if __name__ == "__main__":
    main()
