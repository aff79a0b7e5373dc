"""Balance of two populations of sampled networks: do they differ in more than the step?

A comparison of two design spaces for one property (a nested step such as AnyNetXE ->
RegNetX) measures that property only when the two populations are alike in every other
structural feature. This module tabulates, feature by feature, how far apart they are, names
the features that differ although the step is not meant to change them ("confounded by
..."), and repeats the error comparison inside strata of a categorical confounder.

**Features** (:func:`structural_features`, one value per model, from the per-stage lists of
the results schema): ``num_stages`` (stage count), ``depth`` (total depth, blocks), per stage
i ``d<i>`` (depth, blocks), ``w<i>`` (width, channels), ``b<i>`` (bottleneck ratio), ``g<i>``
(group width, channels per group); ``flops`` (multiply-adds) and ``params`` when the results
have them; ``last_resolution`` (px side of the last stage's output: the input ``resolution``
through the stem's stride and every stage's stride, ``h' = (h - 1) // s + 1``) when the
results have ``resolution``, ``stem`` and ``strides``. A model without stage i has NaN there.

**Balance table** (:func:`balance`; a = the population under study, e.g. the step's
to-space, b = the one it is compared with), one row per feature:

* ``smd``: standardized mean difference (mean_a - mean_b) / sqrt((var_a + var_b) / 2) with
  sample variances (ddof 1; 0 for a single model). Zero pooled variance: 0 when the means are
  equal, +-inf when they differ (a constant shift: the largest imbalance there is).
  Per-stage features are compared among the models that have the stage; a stage that only
  one population has (e.g. a 5th stage) has no SMD (NaN, never flagged): that difference is
  the stage-count row's.
* ``p_value``: a two-sample test, descriptive (balance is a property of the two samples, not
  a hypothesis, so the flag rests on the SMD; p-values are not adjusted): stage count by
  Fisher's exact test when the two populations hold two stage counts in all (a 2 x 2 table),
  else Pearson's chi-square test of the stage-count x population table; every other feature
  by the two-sided Mann-Whitney U test (scipy's default method: exact for small samples
  without ties, else normal with tie correction). p = 1 when every model of both
  populations has the same value.
* ``intended``: the step is meant to change the feature (:data:`INTENDED`, keyed by the
  step's rule name; flops and params never are: the FLOPs band holds them comparable and the
  normalized EDF reweights flops); ``p_adjusted``: ``p_value`` Holm-adjusted over the
  table's tested features; ``imbalanced``: |smd| > ``threshold`` (0.1, the usual threshold
  of the matching literature), not intended, AND ``p_adjusted`` < ``alpha`` (0.05).

  Why the test as well as the SMD: a step's verdict is a claim about two SPACES, judged
  from random samples of them. A difference in a feature that the two spaces share in
  distribution is sampling noise, already part of what the error test allows for; with 100
  models a side the SMD of two samples of one distribution has a standard deviation of
  about sqrt(2 / 100) = 0.14, so the SMD rule alone flags about half of the features of two
  samples of the same space (every step of results/fmnist-small-progression, AnyNetXA ->
  XB included, would read "confounded"). A systematic difference (the spaces differ in the
  feature) shows as both a large SMD and a small adjusted p-value; with many models a
  trivial but significant difference is still not flagged, because of the SMD threshold.
  ``alpha=None`` gives the SMD rule alone.

**Stratified re-comparison** (:func:`stratified_comparison`): when a confounder is
categorical or discrete (stage count, last-stage resolution: :data:`STRATIFIABLE`), the
error is compared again inside every stratum (combination of their values) that holds at
least ``min_stratum`` models of each population, by van Elteren's stratified Wilcoxon test
(each stratum's rank sum weighted by 1 / (N_s + 1), normal approximation with tie
correction). Effects (a relative to b; negative = a has lower errors): the stratified
difference of medians, the strata's median differences averaged with the van Elteren weights
n_a n_b / (N_s + 1), with an asymptotic interval (standard error sqrt(sum w_s^2 se_s^2) from
each stratum's :func:`.effects.median_difference`; no resampling); and P(a model of a has a
lower error than one of b) averaged with the same weights (the quantity the test is about: 1/2
under the null).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import (
    GROUP,
    METRIC,
    group_labels,
    require_columns,
    stage_lists,
    usable,
)
from designspace.analysis.effects import median_difference
from designspace.analysis.inference import Inference
from designspace.analysis.multiplicity import adjust_pvalues
from designspace.core.arch import STEM_STRIDES
from designspace.errors import DesignSpaceError

#: |SMD| above this is an imbalance (the usual threshold of the matching literature).
SMD_THRESHOLD = 0.1
#: The fewest models of EACH population a stratum needs to enter the stratified comparison.
MIN_STRATUM = 10
#: The per-stage lists a balance needs (the results schema's).
LIST_COLUMNS = ("depths", "widths", "bottleneck_ratios", "group_widths")

#: Feature families: key -> name in sentences. Per-stage families hold one feature per stage.
FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        "num_stages": "stage count",
        "depth": "total depth",
        "d": "stage depths d",
        "w": "stage widths w",
        "b": "bottleneck ratios b",
        "g": "group widths g",
        "flops": "flops",
        "params": "params",
        "last_resolution": "last-stage resolution",
    }
)
PER_STAGE = ("d", "w", "b", "g")
_STAGE_WHAT = {
    "d": "depth of stage {i} (blocks)",
    "w": "width of stage {i} (channels)",
    "b": "bottleneck ratio of stage {i}",
    "g": "group width of stage {i} (channels per group)",
}
_SCALAR_WHAT = {
    "num_stages": "stage count",
    "depth": "total depth (blocks)",
    "flops": "flops (multiply-adds)",
    "params": "params",
    "last_resolution": "last-stage resolution (px)",
}
#: Features tested as categories (the others as numbers).
CATEGORICAL = ("num_stages",)
#: Features whose values define strata of the stratified re-comparison.
STRATIFIABLE = ("num_stages", "last_resolution")

#: What each nested step is meant to change, by the step's rule name (feature families).
INTENDED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "shared_b": ("b",),
        "shared_g": ("g",),
        "widths_increase": ("w",),
        "depths_increase": ("d",),
        "linear_widths": ("w", "d"),
        "regnet_b1": ("b",),
        "regnet_wm2": ("w",),
        "regnet_depth": ("d", "depth"),
    }
)

COLUMNS = [
    "feature",
    "family",
    "label",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "smd",
    "test",
    "p_value",
    "p_adjusted",
    "intended",
    "imbalanced",
    "note",
]
STRATA_COLUMNS = [
    "stratum",
    "n_a",
    "n_b",
    "median_a",
    "median_b",
    "median_diff",
    "p_a_beats_b",
    "p_value",
    "weight",
    "used",
]


class StepLike(Protocol):
    """What the balance reads of a nested step (:class:`designspace.analysis.rules.Step`)."""

    @property
    def rule(self) -> str: ...

    @property
    def from_space(self) -> str: ...

    @property
    def to_space(self) -> str: ...


def intended_features(rule: str) -> tuple[str, ...]:
    """The feature families nested step ``rule`` is meant to change (:data:`INTENDED`);
    DesignSpaceError for a rule it does not know."""
    if rule not in INTENDED:
        raise DesignSpaceError(
            f"no intended features are known for the step {rule!r}; known steps: "
            f"{sorted(INTENDED)} (pass intended= to balance() for another step)"
        )
    return INTENDED[rule]


def feature_family(feature: str) -> str:
    """The family of a feature key ("d3" -> "d", "flops" -> "flops")."""
    if feature in FAMILIES:
        return feature
    head, tail = feature[:1], feature[1:]
    if head in PER_STAGE and tail.isdigit():
        return head
    raise DesignSpaceError(
        f"unknown structural feature {feature!r}; features are {list(FAMILIES)} and per stage "
        f"d<i>, w<i>, b<i>, g<i>"
    )


def feature_label(feature: str) -> str:
    """A feature key in words, with its unit ("d3" -> "depth of stage 3 (blocks)")."""
    family = feature_family(feature)
    if family in PER_STAGE and family != feature:
        return _STAGE_WHAT[family].format(i=feature[1:])
    return _SCALAR_WHAT[family]


def structural_features(data: pd.DataFrame) -> pd.DataFrame:
    """One row per row of ``data`` (same index): the features of the module docstring.

    Needs the per-stage lists ``depths, widths, bottleneck_ratios, group_widths`` (JSON text
    from a CSV is read too); ``flops``, ``params`` and ``last_resolution`` appear only when
    their source columns exist. Stage i of a model with fewer stages is NaN.
    """
    require_columns(data, LIST_COLUMNS, "the balance of structural features")
    lists = {f: stage_lists(data, col) for f, col in zip(PER_STAGE, LIST_COLUMNS, strict=True)}
    stages = np.array([x.size for x in lists["d"]], dtype=float)
    for f in ("w", "b", "g"):
        if any(x.size != s for x, s in zip(lists[f], stages, strict=True)):
            raise DesignSpaceError(
                f"a row's per-stage lists differ in length ({LIST_COLUMNS[PER_STAGE.index(f)]} "
                f"vs depths); the results row is inconsistent - re-create it from its arch_json"
            )
    n_max = int(stages.max()) if stages.size else 0
    out: dict[str, np.ndarray] = {
        "num_stages": stages,
        "depth": np.array([x.sum() for x in lists["d"]], dtype=float),
    }
    for f in PER_STAGE:
        for i in range(n_max):
            out[f"{f}{i + 1}"] = np.array(
                [x[i] if i < x.size else np.nan for x in lists[f]], dtype=float
            )
    for col in ("flops", "params"):
        if col in data.columns:
            out[col] = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
    if {"resolution", "stem", "strides"} <= set(data.columns):
        out["last_resolution"] = _last_resolution(data)
    return pd.DataFrame(out, index=data.index)


def _last_resolution(data: pd.DataFrame) -> np.ndarray:
    """Side (px) of the last stage's output: input resolution -> stem stride -> strides; NaN
    where the resolution or the stem is unknown."""
    res = pd.to_numeric(data["resolution"], errors="coerce").to_numpy(dtype=float)
    strides = stage_lists(data, "strides")
    out = np.full(len(data), np.nan)
    for k, (h, stem, s) in enumerate(zip(res, data["stem"].to_numpy(), strides, strict=True)):
        if not np.isfinite(h) or stem not in STEM_STRIDES:
            continue
        side = int(h)
        for stride in (STEM_STRIDES[stem], *s.astype(int)):
            side = (side - 1) // int(stride) + 1
        out[k] = side
    return out


def _check_threshold(threshold: float, alpha: float | None) -> None:
    if not (_real(threshold) and np.isfinite(threshold) and threshold > 0):
        raise DesignSpaceError(
            f"the SMD threshold must be a number > 0 (e.g. 0.1), got {threshold!r}"
        )
    if alpha is not None and not (_real(alpha) and 0 < alpha < 1):
        raise DesignSpaceError(
            f"the balance's alpha must be in (0, 1) (e.g. 0.05) or None, got {alpha!r}"
        )


def _real(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _check_intended(intended: Iterable[str]) -> frozenset[str]:
    """``intended`` as a set of families (feature keys are accepted and kept as they are)."""
    if isinstance(intended, str):
        intended = (intended,)
    names = frozenset(intended)
    for name in names:
        if name in ("flops", "params"):
            raise DesignSpaceError(
                f"{name} cannot be an intended feature: the FLOPs band holds it comparable; "
                f"leave it out of intended="
            )
        feature_family(name)  # raises on an unknown name
    return names


def smd(a: np.ndarray, b: np.ndarray) -> float:
    """Standardized mean difference (mean_a - mean_b) / sqrt((var_a + var_b) / 2) (sample
    variances, ddof 1; 0 for one value); 0 / +-inf at zero pooled variance (equal / different
    means); NaN when a sample is empty. NaN values are ignored."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    diff = float(a.mean() - b.mean())
    pooled = np.sqrt((_var(a) + _var(b)) / 2)
    if pooled == 0:
        return 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
    return diff / float(pooled)


