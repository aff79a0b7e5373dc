"""The README section "Published populations (NDS)", one function per part of it.

Every number is read from the tables that ``experiments/nds.py`` wrote to its output folder
(:class:`Tables`); each part function returns its Markdown lines, and :func:`write_readme`
joins them with newlines. Errors in the tables are fractions; the text shows percentages
(``_pct``) or percentage points (``_pts``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "Tables",
    "edfs",
    "fidelity",
    "intro",
    "lr_wd",
    "noise_meaning",
    "noise_separation",
    "noise_spread",
    "readme_lines",
    "reproduce",
    "write_readme",
]


@dataclass(frozen=True)
class Tables:
    """The tables of one ``experiments/nds.py`` output folder and the settings they were made
    with: ``spaces`` the ImageNet lr/wd spaces in order, ``ks_epochs`` the epochs k of the
    fidelity table, ``extra_epochs`` its late reference points."""

    rel: str  # the output folder as the README names it
    spaces: tuple[str, ...]
    ks_epochs: tuple[int, ...]
    extra_epochs: tuple[int, ...]
    summary: dict[str, Any]
    ned: pd.DataFrame
    pairs: pd.DataFrame
    region: pd.DataFrame
    good_ranges: pd.DataFrame
    diverged: pd.DataFrame
    space_diffs: pd.DataFrame
    per_network: pd.DataFrame
    floor: pd.DataFrame
    separation: pd.DataFrame
    detectable: pd.DataFrame
    fid: pd.DataFrame
    settings_cor: pd.DataFrame

    @classmethod
    def read(
        cls,
        out: Path,
        spaces: tuple[str, ...],
        ks_epochs: tuple[int, ...],
        extra_epochs: tuple[int, ...],
    ) -> Tables:
        """The tables in folder ``out`` (``summary.json`` and the CSVs nds.py writes)."""

        def csv(name: str) -> pd.DataFrame:
            return pd.read_csv(out / name)

        return cls(
            rel=str(out),
            spaces=spaces,
            ks_epochs=ks_epochs,
            extra_epochs=extra_epochs,
            summary=json.loads((out / "summary.json").read_text()),
            ned=csv("nedf_comparison.csv"),
            pairs=csv("nedf_pairs.csv"),
            region=csv("lrwd_good_region.csv"),
            good_ranges=csv("lrwd_good_ranges.csv"),
            diverged=csv("lrwd_diverged_by_lr.csv"),
            space_diffs=csv("lrwd_space_differences.csv"),
            per_network=csv("noise_per_network.csv"),
            floor=csv("noise_floor.csv"),
            separation=csv("noise_separation.csv"),
            detectable=csv("noise_detectable.csv"),
            fid=csv("fidelity_rank_agreement.csv"),
            settings_cor=csv("fidelity_settings_correlation.csv"),
        )


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _pts(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}"


def _first_n(table: pd.DataFrame, col: str, level: float = 0.95) -> str:
    hit = table.loc[table[col] >= level, "n_seeds"]
    return str(int(hit.min())) if len(hit) else f"> {int(table['n_seeds'].max())}"


# --------------------------------------------------------------------------- the parts
def intro(t: Tables) -> list[str]:
    """The heading, how to import NDS files, and how their fields map to the results schema."""
    return [
        "## Published populations (NDS)\n",
        "The NDS authors released their trained populations (the `data.zip` of the NDS "
        "repository: per model the network, lr, wd, flops, params and per-epoch test errors). "
        "`designspace import nds` turns such files into a results data set that every analysis "
        "reads like a sweep's, so a sweep of your own can sit next to the paper's populations:\n",
        "```bash",
        "designspace import nds ResNet_lr-wd_in.json Vanilla_lr-wd_in.json DARTS_lr-wd_in.json \\",
        "    --out nds-in                    # one space per file: ResNet, Vanilla, DARTS",
        "designspace import nds ResNet_reruns.json --out nds-reruns  # ResNet-top, ResNet-mid",
        "designspace analyze nds-in --out nds-in/analysis",
        "```\n",
        "In Python: `designspace.formats.nds.read_nds(path, space=None)` returns the same rows "
        "as a "
        "DataFrame. Mapping: space = the file name up to its first `_` (`--space` overrides; "
        "the `top` / `mid` lists of a reruns file become `<space>-top` / `<space>-mid`); "
        "`val_top1_err` = `min_test_top1` / 100 (the lowest test error over the epochs, the "
        "value of NDS's figures) and `final_val_top1_err` the last epoch's; per-epoch curves "
        "as fractions (`epoch_val_top1_err`, `epoch_train_top1_err`, `epoch_train_loss`); "
        "`cfg_lr`, `cfg_weight_decay`, `cfg_momentum`, `cfg_epochs`, `cfg_seed` (= base_lr, "
        "wd, mom, max_ep, rng_seed); `flops` (multiply-adds), `params`; AnyNet-style nets get "
        "the per-stage lists without the stem (index 0 of `ds`/`ws`/`ss` becomes `stem_width`,"
        " `stem_stride`), b = 1 / bot_mul, g = w * bot_mul / groups; cell nets (DARTS) get "
        "`depth`, `cell_width` and `genotype` as JSON text. Runs with NaN or an error within 1% "
        "of chance get status `diverged` (excluded by every analysis, counted in the report). "
        "A file that is not an NDS file, or a record with a missing or mistyped field, is "
        "refused with one line naming the file and the record (exit 2, nothing written). "
        "`analyze` runs everything on AnyNet-style imports; cell spaces have no per-stage "
        "lists, so the RegNet fits and width rules run on the other spaces and leave the cell "
        'spaces out (each such section names them under "Not done").\n',
    ]


def reproduce(t: Tables) -> list[str]:
    """The command that regenerates the folder, and the populations' sizes."""
    pop = t.summary["populations"]
    counts = ", ".join(f"{s} {v['models']} ({v['diverged']} diverged)" for s, v in pop.items())
    return [
        f"`python experiments/nds.py --nds-dir DIR --out {t.rel} --readme FILE` reproduces "
        f"what the papers draw from five released files and writes the figures and tables "
        f"below to `{t.rel}/` (derived data only; the files themselves are the authors'). "
        f"ImageNet lr/wd populations, 50 epochs, lr and wd sampled log-uniformly per model: "
        f"{counts}.\n"
    ]


