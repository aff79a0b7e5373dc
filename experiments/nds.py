"""What NDS's published populations show, through designspace's own reader and analyses.

Reads five of the files released with *On Network Design Spaces for Visual Recognition*
(Radosavovic et al., ICCV 2019) with :func:`designspace.formats.nds.read_nds` and writes derived
figures and tables (never the data) to ``--out``:

1. complexity-normalized EDFs of the ImageNet lr/wd spaces ResNet, Vanilla and DARTS, by flops
   and by params, with the comparison tables (``nedf_*``);
2. lr / wd sensitivity: error against lr and wd, where the best models lie (``lrwd_*``);
3. the training-noise floor from the CIFAR-10 reruns (100 seeds of each of 4 networks) and how
   many seeds it takes to tell two networks apart (``noise_*``);
4. multi-fidelity on the real learning curves: rank agreement of the error after k epochs with
   the final error (``fidelity_*``);

plus ``summary.json`` (the headline numbers) and, with ``--readme``, the README section built
from those numbers (``experiments/nds_readme.py``).

Run:
    python experiments/nds.py --nds-dir /work/shared/nds --out results/nds \
        --readme scratch/readme-nds.md
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

LRWD = {"ResNet": "ResNet_lr-wd_in.json", "Vanilla": "Vanilla_lr-wd_in.json",
        "DARTS": "DARTS_lr-wd_in.json"}  # fmt: skip
RERUNS = {"ResNet": "ResNet_reruns.json", "Vanilla": "Vanilla_reruns.json"}
# NDS's released notebooks: common range from the largest per-space minimum to a fixed maximum
# (ImageNet: 0.6 GF, 6 M params), 5 equal bins for standard spaces, 8 for NAS spaces.
NDS_MAX = {"flops": 0.6e9, "params": 6e6}
NDS_BINS = 8  # DARTS is a NAS space
KS_EPOCHS = (1, 2, 5, 10, 25)
EXTRA_EPOCHS = (40, 45)  # late points of the 50-epoch schedule, for reference
DELTAS = (0.001, 0.002, 0.003, 0.005, 0.01)  # error differences (fractions) for the power table


def palette(names: list[str]) -> dict[str, object]:
    """One tab10 colour per name, in order."""
    from matplotlib import colormaps

    return {n: colormaps["tab10"](i % 10) for i, n in enumerate(names)}


def weighted_quantiles(v: np.ndarray, w: np.ndarray | None, qs: list[float]) -> list[float]:
    """Quantiles of ``v`` under weights ``w`` (inverted-CDF rule: every value is a model's)."""
    if w is None:
        return [float(x) for x in np.quantile(v, qs, method="inverted_cdf")]
    return [float(x) for x in np.quantile(v, qs, weights=w, method="inverted_cdf")]


# --------------------------------------------------------------------------- 1. EDFs
def normalized_edfs(lrwd: pd.DataFrame, out: Path, seed: int) -> dict:
    """NDS-exact complexity-normalized EDFs and their comparison tables."""
    from designspace.analysis import (
        Inference,
        Normalization,
        area_under_edf,
        compare,
        edf,
        ks_test,
        max_common_bins,
        normalized_weights,
    )
    from designspace.reporting import plots

    spaces = list(LRWD)
    err = lrwd["val_top1_err"].to_numpy(float)
    groups = lrwd["space"].to_numpy(object)
    rows, pairs, summary = [], [], {}
    fig = plots.new_figure(11, 4)[0]
    fig.clear()
    axes = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.2)
    for ax, complexity in zip(axes, ("flops", "params"), strict=True):
        c = lrwd[complexity].to_numpy(float)
        lo = max(c[groups == s].min() for s in spaces)
        hi = NDS_MAX[complexity]
        bins = max_common_bins(c, groups, upper=NDS_BINS, range=(lo, hi))
        w = normalized_weights(c, groups, bins=bins, range=(lo, hi))
        inside = w > 0
        e_lo, e_hi = err[inside].min(), err[inside].max()
        colors = palette(spaces)
        for s in spaces:
            m = (groups == s) & inside
            v, ws = err[m], w[m]
            q1, med, q3 = weighted_quantiles(v, ws, [0.25, 0.5, 0.75])
            ok = (lrwd["status"].to_numpy() == "ok")[m]
            rows.append(
                dict(
                    complexity=complexity,
                    space=s,
                    range_low=lo,
                    range_high=hi,
                    bins=bins,
                    n_in_range=int(m.sum()),
                    n_space=int((groups == s).sum()),
                    min=float(v.min()),
                    q1=q1,
                    median=med,
                    q3=q3,
                    mean=float(np.average(v, weights=ws)),
                    auc=area_under_edf(v, e_lo, e_hi, ws),
                    diverged_weight=float(ws[~ok].sum() / ws.sum()),
                    p_err_below_40=float(edf(v, ws)(0.40)),
                    p_err_below_50=float(edf(v, ws)(0.50)),
                )
            )
            f = edf(v, ws)
            x = np.concatenate([[f.x[0]], f.x]) * 100
            ax.step(
                x,
                np.concatenate([[0.0], f.y]),
                where="post",
                color=colors[s],
                label=plots.legend_label(s, v, True, ws),
            )
        for a, b in combinations(spaces, 2):
            ma, mb = (groups == a) & inside, (groups == b) & inside
            r = ks_test(err[ma], err[mb], w[ma], w[mb])
            pairs.append(
                dict(
                    complexity=complexity,
                    a=a,
                    b=b,
                    ks=r.statistic,
                    p_value=r.pvalue,
                    a_better=bool(r.sign > 0),
                )
            )
        unit = "GF" if complexity == "flops" else "M params"
        scale = 1e9 if complexity == "flops" else 1e6
        ax.set_title(
            f"normalized by {complexity}: [{lo / scale:.3g}, {hi / scale:.3g}] {unit}, {bins} bins"
        )
        ax.set_xlabel("top-1 error (%), min over epochs (NDS)")
        ax.set_ylabel("cumulative prob. (complexity-normalized)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small", title="space [n | min | mean]")
        summary[complexity] = dict(range=[lo, hi], bins=bins)
        # designspace's compare() on the status-"ok" models inside the range (its own common
        # range and bin count there; diverged runs excluded, as every designspace analysis does)
        sub = lrwd[(c >= lo) & (c <= hi)]
        cmp = compare(sub, normalize=Normalization(complexity), inference=Inference())
        cmp.table.to_csv(out / f"nedf_compare_{complexity}.csv")
        cmp.pairs.to_csv(out / f"nedf_compare_pairs_{complexity}.csv", index=False)
    plots.save(fig, out / "nedf.png")
    table = pd.DataFrame(rows)
    table.to_csv(out / "nedf_comparison.csv", index=False)
    pd.DataFrame(pairs).to_csv(out / "nedf_pairs.csv", index=False)

    # the plain EDFs of all runs, for reference (diverged runs included at their error)
    fig, ax = plots.new_figure()
    plots.edf_plot(lrwd.assign(status="ok"), ax=ax)
    ax.set_title("error EDF, all runs (diverged included)")
    plots.save(fig, out / "edf.png")
    return summary