def _var(x: np.ndarray) -> float:
    return float(x.var(ddof=1)) if x.size > 1 else 0.0


def _test(feature: str, a: np.ndarray, b: np.ndarray) -> tuple[str, float]:
    """(name of the test, two-sided p-value) of the two samples of ``feature``."""
    if feature in CATEGORICAL:
        values = np.union1d(a, b)
        table = np.array([[np.sum(a == v), np.sum(b == v)] for v in values])
        if values.size == 1:
            return "Fisher exact", 1.0
        if values.size == 2:
            return "Fisher exact", float(stats.fisher_exact(table).pvalue)
        return "chi-square", float(stats.chi2_contingency(table, correction=False).pvalue)
    if np.unique(np.concatenate([a, b])).size == 1:
        return "Mann-Whitney U", 1.0
    return "Mann-Whitney U", float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def balance(
    a: pd.DataFrame,
    b: pd.DataFrame,
    intended: Iterable[str] = (),
    *,
    threshold: float = SMD_THRESHOLD,
    alpha: float | None = 0.05,
    names: tuple[str, str] = ("a", "b"),
) -> pd.DataFrame:
    """The balance table of populations ``a`` and ``b`` (rows as given: pass the models that
    enter the comparison), one row per feature (columns :data:`COLUMNS`; module docstring).

    ``intended``: feature families (``"w"``, ``"d"``, ``"depth"``, ...; see :data:`FAMILIES`)
    or single features (``"w4"``) the compared step is meant to change, e.g.
    ``intended_features("linear_widths")``; ``threshold``: |SMD| above it is an imbalance
    when the Holm-adjusted p-value is also below ``alpha`` (None: the SMD alone decides);
    ``names``: the two populations in the notes. Raises DesignSpaceError on an empty
    population, a missing per-stage column, an unknown feature or a bad threshold or alpha.
    """
    _check_threshold(threshold, alpha)
    wanted = _check_intended(intended)
    for frame, name in ((a, names[0]), (b, names[1])):
        if not isinstance(frame, pd.DataFrame) or len(frame) == 0:
            raise DesignSpaceError(
                f"the balance needs models of both populations; {name} has none - check the "
                f"group names"
            )
    feats = structural_features(pd.concat([a, b], ignore_index=True))
    in_a = np.arange(len(feats)) < len(a)
    return _table(feats, in_a, wanted, threshold, alpha, names)