def edfs(t: Tables) -> list[str]:
    """1. Complexity-normalized EDFs: ranges and medians, then the KS comparisons."""
    ned = t.ned
    parts = []
    for c in ("flops", "params"):
        s = ned[ned["complexity"] == c].set_index("space")
        lo, hi, bins = s["range_low"].iloc[0], s["range_high"].iloc[0], int(s["bins"].iloc[0])
        unit = (f"{lo / 1e9:.3g}-{hi / 1e9:.3g} GF" if c == "flops"
                else f"{lo / 1e6:.3g}-{hi / 1e6:.3g} M params")  # fmt: skip
        meds = ", ".join(
            f"{sp} {_pct(s.at[sp, 'median'])} (n = {int(s.at[sp, 'n_in_range'])})" for sp in s.index
        )
        parts.append(f"by {c} ({unit}, {bins} equal bins): normalized median error {meds}")
    pp = t.pairs.set_index(["complexity", "a", "b"])

    def ks(c: str, a: str, b: str) -> str:
        r = pp.loc[(c, a, b)]
        return f"KS {r['ks']:.2f}, p = {r['p_value']:.2g}"

    n_fl = ned[ned["complexity"] == "flops"].set_index("space")["n_in_range"]
    p_rv = pp.loc[("flops", "ResNet", "Vanilla"), "p_value"]
    return [
        "**Complexity-normalized EDFs** (`nedf.png`, `nedf_comparison.csv`, `nedf_pairs.csv`).",
        "NDS's recipe: the common range runs from the largest per-space minimum to NDS's fixed "
        "maximum, split into equal bins that every space populates (8, NDS's count for NAS "
        "spaces, is possible here in both cases); every run counts, diverged ones at their "
        f"recorded error as in NDS. {parts[0][0].upper()}{parts[0][1:]}; {parts[1]}.",
        f" DARTS has the most good models under both normalizations (against ResNet: "
        f"{ks('flops', 'ResNet', 'DARTS')} by flops, {ks('params', 'ResNet', 'DARTS')} by "
        f"params); ResNet beats Vanilla by params ({ks('params', 'ResNet', 'Vanilla')}); by "
        f"flops, where only {int(n_fl['ResNet'])} ResNets and {int(n_fl['Vanilla'])} Vanillas "
        f"fall in the range, the difference is "
        f"{'not ' if p_rv >= 0.05 else ''}significant at 0.05 "
        f"({ks('flops', 'ResNet', 'Vanilla')}). Part of Vanilla's deficit is divergence: the "
        f"diverged runs carry "
        + ", ".join(
            f"{_pct(r.diverged_weight, 0)} of {r.space}'s normalized weight"
            for r in ned[ned["complexity"] == "params"].itertuples()
        )
        + " (by params). lr and wd were sampled per model, so each EDF mixes the quality of "
        "the architectures with their sensitivity to lr and wd. "
        "`nedf_compare_*.csv` is designspace's `compare()` on the status-ok "
        "models inside the range (Holm-adjusted KS, median differences with intervals, "
        "P(a beats b)).\n",
    ]