# --------------------------------------------------------------------------- 2. lr / wd
def lr_wd(lrwd: pd.DataFrame, out: Path, n_boot: int, seed: int) -> None:
    """Error vs lr and wd; lr / wd ranges of the best 10% and 25% with bootstrap intervals."""
    from matplotlib.patches import Rectangle

    from designspace.analysis import good_ranges, ks_test
    from designspace.reporting import plots

    spaces = list(LRWD)
    d = lrwd.copy()
    d["log10_lr"] = np.log10(d["cfg_lr"])
    d["log10_wd"] = np.log10(d["cfg_weight_decay"])
    d["log10_lr_x_wd"] = d["log10_lr"] + d["log10_wd"]
    colors = palette(spaces)

    # scatter: error vs lr and vs wd, one panel per space; diverged runs as crosses
    fig = plots.new_figure(12, 7)[0]
    fig.clear()
    axes = fig.subplots(2, 3, sharey=True)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.93, wspace=0.08, hspace=0.3)
    for j, s in enumerate(spaces):
        g = d[d["space"] == s]
        ok = g["status"] == "ok"
        for i, col in enumerate(("cfg_lr", "cfg_weight_decay")):
            ax = axes[i, j]
            ax.scatter(g.loc[ok, col], g.loc[ok, "val_top1_err"] * 100, s=6, color=colors[s])
            ax.scatter(
                g.loc[~ok, col], g.loc[~ok, "val_top1_err"] * 100, s=10, marker="x", color="0.5"
            )
            ax.set_xscale("log")
            ax.set_xlabel("lr" if col == "cfg_lr" else "weight decay")
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel("top-1 error (%)")
            ax.set_title(f"{s} ({int(ok.sum())} ok, {int((~ok).sum())} diverged = x)")
    plots.save(fig, out / "lrwd_scatter.png")

    # the good region: lr x wd plane, colour = error, best 10% ringed, DDS good ranges as a box
    ok = d[d["status"] == "ok"]
    gr = good_ranges(
        ok, ["log10_lr", "log10_wd", "log10_lr_x_wd"], by="space", n_boot=n_boot, seed=seed
    )
    gr.to_csv(out / "lrwd_good_ranges.csv", index=False)
    fig = plots.new_figure(13, 4.2)[0]
    fig.clear()
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    fig.subplots_adjust(left=0.05, right=0.93, bottom=0.13, top=0.9, wspace=0.06)
    for ax, s in zip(axes, spaces, strict=True):
        g = d[d["space"] == s].sort_values("val_top1_err", ascending=False)
        sc = ax.scatter(
            g["cfg_lr"], g["cfg_weight_decay"], c=g["val_top1_err"] * 100, s=10,
            cmap="viridis_r", vmin=25, vmax=100,
        )  # fmt: skip
        best = g.nsmallest(max(1, round(0.1 * len(g))), "val_top1_err")
        ax.scatter(best["cfg_lr"], best["cfg_weight_decay"], s=40, facecolors="none",
                   edgecolors="red", linewidths=0.8, label="best 10%")  # fmt: skip
        r = gr[gr["group"] == s].set_index("statistic")
        x0, x1 = 10 ** r.at["log10_lr", "low"], 10 ** r.at["log10_lr", "high"]
        y0, y1 = 10 ** r.at["log10_wd", "low"], 10 ** r.at["log10_wd", "high"]
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", color="k",
                      label="good range (DDS bootstrap)")
        )  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("lr")
        ax.set_title(s)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("weight decay")
    axes[0].legend(fontsize="small", loc="lower left")
    fig.colorbar(sc, ax=axes, fraction=0.02, pad=0.01, label="top-1 error (%)")
    plots.save(fig, out / "lrwd_region.png")

    # numbers: lr / wd of the best 10% / 25% of each space (all runs ranked; diverged are
    # never among them), quantiles with percentile-bootstrap intervals over the models
    rng = np.random.default_rng(seed)
    rows = []
    for s in spaces:
        g = d[d["space"] == s].reset_index(drop=True)
        e = g["val_top1_err"].to_numpy(float)
        for top in (0.10, 0.25):
            k = max(1, round(top * len(g)))
            for col in ("cfg_lr", "cfg_weight_decay", "lr_x_wd"):
                x = (g["cfg_lr"] * g["cfg_weight_decay"]).to_numpy() if col == "lr_x_wd" else (
                    g[col].to_numpy(float))  # fmt: skip
                sel = np.argsort(e, kind="stable")[:k]
                q = np.quantile(x[sel], [0.05, 0.5, 0.95])
                boot = np.empty((n_boot, 3))
                for b in range(n_boot):
                    idx = rng.integers(0, len(g), len(g))
                    bs = idx[np.argsort(e[idx], kind="stable")[:k]]
                    boot[b] = np.quantile(x[bs], [0.05, 0.5, 0.95])
                lo_ci, hi_ci = np.quantile(boot, [0.025, 0.975], axis=0)
                rows.append(
                    dict(
                        space=s,
                        top=top,
                        n_top=k,
                        setting=col.replace("cfg_", ""),
                        q05=q[0],
                        q05_ci_low=lo_ci[0],
                        q05_ci_high=hi_ci[0],
                        median=q[1],
                        median_ci_low=lo_ci[1],
                        median_ci_high=hi_ci[1],
                        q95=q[2],
                        q95_ci_low=lo_ci[2],
                        q95_ci_high=hi_ci[2],
                        min=x[sel].min(),
                        max=x[sel].max(),
                        sampled_min=x.min(),
                        sampled_max=x.max(),
                        width_decades=float(np.log10(q[2] / q[0])),
                        sampled_decades=float(np.log10(x.max() / x.min())),
                        err_threshold=float(np.sort(e)[k - 1]),
                    )
                )
    region = pd.DataFrame(rows)
    region.to_csv(out / "lrwd_good_region.csv", index=False)

    # how the spaces differ: KS of the best 25%'s log10 lr / wd / lr*wd between spaces,
    # and the diverged fraction by lr decade
    diffs = []
    for col in ("log10_lr", "log10_wd", "log10_lr_x_wd"):
        tops = {
            s: d[d["space"] == s]
            .nsmallest(round(0.25 * (d["space"] == s).sum()), "val_top1_err")[col]
            .to_numpy()
            for s in spaces
        }
        for a, b in combinations(spaces, 2):
            r = ks_test(tops[a], tops[b])
            diffs.append(
                dict(
                    setting=col,
                    a=a,
                    b=b,
                    median_a=10 ** np.median(tops[a]),
                    median_b=10 ** np.median(tops[b]),
                    ratio_of_medians=10 ** (np.median(tops[a]) - np.median(tops[b])),
                    ks=r.statistic,
                    p_value=r.pvalue,
                )
            )
    pd.DataFrame(diffs).to_csv(out / "lrwd_space_differences.csv", index=False)
    dec = np.floor(d["log10_lr"]).astype(int)
    div = (
        d.assign(lr_decade=[f"[{10.0**k:g}, {10.0 ** (k + 1):g})" for k in dec], lr_k=dec)
        .groupby(["space", "lr_k", "lr_decade"])["status"]
        .agg(n="size", diverged=lambda s: int((s != "ok").sum()))
        .reset_index()
        .drop(columns="lr_k")
    )
    div["diverged_frac"] = div["diverged"] / div["n"]
    div.to_csv(out / "lrwd_diverged_by_lr.csv", index=False)