def _table(
    feats: pd.DataFrame,
    in_a: np.ndarray,
    intended: frozenset[str],
    threshold: float,
    alpha: float | None,
    names: tuple[str, str],
) -> pd.DataFrame:
    """The balance table of the rows of ``feats`` split by ``in_a`` (a) and the rest (b)."""
    rows = []
    total_a, total_b = int(in_a.sum()), int((~in_a).sum())
    for feature in feats.columns:
        x = feats[feature].to_numpy(dtype=float)
        va, vb = x[in_a], x[~in_a]
        va, vb = va[~np.isnan(va)], vb[~np.isnan(vb)]
        family = feature_family(feature)
        meant = family in intended or feature in intended
        row = dict(
            feature=feature,
            family=family,
            label=feature_label(feature),
            n_a=va.size,
            n_b=vb.size,
            mean_a=float(va.mean()) if va.size else np.nan,
            mean_b=float(vb.mean()) if vb.size else np.nan,
            smd=smd(va, vb),
            test="",
            p_value=np.nan,
            p_adjusted=np.nan,
            intended=meant,
            imbalanced=False,
            note="",
        )
        if va.size and vb.size:
            row["test"], row["p_value"] = _test(feature, va, vb)
            if family in PER_STAGE and (va.size < total_a or vb.size < total_b):
                row["note"] = (
                    f"models with a stage {feature[1:]}: {va.size} of {total_a} ({names[0]}), "
                    f"{vb.size} of {total_b} ({names[1]})"
                )
        elif va.size or vb.size:
            only, n, total = (
                (names[0], va.size, total_a) if va.size else (names[1], vb.size, total_b)
            )
            row["note"] = (
                f"only {only} has it ({n} of {total} models); the stage-count row measures "
                f"that difference"
                if family in PER_STAGE
                else f"only {only} has a value ({n} of {total} models)"
            )
        else:
            row["note"] = "no model has a value"
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["p_adjusted"] = adjust_pvalues(table["p_value"].to_numpy(dtype=float), "holm")
    large = np.abs(table["smd"].to_numpy(dtype=float)) > threshold  # NaN: False
    beyond_noise = (
        np.ones(len(table), dtype=bool)
        if alpha is None
        else table["p_adjusted"].to_numpy(dtype=float) < alpha
    )
    table["imbalanced"] = large & beyond_noise & ~table["intended"].to_numpy(dtype=bool)
    return table