def lr_wd(t: Tables) -> list[str]:
    """2. Where the good lr / wd region lies, how wide it is, and divergence by lr decade."""
    r10 = t.region[t.region["top"] == 0.1].set_index(["space", "setting"])
    items = []
    for s in t.spaces:
        lr, wd = r10.loc[(s, "lr")], r10.loc[(s, "weight_decay")]
        items.append(
            f"{s} lr {lr['median']:.3g} [{lr['median_ci_low']:.3g}, {lr['median_ci_high']:.3g}],"
            f" wd {wd['median']:.2g} [{wd['median_ci_low']:.2g}, {wd['median_ci_high']:.2g}]"
        )
    lr_diffs = t.space_diffs[t.space_diffs["setting"] == "log10_lr"]
    widths = ", ".join(
        f"{s} {r10.loc[(s, 'lr'), 'width_decades']:.1f} (lr) and "
        f"{r10.loc[(s, 'weight_decay'), 'width_decades']:.1f} (wd)"
        for s in t.spaces
    )
    div = t.diverged
    return [
        "**Learning rate and weight decay** (`lrwd_scatter.png`, `lrwd_region.png`, "
        "`lrwd_good_region.csv`, `lrwd_good_ranges.csv`).",
        "lr was sampled over 3 decades (0.001-1) and wd over 3 (1e-5-1e-2). The best 10% of "
        "each space sit at the median (95% bootstrap interval) " + "; ".join(items) + ". "
        f"Their 5-95% spread still covers {widths} decades: the good region is a broad "
        "band, not a point. The DDS bootstrap good range of log10 lr "
        "(best model of 25% subsamples) is "
        + ", ".join(
            f"{r.group} [{10**r.low:.3g}, {10**r.high:.3g}]"
            for r in t.good_ranges[t.good_ranges["statistic"] == "log10_lr"].itertuples()
        )
        + ". Where the good region lies "
        + ("does not differ significantly" if lr_diffs["p_value"].min() >= 0.05 else "differs")
        + " between the spaces: KS tests between the best 25%'s lr give p = "
        + ", ".join(f"{r.p_value:.2g} ({r.a}-{r.b})" for r in lr_diffs.itertuples())
        + "; they differ in how much of the plane trains at all. Diverged runs by lr decade "
        "(`lrwd_diverged_by_lr.csv`): "
        + "; ".join(
            f"{s} "
            + ", ".join(
                f"{_pct(r.diverged_frac, 0)} at lr {r.lr_decade}"
                for r in div[div["space"] == s].itertuples()
            )
            for s in t.spaces
        )
        + ".\n",
    ]