# --------------------------------------------------------------------------- 3. noise
def noise(reruns: pd.DataFrame, out: Path, n_rep: int, seed: int) -> None:
    """Seed-to-seed distribution per network, pooled noise floor, and seeds needed."""
    from designspace.analysis import noise_floor
    from designspace.reporting import plots

    rows = []
    for s, g in reruns.groupby("space", sort=False):
        for metric in ("val_top1_err", "final_val_top1_err"):
            v = g[metric].to_numpy(float)
            q = np.quantile(v, [0.05, 0.25, 0.5, 0.75, 0.95])
            rows.append(
                dict(
                    network=s,
                    metric=metric,
                    n_seeds=v.size,
                    mean=v.mean(),
                    sd=v.std(ddof=1),
                    min=v.min(),
                    q05=q[0],
                    q25=q[1],
                    median=q[2],
                    q75=q[3],
                    q95=q[4],
                    max=v.max(),
                    range=v.max() - v.min(),
                    flops=int(g["flops"].iloc[0]),
                    params=int(g["params"].iloc[0]),
                    depths=[int(x) for x in g["depths"].iloc[0]],
                    widths=[int(x) for x in g["widths"].iloc[0]],
                )
            )
    pd.DataFrame(rows).to_csv(out / "noise_per_network.csv", index=False)
    floors = []
    families = [*reruns.groupby("family", sort=False), ("all", reruns)]
    for fam, g in families:
        for metric in ("val_top1_err", "final_val_top1_err"):
            f = noise_floor(g, metric)
            floors.append(
                dict(
                    family=fam,
                    metric=metric,
                    sd=f.sd,
                    sd_low=f.sd_low,
                    sd_high=f.sd_high,
                    networks=f.n_archs,
                    runs=f.n_runs,
                    # two single runs of one network differ by more than this 5% of the time
                    single_run_diff_95=1.96 * np.sqrt(2) * f.sd,
                )
            )
    pd.DataFrame(floors).to_csv(out / "noise_floor.csv", index=False)

    # seeds per network before top and mid separate: power of three two-sample tests at level
    # 0.05 over n_rep subsamples of n seeds of each network (without replacement)
    from scipy import stats

    rng = np.random.default_rng(seed)
    ns = [2, 3, 4, 5, 6, 8, 10, 15, 20, 30]
    power = []
    for fam, g in reruns.groupby("family", sort=False):
        top = g.loc[g["space"].str.endswith("-top"), "val_top1_err"].to_numpy(float)
        mid = g.loc[g["space"].str.endswith("-mid"), "val_top1_err"].to_numpy(float)
        a_beats = float(np.mean(top[:, None] < mid[None, :]) + 0.5 * np.mean(top[:, None] == mid))
        for n in ns:
            ia = np.argsort(rng.random((n_rep, top.size)), axis=1)[:, :n]
            ib = np.argsort(rng.random((n_rep, mid.size)), axis=1)[:, :n]
            a, b = top[ia], mid[ib]
            with warnings.catch_warnings():  # n = 2 draws can tie exactly: t is nan there
                warnings.simplefilter("ignore", RuntimeWarning)
                p_t = stats.ttest_ind(a, b, axis=1, equal_var=False).pvalue
            p_u = stats.mannwhitneyu(a, b, axis=1, alternative="two-sided").pvalue
            p_ks = stats.ks_2samp(a, b, axis=1).pvalue
            power.append(
                dict(
                    family=fam,
                    n_seeds=n,
                    power_welch_t=float(np.mean(p_t < 0.05)),
                    power_mann_whitney=float(np.mean(p_u < 0.05)),
                    power_ks=float(np.mean(p_ks < 0.05)),
                    p_single_top_beats_mid=a_beats,
                    mean_diff=float(mid.mean() - top.mean()),
                )
            )
    pw = pd.DataFrame(power)
    pw.to_csv(out / "noise_separation.csv", index=False)

    # the smallest true difference n seeds can detect: two groups of n runs drawn from
    # disjoint halves of one network's 100 seeds, the second shifted by delta (the real noise
    # shape, a known difference); power of Welch's t at level 0.05
    det = []
    for s, g in reruns.groupby("space", sort=False):
        v = g["val_top1_err"].to_numpy(float)
        half = v.size // 2
        for delta in DELTAS:
            for n in [2, 3, 5, 10, 20, 30, 50]:
                if n > half:
                    continue
                perm = np.argsort(rng.random((n_rep, v.size)), axis=1)
                a = v[perm[:, :n]]
                b = v[perm[:, half : half + n]] + delta
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    p = stats.ttest_ind(a, b, axis=1, equal_var=False).pvalue
                det.append(dict(network=s, delta=delta, n_seeds=n, power=float(np.mean(p < 0.05))))
    pd.DataFrame(det).to_csv(out / "noise_detectable.csv", index=False)

    # figure: the four seed distributions and the power curves
    fig = plots.new_figure(11, 4)[0]
    fig.clear()
    ax1, ax2 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    names = list(dict.fromkeys(reruns["space"]))
    colors = palette(names)
    for s in names:
        v = np.sort(reruns.loc[reruns["space"] == s, "val_top1_err"].to_numpy(float))
        ax1.step(v * 100, np.arange(1, v.size + 1) / v.size, where="post", color=colors[s],
                 label=f"{s}: sd {v.std(ddof=1) * 100:.2f}")  # fmt: skip
    ax1.set_xlabel("CIFAR-10 top-1 error (%), min over epochs")
    ax1.set_ylabel("fraction of the 100 seeds")
    ax1.set_title("one network, 100 training seeds")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize="small")
    for (fam, g), style in zip(pw.groupby("family", sort=False), ("-", "--"), strict=False):
        for col, c in (("power_welch_t", "C0"), ("power_mann_whitney", "C1"), ("power_ks", "C2")):
            ax2.plot(g["n_seeds"], g[col], style, color=c, marker=".",
                     label=f"{fam}: {col.removeprefix('power_')}")  # fmt: skip
    ax2.axhline(0.95, color="0.5", lw=0.8)
    ax2.set_xticks([2, 4, 6, 8, 10, 15, 20, 30])
    ax2.set_xlabel("seeds per network (n)")
    ax2.set_ylabel("power at level 0.05")
    ax2.set_title("top vs mid: P(test separates them)")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize="x-small")
    plots.save(fig, out / "noise.png")