def _stage_ranges(stages: Sequence[int]) -> str:
    """[1, 2, 3, 5] -> "stages 1-3, 5"."""
    parts, run = [], [stages[0]]
    for s in stages[1:]:
        if s == run[-1] + 1:
            run.append(s)
        else:
            parts.append(run)
            run = [s]
    parts.append(run)
    text = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in parts)
    return ("stage " if len(stages) == 1 else "stages ") + text


def confounders(table: pd.DataFrame) -> list[str]:
    """The imbalanced features of a :func:`balance` table in words, one entry per family in
    table order, per-stage families with their stages ("bottleneck ratios b (stages 1-4)")."""
    require_columns(table, ["feature", "family", "imbalanced"], "confounders")
    flagged = table[table["imbalanced"].astype(bool)]
    out = []
    for family in dict.fromkeys(flagged["family"]):
        name = FAMILIES.get(family, family)
        if family in PER_STAGE:
            rows = flagged[flagged["family"] == family]
            stages = sorted(int(f[1:]) for f in rows["feature"])
            name = f"{name} ({_stage_ranges(stages)})"
        out.append(name)
    return out


def confounded_label(table: pd.DataFrame) -> str:
    """ "confounded by <feature>[, ...]" for a :func:`balance` table with an imbalance, else
    "" (balanced)."""
    found = confounders(table)
    return f"confounded by {', '.join(found)}" if found else ""