def noise_spread(t: Tables) -> list[str]:
    """3a. Training noise: each network's error over 100 seeds and the pooled sds."""
    pv = t.per_network[t.per_network["metric"] == "val_top1_err"]
    floor = t.floor
    all_sd = floor.query("family == 'all' and metric == 'val_top1_err'")
    return [
        "**Training noise** (`noise.png`, `noise_per_network.csv`, `noise_floor.csv`, "
        "`noise_separation.csv`, `noise_detectable.csv`). CIFAR-10 reruns: each network "
        "trained 100 times, only the seed changing (100 epochs, lr 0.1, wd 5e-4).",
        " Error (min over epochs) over the 100 seeds: "
        + "; ".join(
            f"{r.network} mean {_pts(r.mean)}%, sd {_pts(r.sd)}, 5-95% "
            f"{_pts(r.q05)}-{_pts(r.q95)}, range {_pts(r.min)}-{_pts(r.max)}"
            for r in pv.itertuples()
        )
        + " (percentage points). Pooled within-network sd: "
        + ", ".join(
            f"{r.family} {_pts(r.sd)} [{_pts(r.sd_low)}, {_pts(r.sd_high)}]"
            for r in floor[floor["metric"] == "val_top1_err"].itertuples()
            if r.family != "all"
        )
        + ", all four networks "
        + "{} [{}, {}]".format(*(_pts(x) for x in all_sd[["sd", "sd_low", "sd_high"]].iloc[0]))
        + " points (95% interval; designspace's `noise_floor`). The noise is network-specific "
        f"(the largest sd is {pv['sd'].max() / pv['sd'].min():.1f} x the smallest).",
    ]


def noise_separation(t: Tables) -> list[str]:
    """3b. How many seeds tell top from mid apart, and smaller differences apart."""
    seps = []
    for fam, g in t.separation.groupby("family", sort=False):
        mean_diff = g["mean_diff"].iloc[0]
        sd = t.floor.query("family == @fam and metric == 'val_top1_err'")["sd"].iloc[0]
        seps.append(
            f"{fam}: mid is {_pts(mean_diff)} points worse ({mean_diff / sd:.0f} pooled sd); "
            f"every top seed beats every mid seed (P = {g['p_single_top_beats_mid'].iloc[0]:.2f})"
            f"; 95% power at level 0.05 needs {_first_n(g, 'power_welch_t')} seeds per network "
            f"with Welch's t, {_first_n(g, 'power_mann_whitney')} with Mann-Whitney and "
            f"{_first_n(g, 'power_ks')} with KS (the rank tests cannot reject with fewer)"
        )
    tops = t.detectable[t.detectable["network"].str.endswith("-top")]
    rows = []
    for delta, g in tops.groupby("delta"):
        need = []
        for _, h in g.groupby("network", sort=False):
            hit = h.loc[h["power"] >= 0.8, "n_seeds"]
            need.append(f"{int(hit.min())}" if len(hit) else f">{int(h['n_seeds'].max())}")
        rows.append(f"{_pts(delta, 1)} points: {' / '.join(need)}")
    return [
        " Top vs mid: " + "; ".join(seps) + ".",
        " Smaller true differences need many more seeds: with the top networks' own noise "
        "(two groups from disjoint halves of the 100 seeds, one shifted by the difference), "
        "seeds per network for 80% power (Welch's t, level 0.05, ResNet-top / Vanilla-top): "
        + "; ".join(rows)
        + ".\n",
    ]


def noise_meaning(t: Tables) -> list[str]:
    """3c. What the seed noise means for comparisons of single runs and of populations."""
    pv = t.per_network[t.per_network["metric"] == "val_top1_err"]
    f_sd = t.floor[(t.floor["metric"] == "val_top1_err") & (t.floor["family"] != "all")]
    pn = t.ned[t.ned["complexity"] == "params"]
    iqr = (pn["q3"] - pn["q1"]).to_numpy()
    lo_sd, hi_sd = pv["sd"].min(), pv["sd"].max()
    lo95, hi95 = f_sd["single_run_diff_95"].min(), f_sd["single_run_diff_95"].max()
    return [
        "*What this means for comparisons* (and for the noise in the Fashion-MNIST studies "
        f"above): one training run of a CIFAR-10 network carries a seed sd of {_pts(lo_sd)}-"
        f"{_pts(hi_sd)} points at 5-9% error. Two single runs of the *same* network differ by "
        f"more than {_pts(lo95)}-{_pts(hi95)} points (1.96 x sqrt(2) x pooled sd) in 5% of "
        "pairs, so a ranking of single models by differences of a few tenths of a point is "
        f"noise; a difference of one point between two networks is {0.01 / hi_sd:.0f}-"
        f"{0.01 / lo_sd:.0f} sd and survives one seed. A population comparison (EDFs of "
        "many models) does not average this noise "
        "away per model, but each model's noise enters the EDF like a small horizontal blur "
        f"(sd {_pts(lo_sd)}-{_pts(hi_sd)} points), small against the spread of errors within "
        f"a design space (interquartile range of the ImageNet lr/wd populations, normalized "
        f"by params: {_pts(iqr.min(), 1)}-{_pts(iqr.max(), 1)} points); the mean of n models "
        "moves by sd / sqrt(n) from seeds alone. These "
        "sds were measured on 100-epoch CIFAR-10 runs; short Fashion-MNIST schedules are "
        "noisier, so they are a floor, not an estimate, for those studies.\n"
    ]