# --------------------------------------------------------------------------- 4. fidelity
def fidelity(lrwd: pd.DataFrame, out: Path, n_boot: int, seed: int) -> None:
    """Rank agreement of the error after k epochs with the final (last-epoch) error."""
    from designspace.analysis import rank_agreement
    from designspace.reporting import plots

    d = lrwd.assign(model=lrwd["space"] + "-" + lrwd["sample_index"].astype(str))
    rows = []
    for s in LRWD:
        g = d[d["space"] == s]
        final = g[["model", "status", "final_val_top1_err"]]
        for k in KS_EPOCHS + EXTRA_EPOCHS:
            early = g[["model", "status"]].assign(
                err_k=[float(c[k - 1]) for c in g["epoch_val_top1_err"]]
            )
            ra = rank_agreement(
                early, final, "err_k", "final_val_top1_err", on="model", n_boot=n_boot,
                seed=seed,
            )  # fmt: skip
            for stat, r in ra.iterrows():
                rows.append(dict(space=s, epochs=k, statistic=stat, **r.to_dict()))
    t = pd.DataFrame(rows)
    t.to_csv(out / "fidelity_rank_agreement.csv", index=False)
    # why mid-schedule errors rank differently: how lr and wd relate to them (status-ok runs)
    from scipy import stats

    cor = []
    for s in LRWD:
        g = d[(d["space"] == s) & (d["status"] == "ok")]
        e25 = [float(c[24]) for c in g["epoch_val_top1_err"]]
        cor.append(
            dict(
                space=s,
                lr_k25=stats.spearmanr(g["cfg_lr"], e25).statistic,
                lr_final=stats.spearmanr(g["cfg_lr"], g["final_val_top1_err"]).statistic,
                wd_k25=stats.spearmanr(g["cfg_weight_decay"], e25).statistic,
                wd_final=stats.spearmanr(g["cfg_weight_decay"], g["final_val_top1_err"]).statistic,
            )
        )
    pd.DataFrame(cor).to_csv(out / "fidelity_settings_correlation.csv", index=False)

    fig = plots.new_figure(11, 4)[0]
    fig.clear()
    axes = fig.subplots(1, 3, sharey=True)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.9, wspace=0.06)
    colors = palette(list(LRWD))
    for ax, stat in zip(axes, ("spearman", "kendall", "top_10%"), strict=True):
        for s in LRWD:
            g = t[(t["space"] == s)]
            g = g[g["statistic"].str.startswith("top_")] if stat == "top_10%" else g[
                g["statistic"] == stat]  # fmt: skip
            if stat == "top_10%":  # the first top-k row is 10% of the models
                g = g.groupby("epochs", as_index=False).first()
            ax.errorbar(g["epochs"], g["value"], yerr=[g["value"] - g["ci_low"],
                        g["ci_high"] - g["value"]], marker="o", capsize=3, color=colors[s],
                        label=s)  # fmt: skip
        ax.set_xscale("log")
        ticks = KS_EPOCHS + EXTRA_EPOCHS[-1:]
        ax.set_xticks(ticks, [str(k) for k in ticks])
        ax.minorticks_off()
        ax.set_xlabel("epochs k (of 50)")
        ax.set_title(f"{stat}: error after k epochs vs final")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("agreement (95% bootstrap interval)")
    axes[0].legend(fontsize="small")
    plots.save(fig, out / "fidelity.png")