def stratifiable(table: pd.DataFrame) -> list[str]:
    """The imbalanced features of ``table`` that define strata (:data:`STRATIFIABLE`)."""
    flagged = set(table.loc[table["imbalanced"].astype(bool), "feature"])
    return [f for f in STRATIFIABLE if f in flagged]


@dataclass(frozen=True)
class Stratified:
    """A stratified re-comparison of the errors of populations a and b (module docstring).

    ``by``: the stratifying features; ``table``: one row per stratum (columns
    :data:`STRATA_COLUMNS`: the stratum in words, models, medians, median_diff = median_a -
    median_b, P(a beats b), the stratum's Mann-Whitney p-value, its van Elteren weight and
    whether it had ``min_stratum`` models of each population); the rest pool the used strata:
    ``n_a``, ``n_b`` models, van Elteren ``z`` (positive: a has higher errors) and two-sided
    ``p_value``, ``effect`` = weighted difference of medians (a - b, error units; negative: a
    lower) with its ``1 - alpha`` asymptotic interval ``ci_low``..``ci_high``, ``p_a_beats_b``
    (weighted). All NaN when no stratum qualifies.
    """

    by: tuple[str, ...]
    table: pd.DataFrame
    min_stratum: int
    n_a: int
    n_b: int
    z: float
    p_value: float
    effect: float
    ci_low: float
    ci_high: float
    p_a_beats_b: float
    alpha: float
    names: tuple[str, str] = ("a", "b")

    @property
    def n_strata(self) -> int:
        """How many strata entered the comparison."""
        return int(self.table["used"].sum()) if len(self.table) else 0

    def sentence(self) -> str:
        """The result in one sentence."""
        by = " x ".join(feature_label(f) for f in self.by)
        a, b = self.names
        if not self.n_strata:
            return (
                f"Stratified by {by}: no stratum holds at least {self.min_stratum} models of "
                f"both {a} and {b}, so the comparison cannot be made within strata."
            )
        return (
            f"Stratified by {by} ({self.n_strata} of {len(self.table)} strata with at least "
            f"{self.min_stratum} models of each; n = {self.n_a} + {self.n_b}): median error "
            f"change {a} - {b} {self.effect:+.4f} ({1 - self.alpha:.3g} interval "
            f"{self.ci_low:+.4f} to {self.ci_high:+.4f}); P(a {a} model beats a {b} model) "
            f"{self.p_a_beats_b:.2f}; van Elteren z = {self.z:+.2f}, p = {self.p_value:.2g}."
        )


def _stratum_name(features: Sequence[str], values: Sequence[float]) -> str:
    parts = []
    for f, v in zip(features, values, strict=True):
        parts.append(f"{int(v)} stages" if f == "num_stages" else f"{feature_label(f)} {v:g}")
    return ", ".join(parts)


