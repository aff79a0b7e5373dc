"""Render README's findings tables from the committed analysis tables, and keep them in sync.

    python experiments/readme_findings.py --check    # exit 1 when a README block is stale
    python experiments/readme_findings.py --write    # rewrite the blocks in README.md
    python experiments/readme_findings.py            # print every block

Each finding the README states is one row of a table that ``designspace analyze`` wrote
(``experiments/analyses.py`` lists the commands): a nested step of ``rules_nested.csv`` (key:
its rule), a pair of ``pairwise.csv`` (key: "a vs b", oriented as the claim reads), a
within-space row of ``rules_observational.csv`` (key: "rule in space") or a column of
``preferences.csv`` (key: the column). The README carries these tables between markers
``<!-- findings:NAME -->`` and ``<!-- /findings:NAME -->``; its sentences cite a finding by
its key and table. Nothing here computes a statistic: every number is read from the CSVs,
so a claim is computed once (by the analysis) and rendered in its report, in
``results/verdicts.md`` and here. tests/test_readme_findings.py checks that README.md carries
exactly these blocks.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@dataclass(frozen=True)
class Row:
    """One finding: the ``kind`` of table ("rule", "pair", "observational", "preference"),
    the analysis folder (relative to the repository) and the row's key."""

    kind: str
    analysis: str
    key: str

    @property
    def table(self) -> str:
        return {
            "rule": "rules_nested.csv",
            "pair": "pairwise.csv",
            "observational": "rules_observational.csv",
            "preference": "preferences.csv",
        }[self.kind]

    @property
    def path(self) -> str:
        return f"{self.analysis}/{self.table}"


def _f(x: float, fmt: str) -> str:
    return "-" if pd.isna(x) else format(float(x), fmt)


def read_row(row: Row) -> dict:
    """The row of ``row``'s table as a dict, pairs oriented as "a vs b" reads (a relative to
    b); KeyError naming the table when it has no such row."""
    from reanalyze import pair_row

    t = pd.read_csv(ROOT / row.path)
    if row.kind == "rule":
        hit = t[t["rule"] == row.key]
    elif row.kind == "preference":
        hit = t[t["column"] == row.key]
    elif row.kind == "observational":
        rule, space = row.key.split(" in ")
        hit = t[(t["rule"] == rule) & (t["space"] == space)]
    else:
        a, b = row.key.split(" vs ")
        if not ((t["a"] == a) & (t["b"] == b)).any() and not ((t["a"] == b) & (t["b"] == a)).any():
            raise KeyError(f"{row.path} has no row {row.key!r}")
        return pair_row(t, a, b)
    if not len(hit):
        raise KeyError(f"{row.path} has no row {row.key!r}")
    return hit.iloc[0].to_dict()


def cells(row: Row) -> tuple[str, str, str, str, str]:
    """(verdict, effect [interval], P(beats) or -, p raw -> adjusted, n) of one finding."""
    r = read_row(row)
    if row.kind == "rule":
        verdict = f"{r['verdict']} ({r['sensitivity']})"
        if str(r.get("confounded", "")).startswith("confounded"):
            verdict += f", {r['confounded']}"
        noise = r.get("diff_over_noise")
        effect = (
            f"median {_f(r['effect'], '+.4f')} [{_f(r['ci_low'], '+.4f')}, "
            f"{_f(r['ci_high'], '+.4f')}]"
            + ("" if pd.isna(noise) else f" ({abs(noise):.1f} seed sd)")
        )
        beats = f"{r['p_beats']:.2f} [{r['p_beats_low']:.2f}, {r['p_beats_high']:.2f}]"
        p = f"{r['p_value']:.2g} -> {r['p_adjusted']:.2g}"
        if "costs nothing" in str(r["claim"]):
            p += f"; TOST {r['p_equivalence_adjusted']:.2g}"
        n = f"{int(r['n_from'])} + {int(r['n_to'])}"
    elif row.kind == "pair":
        verdict = r["verdict"]
        noise = r.get("diff_over_noise")
        effect = (
            f"median {r['median_diff']:+.4f} [{r['median_diff_low']:+.4f}, "
            f"{r['median_diff_high']:+.4f}]"
            + ("" if pd.isna(noise) else f" ({abs(noise):.1f} seed sd)")
        )
        beats = f"{r['p_a_beats_b']:.2f} [{r['p_a_beats_b_low']:.2f}, {r['p_a_beats_b_high']:.2f}]"
        p = f"{r['p_value']:.2g} -> {r['p_adjusted']:.2g}; TOST {r['p_equivalence_adjusted']:.2g}"
        n = f"{int(r['n_a'])} + {int(r['n_b'])}"
    elif row.kind == "observational":
        verdict = f"{r['verdict']} ({r['sensitivity']})"
        what = "rho" if r["rule"] == "linear_widths" else "median with - without"
        effect = f"{what} {r['effect']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
        beats = "-"
        p = f"{r['p_value']:.2g} -> {r['p_adjusted']:.2g}"
        n = str(int(r["n_with"] + r["n_without"]))
    else:
        verdict = f"{r['verdict']} ({r['direction']})"
        effect = (
            f"shift {r['shift']:+.3f} [{r['shift_low']:+.3f}, {r['shift_high']:+.3f}]; DDS "
            f"range {r['range_low']:.3g}-{r['range_high']:.3g} (best {r['range_best']:.3g})"
        )
        beats = "-"
        p = f"{r['p_value']:.2g} -> {r['p_adjusted']:.2g}"
        n = str(int(r["n"]))
    return verdict, effect, beats, p, n


