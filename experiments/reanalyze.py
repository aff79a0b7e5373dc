"""Re-analyse the committed studies with the adjusted statistics; old verdict next to new.

Reads results/fmnist-progression/results and results/fmnist-exercises/results (committed
parquet data sets), recomputes every claim of the README's findings with
:mod:`designspace.analysis` (Holm-adjusted Brunner-Munzel comparisons of P(a beats b) whose
verdicts agree with their printed intervals, effect sizes and equivalence,
nested-step rules with sensitivity, within-space observational evidence, preferences) and
writes one markdown table per study. Nothing is trained.

Run:
    python experiments/reanalyze.py --out scratch/stats-verdicts.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SEED = 0
# The report's own default (designspace analyze), so that verdicts.md and the committed
# pairwise.csv / rules_nested.csv are the same computation and give the same numbers.
N_BOOT = 10_000


def pair_row(pairs: pd.DataFrame, a: str, b: str) -> dict:
    """The pair (a, b) oriented so that the verdict and effects read "a relative to b"."""
    p = pairs[(pairs["a"] == a) & (pairs["b"] == b)]
    if len(p):
        r = p.iloc[0].to_dict()
        return r
    r = pairs[(pairs["a"] == b) & (pairs["b"] == a)].iloc[0].to_dict()
    flip = {"better": "worse", "worse": "better"}
    return dict(
        r,
        a=a,
        b=b,
        verdict=flip.get(r["verdict"], r["verdict"]),
        median_diff=-r["median_diff"],
        median_diff_low=-r["median_diff_high"],
        median_diff_high=-r["median_diff_low"],
        p_a_beats_b=1 - r["p_a_beats_b"],
        p_a_beats_b_low=1 - r["p_a_beats_b_high"],
        p_a_beats_b_high=1 - r["p_a_beats_b_low"],
        n_a=r["n_b"],
        n_b=r["n_a"],
        diff_over_noise=-r["diff_over_noise"],
    )


def fmt_pair(r: dict) -> tuple[str, str, str, str]:
    eff = (
        f"P(beats) {r['p_a_beats_b']:.2f} [{r['p_a_beats_b_low']:.2f}, "
        f"{r['p_a_beats_b_high']:.2f}]; median {r['median_diff']:+.4f} "
        f"[{r['median_diff_low']:+.4f}, {r['median_diff_high']:+.4f}]"
    )
    p = f"BM {r['p_value']:.2g} -> {r['p_adjusted']:.2g} (KS {r['p_ks']:.2g})"
    if r["verdict"] in ("indistinguishable", "equivalent"):
        p += f"; TOST {r['p_equivalence_adjusted']:.2g}"
    return r["verdict"], p, eff, f"{r['n_a']} + {r['n_b']}"


def fmt_rule(r: pd.Series) -> tuple[str, str, str, str]:
    if r["verdict"] == "not testable":  # a step whose spaces the study does not hold
        return "not measured", "-", NOT_MEASURED, f"{r['n_from']} + {r['n_to']}"
    v = f"{r['verdict']} ({r['sensitivity']})"
    p = f"BM {r['p_value']:.2g} -> {r['p_adjusted']:.2g} (KS {r['p_ks']:.2g})"
    if str(r.name).startswith("shared"):
        p += f"; TOST {r['p_equivalence_adjusted']:.2g}"
    eff = (
        f"P(beats) {r['p_beats']:.2f} [{r['p_beats_low']:.2f}, {r['p_beats_high']:.2f}]; "
        f"median {r['effect']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]"
    )
    return v, p, eff, f"{r['n_from']} + {r['n_to']}"


def steps(data: pd.DataFrame) -> tuple[object, pd.DataFrame]:
    """The comparison against AnyNetXA (all pairs, Holm) and the nested steps (by rule)."""
    from designspace.analysis import Inference, compare, nested_rules

    inference = Inference()
    cmp = compare(data, reference="AnyNetXA", inference=inference)
    return cmp, nested_rules(data, inference=inference).set_index("rule")


def progression(path: Path) -> tuple[list[tuple], dict[str, pd.DataFrame]]:
    from designspace.analysis import (
        add_features,
        load_results,
        observational_rules,
        preferences,
    )

    data = load_results(path)
    cmp, nested = steps(data)
    feats = add_features(data)
    obs = observational_rules(feats)
    prefs = preferences(feats)
    xe = feats[feats["space"] == "AnyNetXE"]
    prefs_xe = preferences(xe, by=None)
    pr = lambda a, b: fmt_pair(pair_row(cmp.pairs, a, b))  # noqa: E731
    rows = [
        ("A vs B indistinguishable", "indistinguishable (KS p 0.85)", *pr("AnyNetXB", "AnyNetXA")),
        ("B vs C indistinguishable", "indistinguishable (KS p 0.85)", *pr("AnyNetXC", "AnyNetXB")),
        ("A vs C indistinguishable", "indistinguishable (KS p 0.37)", *pr("AnyNetXC", "AnyNetXA")),
        (
            "sharing b costs nothing (A -> B)",
            "costs nothing measurable",
            *fmt_rule(nested.loc["shared_b"]),
        ),
        (
            "sharing g costs nothing (B -> C)",
            "costs nothing measurable",
            *fmt_rule(nested.loc["shared_g"]),
        ),
        ("D better than C", "better (KS p 0.009)", *pr("AnyNetXD", "AnyNetXC")),
        (
            "growing widths lower the error (C -> D)",
            "supported (pooled regression -0.0165, Holm p 0.0002)",
            *fmt_rule(nested.loc["widths_increase"]),
        ),
        ("E not better than D", "indistinguishable (KS p 0.69)", *pr("AnyNetXE", "AnyNetXD")),
        (
            "growing depths (D -> E)",
            "no significant effect (pooled regression, Holm p 0.28)",
            *fmt_rule(nested.loc["depths_increase"]),
        ),
        ("D vs A", "nearly better (KS p 0.059)", *pr("AnyNetXD", "AnyNetXA")),
        ("E better than A", "better (KS p 0.0004)", *pr("AnyNetXE", "AnyNetXA")),
        ("RegNetX better than A", "better (KS p 0.0002)", *pr("RegNetX", "AnyNetXA")),
        ("RegNetX matches E", "matches (KS p 0.25)", *pr("RegNetX", "AnyNetXE")),
        (
            "near-linear widths (E -> NestedRegNetX)",
            "strongest rule: low e_fit lowers the error (pooled, -0.034, Holm p 3e-10)",
            *fmt_rule(nested.loc["linear_widths"]),
        ),
    ]
    for space in ("AnyNetXE", "AnyNetXD"):
        o = obs[(obs["rule"] == "linear_widths") & (obs["space"] == space)].iloc[0]
        rows.append(
            (
                f"within {space}: error rises with e_fit (observational)",
                "Spearman 0.73 (XE)" if space == "AnyNetXE" else "-",
                f"{o['verdict']} ({o['sensitivity']})",
                f"Spearman (Fisher z) p {o['p_value']:.2g} -> {o['p_adjusted']:.2g}",
                f"rho {o['effect']:+.3f} [{o['ci_low']:+.3f}, {o['ci_high']:+.3f}]",
                str(o["n_with"]),
            )
        )
    for _, p in prefs.iterrows():
        rows.append(
            (
                f"best 25% prefer {p['column']} (within each space)",
                "none beats chance"
                if p["column"] != "b"
                else "b = 1 is XE's best value; not significant",
                f"{p['verdict']} ({p['direction']})",
                f"perm. p {p['p_value']:.2g} -> {p['p_adjusted']:.2g}",
                f"shift {p['shift']:+.3f} [{p['shift_low']:+.3f}, {p['shift_high']:+.3f}]; "
                f"DDS range [{p['range_low']:.3g}, "
                f"{p['range_high']:.3g}] best {p['range_best']:.3g}",
                str(p["n"]),
            )
        )
    for _, p in prefs_xe.iterrows():
        rows.append(
            (
                f"AnyNetXE good range of {p['column']}",
                {
                    "b": "1-4 (best 1)",
                    "g": "2-16 (best 4)",
                    "depth": "18-44 (best 25)",
                    "wm": "1.94-2.97",
                }[p["column"]],
                f"{p['verdict']} ({p['direction']})",
                f"perm. p {p['p_value']:.2g} -> {p['p_adjusted']:.2g}",
                f"shift {p['shift']:+.3f} [{p['shift_low']:+.3f}, {p['shift_high']:+.3f}]; "
                f"DDS range [{p['range_low']:.3g}, {p['range_high']:.3g}] best "
                f"{p['range_best']:.3g}; seeds: best {p['best_min']:.3g}-{p['best_max']:.3g}",
                str(p["n"]),
            )
        )
    return rows, {
        "pairs": cmp.pairs,
        "nested": nested.reset_index(),
        "steps": (cmp.pairs, nested),
        "observational": obs,
        "preferences": prefs,
    }


def exercises(path: Path) -> tuple[list[tuple], dict[str, pd.DataFrame]]:
    from designspace.analysis import Inference, compare, load_results

    data = load_results(path)
    cmp = compare(data, reference="AnyNetXE", inference=Inference())
    pr = lambda a, b: fmt_pair(pair_row(cmp.pairs, a, b))  # noqa: E731
    rows = [
        ("RegNetX-2stage vs AnyNetXE", "worse (KS p 6e-14)", *pr("RegNetX-2stage", "AnyNetXE")),
        (
            "RegNetX-4stage vs AnyNetXE",
            "indistinguishable (KS p 0.14)",
            *pr("RegNetX-4stage", "AnyNetXE"),
        ),
        (
            "AnyNetBasicE vs AnyNetXE",
            "indistinguishable, 'no loss' (KS p 0.068)",
            *pr("AnyNetBasicE", "AnyNetXE"),
        ),
        ("VioNet vs AnyNetXE", "worse (KS p 8e-7)", *pr("VioNet", "AnyNetXE")),
        ("4 stages vs 2 stages", "better, KS 1.0", *pr("RegNetX-4stage", "RegNetX-2stage")),
    ]
    return rows, {"pairs": cmp.pairs}


# the paper's claims along the progression (DDS section 3): (claim, nested step or pair, kind)
CLAIMS = (
    ("sharing b costs nothing (A -> B)", "shared_b", "rule"),
    ("sharing g costs nothing (B -> C)", "shared_g", "rule"),
    ("growing widths improve (C -> D)", "widths_increase", "rule"),
    ("growing depths improve (D -> E)", "depths_increase", "rule"),
    ("near-linear widths improve (E -> NestedRegNetX)", "linear_widths", "rule"),
    ("b = 1 improves (NestedRegNetX -> _b1)", "regnet_b1", "rule"),
    ("wm >= 2 improves (_b1 -> _b1_wm2)", "regnet_wm2", "rule"),
    ("depth 12..28 costs nothing (_b1_wm2 -> _d12_28)", "regnet_depth", "rule"),
    ("AnyNetXE better than AnyNetXA", ("AnyNetXE", "AnyNetXA"), "pair"),
    (
        "RegNetX (nested, refined) better than AnyNetXA",
        ("NestedRegNetX_b1_wm2_d12_28", "AnyNetXA"),
        "pair",
    ),
)
NOT_MEASURED = (
    "not measured: no nested RegNet arm in this study (its RegNetX arm is not nested in "
    "AnyNetXE and is superseded)"
)


def claim_cell(pairs: pd.DataFrame, nested: pd.DataFrame, what: object) -> str:
    """One study's evidence on one claim: verdict, effect with adjusted interval, adjusted p
    (and TOST for the 'costs nothing' steps), n."""
    if isinstance(what, tuple):
        names = set(pairs["a"]) | set(pairs["b"])
        if not set(what) <= names:
            return NOT_MEASURED
        r = pair_row(pairs, *what)
        return (
            f"{r['verdict']}: median {r['median_diff']:+.4f} [{r['median_diff_low']:+.4f}, "
            f"{r['median_diff_high']:+.4f}], Holm p {r['p_adjusted']:.2g} (n {r['n_a']} + "
            f"{r['n_b']})"
        )
    if what not in nested.index or nested.loc[what, "verdict"] == "not testable":
        return NOT_MEASURED
    r = nested.loc[what]
    text = (
        f"{r['verdict']} ({r['sensitivity']}): median {r['effect']:+.4f} "
        f"[{r['ci_low']:+.4f}, {r['ci_high']:+.4f}], Holm p {r['p_adjusted']:.2g}"
    )
    if str(what).startswith("shared") or what == "linear_widths":
        text += f", TOST p {r['p_equivalence_adjusted']:.2g}"
    return text + f" (n {r['n_from']} + {r['n_to']})"


def regimes(studies: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> str:
    """The paper's claims in each study (columns) from its (pairs, nested steps) tables."""
    cols = {
        name: [claim_cell(pairs, nested, what) for _, what, _ in CLAIMS]
        for name, (pairs, nested) in studies.items()
    }
    head = "| the paper's claim | " + " | ".join(cols) + " |\n"
    head += "|---" * (len(cols) + 1) + "|\n"
    body = "\n".join(
        f"| {claim} | " + " | ".join(c[i] for c in cols.values()) + " |"
        for i, (claim, _, _) in enumerate(CLAIMS)
    )
    return head + body + "\n"