def stratified_comparison(
    a: pd.DataFrame,
    b: pd.DataFrame,
    by: Sequence[str],
    metric: str = METRIC,
    *,
    min_stratum: int = MIN_STRATUM,
    inference: Inference | None = None,
    names: tuple[str, str] = ("a", "b"),
) -> Stratified:
    """Errors ``metric`` of populations ``a`` and ``b`` compared within the strata of the
    features ``by`` (from :data:`STRATIFIABLE`; module docstring). Only models with status
    "ok" and a finite metric count. ``inference`` gives alpha (interval level 1 - alpha, not
    adjusted; default ``Inference()``). Strata with fewer than
    ``min_stratum`` models of either population are listed but not used."""
    inference = inference or Inference()
    by = tuple(by)
    if not by or any(f not in STRATIFIABLE for f in by):
        raise DesignSpaceError(
            f"strata are defined by {list(STRATIFIABLE)}, got {list(by)}; choose among them"
        )
    if not isinstance(min_stratum, int) or isinstance(min_stratum, bool) or min_stratum < 2:
        raise DesignSpaceError(f"min_stratum must be a whole number >= 2, got {min_stratum!r}")
    ua = usable(a, metric, LIST_COLUMNS, f"the stratified comparison ({names[0]})").data
    ub = usable(b, metric, LIST_COLUMNS, f"the stratified comparison ({names[1]})").data
    feats = structural_features(pd.concat([ua, ub], ignore_index=True))
    missing = [f for f in by if f not in feats.columns]
    if missing:
        raise DesignSpaceError(
            f"cannot stratify by {missing}: the results lack the columns it is computed from "
            f"(resolution, stem, strides)"
        )
    err = np.concatenate([ua[metric].to_numpy(dtype=float), ub[metric].to_numpy(dtype=float)])
    in_a = np.arange(err.size) < len(ua)
    keys = feats[list(by)].to_numpy(dtype=float)
    known = ~np.isnan(keys).any(axis=1)
    rows, used = [], []
    for key in np.unique(keys[known], axis=0):
        m = known & (keys == key).all(axis=1)
        ea, eb = err[m & in_a], err[m & ~in_a]
        row = dict(
            stratum=_stratum_name(by, key),
            n_a=ea.size,
            n_b=eb.size,
            median_a=float(np.median(ea)) if ea.size else np.nan,
            median_b=float(np.median(eb)) if eb.size else np.nan,
            median_diff=np.nan,
            p_a_beats_b=np.nan,
            p_value=np.nan,
            weight=np.nan,
            used=bool(min(ea.size, eb.size) >= min_stratum),
        )
        if ea.size and eb.size:
            row["median_diff"] = row["median_a"] - row["median_b"]
            u = _u_statistic(ea, eb)
            row["p_a_beats_b"] = 1.0 - u / (ea.size * eb.size)
            if np.unique(np.concatenate([ea, eb])).size > 1:
                row["p_value"] = float(stats.mannwhitneyu(ea, eb).pvalue)
            else:
                row["p_value"] = 1.0
        if row["used"]:
            row["weight"] = ea.size * eb.size / (ea.size + eb.size + 1)
            used.append((ea, eb))
        rows.append(row)
    table = pd.DataFrame(rows, columns=STRATA_COLUMNS)
    pooled = _van_elteren(used, inference) if used else dict.fromkeys(_POOLED, np.nan)
    return Stratified(
        by=by,
        table=table,
        min_stratum=min_stratum,
        n_a=int(sum(x.size for x, _ in used)),
        n_b=int(sum(y.size for _, y in used)),
        alpha=inference.alpha,
        names=names,
        **pooled,
    )


_POOLED = ("z", "p_value", "effect", "ci_low", "ci_high", "p_a_beats_b")


def _u_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Mann-Whitney U of a: #(a > b) + #(a == b) / 2 over all pairs."""
    ranks = stats.rankdata(np.concatenate([a, b]))
    return float(ranks[: a.size].sum() - a.size * (a.size + 1) / 2)