@dataclass(frozen=True)
class Block:
    """One README table: its marker ``name``, a caption and its findings (label, row)."""

    name: str
    caption: str
    findings: tuple[tuple[str, Row], ...]

    def render(self) -> str:
        lines = [
            self.caption,
            "",
            "| finding | key | verdict | effect [interval at the adjusted level] | P(beats) "
            "| p raw -> adjusted | n | deciding row |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for label, row in self.findings:
            verdict, effect, beats, p, n = cells(row)
            lines.append(
                f"| {label} | `{row.key}` | {verdict} | {effect} | {beats} | {p} | {n} | "
                f"`{row.table}` |"
            )
        return "\n".join(lines)


P28 = "results/fmnist-progression/analysis"
N28 = "results/fmnist-nested/analysis"
SMALL = "results/fmnist-small-progression/analysis"
NSMALL = "results/fmnist-small-nested/analysis"
EXER = "results/fmnist-exercises/analysis"
REFINED = "NestedRegNetX_b1_wm2_d12_28"


def noise_sd(analysis: str) -> str:
    """The seed-to-seed sd of ``analysis`` with its interval (its ``noise_floor.csv``)."""
    r = pd.read_csv(ROOT / analysis / "noise_floor.csv").iloc[0]
    return (
        f"{r['sd']:.4f} [{r['sd_low']:.4f}, {r['sd_high']:.4f}] from {int(r['n_archs'])} "
        f"architectures, {int(r['n_runs'])} runs, `noise_floor.csv`"
    )


def _steps(analysis: str) -> tuple[tuple[str, Row], ...]:
    return (
        ("sharing b costs nothing (A -> B)", Row("rule", analysis, "shared_b")),
        ("sharing g costs nothing (B -> C)", Row("rule", analysis, "shared_g")),
        ("growing widths improve (C -> D)", Row("rule", analysis, "widths_increase")),
        ("growing depths improve (D -> E)", Row("rule", analysis, "depths_increase")),
        ("near-linear widths improve (E -> NestedRegNetX)", Row("rule", analysis, "linear_widths")),
        ("b = 1 improves (NestedRegNetX -> _b1)", Row("rule", analysis, "regnet_b1")),
        ("wm >= 2 improves (_b1 -> _b1_wm2)", Row("rule", analysis, "regnet_wm2")),
        ("depth 12..28 costs nothing (_b1_wm2 -> _d12_28)", Row("rule", analysis, "regnet_depth")),
        ("AnyNetXE better than AnyNetXA", Row("pair", analysis, "AnyNetXE vs AnyNetXA")),
        (
            "refined nested RegNetX better than AnyNetXA",
            Row("pair", analysis, f"{REFINED} vs AnyNetXA"),
        ),
    )


BLOCKS = (
    Block(
        "fmnist-nested",
        f"**28 px, stride-2 stem, 48 models per space** (`{N28}`: the progression and its "
        "nested RegNet arm; the eight nested steps are the confirmatory family, Holm over the "
        "eight; the two pairs are exploratory, Holm over the 45 pairs):",
        _steps(N28),
    ),
    Block(
        "fmnist-progression",
        f"**The 28-px progression's other findings** (`{P28}`; pairs: Holm over the 15 pairs, "
        "exploratory; within-space rows: Holm over the rows, observational; preferences: the "
        "best 25% of each space against the rest, stratified permutation test, Holm over b, g, "
        "depth and wm; the test compares models within a space, so a space that fixes a "
        "statistic (the superseded RegNetX arm's b = 1) adds nothing to it, but the DDS range "
        "pools the models of all six spaces):",
        (
            ("A and B indistinguishable", Row("pair", P28, "AnyNetXB vs AnyNetXA")),
            ("B and C indistinguishable", Row("pair", P28, "AnyNetXC vs AnyNetXB")),
            ("A and C indistinguishable", Row("pair", P28, "AnyNetXC vs AnyNetXA")),
            ("D better than C", Row("pair", P28, "AnyNetXD vs AnyNetXC")),
            ("D better than A", Row("pair", P28, "AnyNetXD vs AnyNetXA")),
            ("E better than A", Row("pair", P28, "AnyNetXE vs AnyNetXA")),
            ("E and D indistinguishable", Row("pair", P28, "AnyNetXE vs AnyNetXD")),
            (
                "error rises with e_fit within XD",
                Row("observational", P28, "linear_widths in AnyNetXD"),
            ),
            (
                "error rises with e_fit within XE",
                Row("observational", P28, "linear_widths in AnyNetXE"),
            ),
            ("the best models prefer a b", Row("preference", P28, "b")),
            ("the best models prefer a g", Row("preference", P28, "g")),
            ("the best models prefer a depth", Row("preference", P28, "depth")),
            ("the best models prefer a wm", Row("preference", P28, "wm")),
        ),
    ),
    Block(
        "fmnist-small-nested",
        f"**Small stem (stages 14/7/4/2 px), 100 models per space** (`{NSMALL}`: the "
        "progression and its nested RegNet arm; the eight nested steps are the confirmatory "
        "family, Holm over the eight; the two pairs are exploratory, Holm over the 45 pairs; "
        f"seed sd = the small regime's seed-to-seed sd, {noise_sd(NSMALL)}):",
        _steps(NSMALL),
    ),
    Block(
        "fmnist-small-progression",
        f"**The small-stem progression's other findings** (`{SMALL}`; as above):",
        (
            ("B and A", Row("pair", SMALL, "AnyNetXB vs AnyNetXA")),
            ("C and B", Row("pair", SMALL, "AnyNetXC vs AnyNetXB")),
            ("E and D", Row("pair", SMALL, "AnyNetXE vs AnyNetXD")),
            (
                "error rises with e_fit within XA",
                Row("observational", SMALL, "linear_widths in AnyNetXA"),
            ),
            (
                "error rises with e_fit within XB",
                Row("observational", SMALL, "linear_widths in AnyNetXB"),
            ),
            (
                "error rises with e_fit within XC",
                Row("observational", SMALL, "linear_widths in AnyNetXC"),
            ),
            (
                "error rises with e_fit within XD",
                Row("observational", SMALL, "linear_widths in AnyNetXD"),
            ),
            (
                "error rises with e_fit within XE",
                Row("observational", SMALL, "linear_widths in AnyNetXE"),
            ),
            ("the best models prefer a b", Row("preference", SMALL, "b")),
            ("the best models prefer a g", Row("preference", SMALL, "g")),
            ("the best models prefer a depth", Row("preference", SMALL, "depth")),
            ("the best models prefer a wm", Row("preference", SMALL, "wm")),
        ),
    ),
    Block(
        "fmnist-exercises",
        f"**The exercises** (`{EXER}`; Holm over the 10 pairs):",
        (
            ("4 stages beat 2 stages", Row("pair", EXER, "RegNetX-4stage vs RegNetX-2stage")),
            ("basic blocks vs AnyNetXE", Row("pair", EXER, "AnyNetBasicE vs AnyNetXE")),
            ("RegNetX-4stage vs AnyNetXE", Row("pair", EXER, "RegNetX-4stage vs AnyNetXE")),
            ("RegNetX-2stage vs AnyNetXE", Row("pair", EXER, "RegNetX-2stage vs AnyNetXE")),
            ("VioNet vs AnyNetXE", Row("pair", EXER, "VioNet vs AnyNetXE")),
        ),
    ),
)


#: The per-space tables (``analysis/comparison.csv``, rendered by readme_tables.py): block
#: name -> study folder.
SPACE_TABLES = {
    "spaces:fmnist-progression": "results/fmnist-progression",
    "spaces:fmnist-small-progression": "results/fmnist-small-progression",
    "spaces:fmnist-exercises": "results/fmnist-exercises",
}


REFINE = "results/refine-xa-small"


def refine_rounds(folder: str = REFINE) -> str:
    """The loop's rounds (``rounds.csv``, with each adopted candidate's row of
    ``round-<k>/candidates.csv``) as README's table."""
    rounds = pd.read_csv(ROOT / folder / "rounds.csv")
    lines = [
        "| round | parent (its models) | adopted (in-sample rank 1) | in-sample evidence | "
        "fresh models: parent -> refined median | difference [95%] | P(beats) | "
        "Brunner-Munzel p | verdict | balance of the arms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rounds.itertuples():
        cand = pd.read_csv(ROOT / folder / f"round-{r.round}" / "candidates.csv")
        c = cand[cand["constraint"] == r.constraint].iloc[0]
        confirmed = str(r.confirmed) == "True"
        balance = "balanced" if r.balance == "balanced" else f"differ in {r.balance}"
        lines.append(
            f"| {r.round} | {r.parent} ({r.n_population}) | `{r.constraint}` (keeps "
            f"{c['share_kept']:.0%}) | rho {c['rho']:+.2f} [{c['rho_low']:+.2f}, "
            f"{c['rho_high']:+.2f}], Holm p {c['p_adjusted']:.2g} over {int(r.candidates) - 1} | "
            f"{r.median_parent:.3f} -> {r.median_refined:.3f} ({r.n_fresh_parent} + "
            f"{r.n_fresh_refined}) | {r.diff:+.4f} [{r.diff_low:+.4f}, {r.diff_high:+.4f}] | "
            f"{r.p_beats:.2f} | {r.p_value:.2g} | "
            f"{'confirmed' if confirmed else 'not confirmed'} ({r.verdict}) | "
            f"{balance} |"
        )
    return "\n".join(lines)


def refine_final(folder: str = REFINE) -> str:
    """The final space against the paper's spaces (``final/comparison.csv``): the pairs
    that involve the final space."""
    t = pd.read_csv(ROOT / folder / "final" / "comparison.csv")
    final = t["a"].iloc[0]
    lines = [
        "| pair | verdict | median difference [interval at the adjusted level] | P(beats) | "
        "p raw -> Holm | TOST (adjusted) | n |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in t[(t["a"] == final) | (t["b"] == final)].itertuples():
        lines.append(
            f"| {r.a} vs {r.b} | {r.verdict} | {r.median_diff:+.4f} [{r.median_diff_low:+.4f}, "
            f"{r.median_diff_high:+.4f}] | {r.p_a_beats_b:.2f} | {r.p_value:.2g} -> "
            f"{r.p_adjusted:.2g} | {r.p_equivalence_adjusted:.2g} | {r.n_a} + {r.n_b} |"
        )
    return "\n".join(lines)


def _marked(name: str, body: str) -> str:
    return (
        f"<!-- findings:{name} (generated by experiments/readme_findings.py; do not edit) -->\n"
        f"{body}\n<!-- /findings:{name} -->"
    )


def blocks() -> dict[str, str]:
    """Every block, marked, by name."""
    from readme_tables import table

    out = {name: _marked(name, table(ROOT / study)) for name, study in SPACE_TABLES.items()}
    out["refine:rounds"] = _marked("refine:rounds", refine_rounds())
    out["refine:final"] = _marked("refine:final", refine_final())
    return out | {b.name: _marked(b.name, b.render()) for b in BLOCKS}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"<!-- findings:{re.escape(name)} .*?-->.*?<!-- /findings:{re.escape(name)} -->", re.S
    )


def stale(readme: str) -> list[str]:
    """The names of the blocks README text lacks or carries differently."""
    out = []
    for name, text in blocks().items():
        m = _pattern(name).search(readme)
        if m is None or m.group(0) != text:
            out.append(name)
    return out


def write(readme: str) -> str:
    """README text with every block replaced (a block it lacks: KeyError naming it)."""
    for name, text in blocks().items():
        pattern = _pattern(name)
        if not pattern.search(readme):
            raise KeyError(f"README.md has no block {name!r}; add its two markers first")
        readme = pattern.sub(lambda _m, t=text: t, readme)
    return readme


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when a block is stale")
    mode.add_argument("--write", action="store_true", help="rewrite the blocks in README.md")
    args = ap.parse_args()
    text = README.read_text()
    if args.check:
        bad = stale(text)
        print(f"stale: {', '.join(bad)}" if bad else "README findings are up to date")
        return 1 if bad else 0
    if args.write:
        try:
            text = write(text)
        except KeyError as err:
            print(f"readme_findings: {err.args[0]}", file=sys.stderr)
            return 2
        README.write_text(text)
        print(f"wrote {len(blocks())} blocks into {README}")
        return 0
    print("\n\n".join(blocks().values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