# --------------------------------------------------------------------------- driver
def load(nds_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The three ImageNet lr/wd populations and the two CIFAR reruns files."""
    from designspace.formats.nds import read_nds

    lrwd = pd.concat([read_nds(nds_dir / f) for f in LRWD.values()], ignore_index=True)
    reruns = pd.concat(
        [read_nds(nds_dir / f).assign(family=fam) for fam, f in RERUNS.items()],
        ignore_index=True,
    )
    return lrwd, reruns


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nds-dir", required=True, help="folder with the NDS .json files")
    ap.add_argument("--out", required=True, help="output folder (figures and tables)")
    ap.add_argument("--readme", help="also write the README section (markdown) here")
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    ap.add_argument("--n-rep", type=int, default=2000, help="subsamples of the power tables")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    nds_dir, out = Path(args.nds_dir), Path(args.out)
    missing = [f for f in [*LRWD.values(), *RERUNS.values()] if not (nds_dir / f).is_file()]
    if missing:
        print(f"nds.py: {nds_dir} lacks {missing}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    lrwd, reruns = load(nds_dir)
    counts = {
        s: dict(models=int((lrwd["space"] == s).sum()),
                diverged=int(((lrwd["space"] == s) & (lrwd["status"] != "ok")).sum()))
        for s in LRWD
    }  # fmt: skip
    ranges = normalized_edfs(lrwd, out, args.seed)
    lr_wd(lrwd, out, args.n_boot, args.seed)
    noise(reruns, out, args.n_rep, args.seed)
    fidelity(lrwd, out, args.n_boot, args.seed)
    summary = dict(
        source="Radosavovic et al., On Network Design Spaces for Visual Recognition, ICCV 2019",
        files=[*LRWD.values(), *RERUNS.values()],
        populations=counts,
        normalization=ranges,
        n_boot=args.n_boot,
        n_rep=args.n_rep,
        seed=args.seed,
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.readme:
        from nds_readme import write_readme  # experiments/nds_readme.py, beside this script

        write_readme(out, Path(args.readme), tuple(LRWD), KS_EPOCHS, EXTRA_EPOCHS)
    print(f"wrote {len(list(out.iterdir()))} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