def _van_elteren(
    strata: list[tuple[np.ndarray, np.ndarray]], inference: Inference
) -> dict[str, float]:
    """van Elteren's test over ``strata`` (pairs of error samples a, b) and the weighted
    effects of :class:`Stratified`."""
    t = var = 0.0
    weights, diffs, beats, ses = [], [], [], []
    for a, b in strata:
        na, nb = a.size, b.size
        n = na + nb
        pooled = np.concatenate([a, b])
        rank_sum = float(stats.rankdata(pooled)[:na].sum())
        _, counts = np.unique(pooled, return_counts=True)
        ties = float(np.sum(counts**3 - counts)) / (n * (n - 1))
        t += (rank_sum - na * (n + 1) / 2) / (n + 1)
        var += na * nb * (n + 1 - ties) / 12 / (n + 1) ** 2
        weights.append(na * nb / (n + 1))
        d = median_difference(a, b)
        diffs.append(d.diff)
        ses.append(d.se)
        beats.append(1.0 - _u_statistic(a, b) / (na * nb))
    w = np.asarray(weights) / np.sum(weights)
    z = t / np.sqrt(var) if var > 0 else 0.0
    effect = float(np.dot(w, diffs))
    half = stats.norm.ppf(1 - inference.alpha / 2) * float(np.sqrt(np.dot(w**2, np.square(ses))))
    lo, hi = effect - half, effect + half
    return dict(
        z=float(z),
        p_value=float(2 * stats.norm.sf(abs(z))) if var > 0 else 1.0,
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_a_beats_b=float(np.dot(w, beats)),
    )


@dataclass(frozen=True)
class StepBalance:
    """The balance of one compared pair: ``to_space`` (population a) against ``from_space``
    (population b) for nested step ``rule`` (None: a pair that is no step). ``table``:
    :func:`balance` with the families or features ``intended``; ``confounders``:
    :func:`confounders`; ``stratified``: the re-comparison within strata of the stratifiable
    confounders (None when there is none)."""

    rule: str | None
    from_space: str
    to_space: str
    table: pd.DataFrame
    confounders: tuple[str, ...]
    stratified: Stratified | None
    intended: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """ "confounded by ..." (a step), "differs in ..." (a pair that is no step: nothing is
        intended, so the listed features may be what the two spaces are meant to differ
        in) or "" (balanced)."""
        if not self.confounders:
            return ""
        return ("confounded by " if self.rule else "differs in ") + ", ".join(self.confounders)

    def sentence(self) -> str:
        """The confounders of the pair in one sentence."""
        pair = f"{self.from_space} -> {self.to_space}" + (f" ({self.rule})" if self.rule else "")
        meant = ", ".join(FAMILIES.get(f) or feature_label(f) for f in self.intended)
        if self.rule is None:
            if not self.confounders:
                return f"{pair}: no structural feature differs systematically."
            return (
                f"{pair}: {self.label} (no nested step, so nothing is intended: the comparison "
                f"measures these differences, whether or not the spaces are meant to differ "
                f"in them)."
            )
        meant_say = f"the step is meant to change {meant}" if meant else "nothing is intended"
        if not self.confounders:
            return f"{pair}: balanced ({meant_say}; no other feature differs systematically)."
        return f"{pair}: {self.label} ({meant_say}); the comparison measures these differences too."


def step_balance(
    data: pd.DataFrame,
    from_space: str,
    to_space: str,
    rule: str | None = None,
    *,
    by: str = GROUP,
    metric: str = METRIC,
    threshold: float = SMD_THRESHOLD,
    min_stratum: int = MIN_STRATUM,
    inference: Inference | None = None,
    intended: Iterable[str] | None = None,
) -> StepBalance:
    """The balance of ``to_space`` against ``from_space`` (groups of column ``by``) over the
    usable models (status "ok", finite ``metric``), and the stratified re-comparison of the
    error when a stratifiable feature is imbalanced. ``intended`` defaults to the step's
    (:func:`intended_features` of ``rule``; nothing when ``rule`` is None); ``inference``
    (default ``Inference()``) gives the balance's alpha and the stratified comparison's
    level."""
    inference = inference or Inference()
    u = usable(data, metric, [by, *LIST_COLUMNS], "the balance").data
    labels = group_labels(u, by)
    a, b = u[labels == to_space], u[labels == from_space]
    for name, part in ((to_space, a), (from_space, b)):
        if len(part) == 0:
            raise DesignSpaceError(
                f"the balance of {from_space} -> {to_space} needs models of {name} in column "
                f"{by!r}; the groups are {sorted(set(labels))}"
            )
    if intended is None:
        intended = intended_features(rule) if rule is not None else ()
    intended = (intended,) if isinstance(intended, str) else tuple(intended)
    table = balance(
        a, b, intended, threshold=threshold, alpha=inference.alpha, names=(to_space, from_space)
    )
    strata = stratifiable(table)
    strat = None
    if strata:
        strat = stratified_comparison(
            a,
            b,
            strata,
            metric,
            min_stratum=min_stratum,
            inference=inference,
            names=(to_space, from_space),
        )
    return StepBalance(
        rule, from_space, to_space, table, tuple(confounders(table)), strat, intended
    )