def table(rows: list[tuple]) -> str:
    head = (
        "| claim | old verdict (README) | new verdict | p raw -> Holm-adjusted | "
        "effect [adjusted interval] | n |\n|---|---|---|---|---|---|\n"
    )
    return head + "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows) + "\n"


def per_space(pairs: pd.DataFrame) -> str:
    """Models per space in a pairs table ("100", or "60-61" while a study is unfinished)."""
    counts = pd.concat([pairs["n_a"], pairs["n_b"]])
    lo, hi = int(counts.min()), int(counts.max())
    return str(lo) if lo == hi else f"{lo}-{hi}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="markdown file to write (default: print)")
    args = ap.parse_args()
    prog, ptabs = progression(ROOT / "results/fmnist-progression/results")
    exer, etabs = exercises(ROOT / "results/fmnist-exercises/results")
    from designspace.analysis import load_results

    # the small regime's progression with its nested RegNet arm (fmnist-small-regnet); the
    # old RegNetX arm is in the data but in no nested step
    small, small_nested = steps(
        load_results(
            [
                ROOT / "results/fmnist-small-progression/results",
                ROOT / "results/fmnist-small-regnet/results",
            ]
        )
    )
    # the 28-px progression with its nested RegNet arm (fmnist-regnet) where it has been run
    nested_28 = ROOT / "results/fmnist-regnet/results"
    big = ptabs["steps"]
    if nested_28.is_dir():
        cmp28, nested28 = steps(
            load_results([ROOT / "results/fmnist-progression/results", nested_28])
        )
        big = (cmp28.pairs, nested28)
    claims = regimes(
        {
            "28 px, stride-2 stem (stages 7/4/2/1 px), 48 per space": big,
            f"28 px, stride-1 stem (stages 14/7/4/2 px), {per_space(small.pairs)} per space": (
                small.pairs,
                small_nested,
            ),
        }
    )
    text = (
        "# New verdicts for the committed studies (generated by experiments/reanalyze.py)\n\n"
        "Deciding test: Brunner-Munzel (BM) on P(a random model of the first beats one of the "
        "second), Holm-adjusted over each family (15 progression pairs; 10 exercise pairs; the "
        "nested steps; the preference columns; the observational rows); KS p (raw) is shown "
        "as the EDF-shape statistic and decides nothing. Intervals at the matching Bonferroni "
        "level: P(beats) by the BM test inverted, difference of medians (first minus second; "
        "negative = first better) from the order-statistic standard errors of the two medians "
        "(Price-Bonett; asymptotic, no resampling). "
        "A better/worse (supported/contradicted) verdict needs the adjusted p below 0.05 AND "
        "both intervals excluding no effect on that side; 'indistinguishable' / 'not "
        "supported' needs neither; anything between is 'inconclusive'. Equivalence (margin "
        "0.005): TOST adjusted and the median interval inside +-0.005. Preferences: "
        "within-stratum permutation test of the shift (normal approximation with its exact "
        "permutation moments) and the test inverted as its interval (same rule). "
        "Sensitivity: robust / fragile under KS in place of BM and without Tukey outliers."
        "\n\n## fmnist-progression (6 spaces x 48 models)\n\n"
        + table(prog)
        + "\n## fmnist-exercises (5 spaces x 24 models, reference AnyNetXE)\n\n"
        + table(exer)
        + "\n## The paper's claims in both regimes (fmnist-progression + fmnist-regnet vs "
        "fmnist-small-progression + fmnist-small-regnet)\n\n"
        "Each step is the nested pair of spaces that differ only by the constraint (median = "
        "error of the later space minus the earlier; negative = the constraint helps), Holm "
        "over the nested steps each study has (8 with its nested RegNet arm: fmnist-regnet at "
        "28 px, fmnist-small-regnet in the small regime); the pairs are Holm over all pairs of "
        "each study. TOST: "
        "equivalence within 0.005.\n\n"
        + claims
        + "\n## Full tables\n\n### progression pairs\n\n"
        + ptabs["pairs"].to_markdown(index=False, floatfmt=".4g")
        + "\n\n### progression nested steps\n\n"
        + ptabs["nested"]
        .drop(columns=["sentence", "claim"])
        .to_markdown(index=False, floatfmt=".4g")
        + "\n\n### progression observational (within space)\n\n"
        + ptabs["observational"].drop(columns=["sentence"]).to_markdown(index=False, floatfmt=".4g")
        + "\n\n### exercise pairs\n\n"
        + etabs["pairs"].to_markdown(index=False, floatfmt=".4g")
        + "\n"
    )
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