def fidelity(t: Tables) -> list[str]:
    """4. Rank agreement of the error after k epochs with the final error."""
    fid, ks_epochs = t.fid, t.ks_epochs
    items, top10 = [], []
    for s in t.spaces:
        g = fid[(fid["space"] == s) & (fid["statistic"] == "spearman")].set_index("epochs")
        items.append(
            f"{s} "
            + ", ".join(
                f"k={k}: {g.at[k, 'value']:.2f} [{g.at[k, 'ci_low']:.2f}, {g.at[k, 'ci_high']:.2f}]"
                for k in ks_epochs
            )
        )
        g = fid[(fid["space"] == s) & fid["statistic"].str.startswith("top_")]
        g = g[g["epochs"].isin(ks_epochs)].groupby("epochs").first()
        top10.append(
            f"{s} {g['value'].min():.2f}-{g['value'].max():.2f} (chance {g['chance'].iloc[0]:.2f})"
        )
    late = fid[(fid["statistic"] == "spearman") & fid["epochs"].isin(t.extra_epochs)]
    sp = fid[(fid["statistic"] == "spearman") & fid["epochs"].isin(ks_epochs)]
    peak = (
        "/".join(
            str(int(sp.loc[sp[sp["space"] == s]["value"].idxmax(), "epochs"])) for s in t.spaces
        )
        + f" ({'/'.join(t.spaces)})"
    )
    cor = t.settings_cor
    return [
        "**Multi-fidelity on real learning curves** (`fidelity.png`, "
        "`fidelity_rank_agreement.csv`): rank agreement between the test error after k of "
        "the 50 epochs and the final error, over each space's status-ok models "
        "(designspace's `rank_agreement`, 95% bootstrap intervals).",
        " Spearman: "
        + "; ".join(items)
        + ". Overlap of the top 10% over k = 1-25: "
        + ", ".join(top10)
        + f". Agreement is not monotone in k: it peaks at k = {peak} and dips at k = 10-25 "
        "(mid-schedule errors of this cosine schedule follow weight decay: Spearman of wd "
        "with the error after 25 epochs "
        + ", ".join(f"{r.space} {r.wd_k25:.2f}" for r in cor.itertuples())
        + ", with the final error "
        + ", ".join(f"{r.space} {r.wd_final:.2f}" for r in cor.itertuples())
        + "; high wd hurts mid-run and is forgiven as the lr anneals), and passes the peak value "
        f"again only near the end (k = 40-45: {late['value'].min():.2f}-"
        f"{late['value'].max():.2f}). "
        "An early checkpoint of a long run is therefore not the same proxy as a short run "
        "with its own annealed schedule (what the papers and designspace sweeps use); when "
        "lr and wd vary between models, it is a noisier one.\n",
    ]


PARTS = (intro, reproduce, edfs, lr_wd, noise_spread, noise_separation, noise_meaning, fidelity)


# --------------------------------------------------------------------------- the writer
def readme_lines(t: Tables) -> list[str]:
    """Every line of the section, the parts in README order."""
    return [line for part in PARTS for line in part(t)]


def write_readme(
    out: Path,
    path: Path,
    spaces: tuple[str, ...],
    ks_epochs: tuple[int, ...],
    extra_epochs: tuple[int, ...],
) -> None:
    """Write the README section to ``path`` from the tables in ``out`` (see :class:`Tables`)."""
    text = "\n".join(readme_lines(Tables.read(out, spaces, ks_epochs, extra_epochs))) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