def step_labels(
    data: pd.DataFrame,
    steps: Iterable[StepLike],
    by: str = GROUP,
    *,
    threshold: float = SMD_THRESHOLD,
    alpha: float | None = 0.05,
) -> dict[tuple[str, str], str]:
    """(from_space, to_space) -> "confounded by ..." / "" (balanced) for every step of
    ``steps`` whose two spaces both have models in ``data`` (rows as given: pass the models
    that enter the comparison), by :func:`balance` with ``threshold`` and ``alpha``. "not
    assessed (...)" says why a step could not be judged: no per-stage columns, or a rule
    without :data:`INTENDED` features."""
    _check_threshold(threshold, alpha)
    steps = list(steps)
    if not steps:
        return {}
    labels = group_labels(data, by)
    present = [s for s in steps if (labels == s.from_space).any() and (labels == s.to_space).any()]
    if not present:
        return {}
    lacking = [c for c in LIST_COLUMNS if c not in data.columns]
    if lacking:
        why = f"not assessed (the results lack {', '.join(lacking)})"
        return {(s.from_space, s.to_space): why for s in present}
    out = {}
    for s in present:
        key = (s.from_space, s.to_space)
        if s.rule not in INTENDED:
            out[key] = f"not assessed (no intended features are known for {s.rule})"
            continue
        m = (labels == s.to_space) | (labels == s.from_space)
        try:
            feats = structural_features(data[m])
        except DesignSpaceError as exc:  # e.g. a model without its per-stage lists
            out[key] = f"not assessed ({exc})"
            continue
        table = _table(
            feats.dropna(axis=1, how="all"),
            (labels == s.to_space)[m],
            frozenset(INTENDED[s.rule]),
            threshold,
            alpha,
            (s.to_space, s.from_space),
        )
        out[key] = confounded_label(table)
    return out


def balance_frame(results: Sequence[StepBalance]) -> pd.DataFrame:
    """The balance tables of ``results`` in one frame (``balance.csv``): columns rule,
    from_space, to_space, confounded (the pair's label), then :data:`COLUMNS` (a = to_space,
    b = from_space)."""
    parts = [
        r.table.assign(
            rule=r.rule or "", from_space=r.from_space, to_space=r.to_space, confounded=r.label
        )
        for r in results
    ]
    head = ["rule", "from_space", "to_space", "confounded"]
    if not parts:
        return pd.DataFrame(columns=head + COLUMNS)
    return pd.concat(parts, ignore_index=True)[head + COLUMNS]


def strata_frame(results: Sequence[StepBalance]) -> pd.DataFrame:
    """The stratified re-comparisons of ``results`` in one frame: per pair, its strata
    (:data:`STRATA_COLUMNS`) and a last row ``stratum = "pooled (van Elteren)"`` with the
    pooled n, effect (in median_diff), its interval (ci_low, ci_high), P(a beats b), z and
    p-value."""
    head = ["rule", "from_space", "to_space", "by"]
    rows = []
    for r in results:
        s = r.stratified
        if s is None:
            continue
        ident = dict(
            rule=r.rule or "", from_space=r.from_space, to_space=r.to_space, by=" x ".join(s.by)
        )
        rows += [ident | row for row in s.table.to_dict("records")]
        rows.append(
            ident
            | dict(
                stratum="pooled (van Elteren)",
                n_a=s.n_a,
                n_b=s.n_b,
                median_diff=s.effect,
                ci_low=s.ci_low,
                ci_high=s.ci_high,
                p_a_beats_b=s.p_a_beats_b,
                z=s.z,
                p_value=s.p_value,
                used=bool(s.n_strata),
            )
        )
    return pd.DataFrame(rows, columns=head + STRATA_COLUMNS + ["ci_low", "ci_high", "z"])
