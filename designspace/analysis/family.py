"""One error budget per study: the confirmatory family, adjusted once, and everything else
labelled exploratory.

A study exists to test a few claims: the nested steps whose two spaces it holds
(:data:`.rules.NESTED_STEPS`) and, when it declares them, preferences of the best models
(:data:`PREFERENCE_CLAIMS`). Those claims are its **confirmatory family** (:class:`Family`).
Their deciding p-values (Brunner-Munzel for a step, the stratified permutation test for a
preference) are adjusted together, once, by the analysis' adjustment (Holm by default), so
the chance of any false confirmatory claim is at most alpha whatever the study reports
besides. The nested-steps table and the preferences table each hold part of the family; each
is computed with :class:`FamilyInference` / ``others`` = the raw p-values of the family's
members in the other table, so both apply one Holm over the same vector and every claim has
one adjusted p-value, the same in every table that shows it. A sharing step's equivalence
test (TOST) and the sensitivity tests (KS, without outliers) are adjusted over a family of
the same size (their own p-values plus the other table's members).

Every other verdict - the pairwise and normalized comparisons, the observational rules, the
steps and preferences the study did not declare - is **exploratory**: adjusted within its own
table, labelled ``family = "exploratory"`` and never listed among the findings
(:func:`findings`).

Names: a step by its rule (``shared_b``, ``widths_increase``, ...), a preference by its rule
in the verdicts table (``best_b``, ``good_g``, ``good_depth``, ``good_wm``). Pure: numpy and
pandas only.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from designspace.analysis._data import GROUP, METRIC, group_labels, usable
from designspace.analysis.effects import superiority
from designspace.analysis.inference import Inference
from designspace.analysis.multiplicity import adjust_pvalues, interval_alpha
from designspace.errors import DesignSpaceError

CONFIRMATORY = "confirmatory"
EXPLORATORY = "exploratory"

#: Preference claims a study may declare (its rule in the verdicts table -> the statistic
#: column of :func:`.preferences.preferences`).
PREFERENCE_CLAIMS: dict[str, str] = {
    "best_b": "b",
    "good_g": "g",
    "good_depth": "depth",
    "good_wm": "wm",
}

#: Verdicts that claim something (a difference, an association, equivalence or support).
CLAIM_VERDICTS = frozenset(
    {
        "supported",
        "contradicted",
        "better",
        "worse",
        "equivalent",
        "association",
        "reverse association",
    }
)

#: The fewest usable models per space for a nested step to be tested (as in
#: :func:`.rules.nested_rules`).
MIN_MODELS = 10


class _StepLike(Protocol):
    """What this module reads of a nested step (:class:`.rules.Step`)."""

    rule: str
    from_space: str
    to_space: str
    sharing: bool


def _steps(steps: Sequence[_StepLike] | None) -> Sequence[_StepLike]:
    if steps is not None:
        return steps
    from designspace.analysis.rules import NESTED_STEPS

    return NESTED_STEPS


def known_claims(steps: Sequence[_StepLike] | None = None) -> tuple[str, ...]:
    """Every name a confirmatory family may hold: the nested steps' rules, then the
    preference claims."""
    return tuple(s.rule for s in _steps(steps)) + tuple(PREFERENCE_CLAIMS)


def check_names(
    names: Iterable[object], where: str = "confirmatory", steps: Sequence[_StepLike] | None = None
) -> tuple[str, ...]:
    """``names`` as a tuple of known claim names (duplicates dropped, order kept); raises
    DesignSpaceError naming the first unknown one, the closest known name and all of them."""
    known = known_claims(steps)
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DesignSpaceError(
                f"{where}: unknown claim {name!r}{hint}; a confirmatory family holds nested "
                f"steps and preferences: {', '.join(known)}"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


@dataclass(frozen=True)
class Family:
    """The confirmatory family of one analysis: the rules of its nested ``steps`` and its
    ``preferences`` (claim names of :data:`PREFERENCE_CLAIMS`), each in canonical order;
    ``declared`` says whether the study or the options named it (else: the default, every
    nested step present)."""

    steps: tuple[str, ...]
    preferences: tuple[str, ...] = ()
    declared: bool = False

    @property
    def members(self) -> tuple[str, ...]:
        """Every claim of the family: steps, then preferences."""
        return self.steps + self.preferences

    @property
    def preference_columns(self) -> tuple[str, ...]:
        """The statistic columns of the family's preferences (b, g, depth, wm)."""
        return tuple(PREFERENCE_CLAIMS[p] for p in self.preferences)

    def label(self, rule: str) -> str:
        """:data:`CONFIRMATORY` for a member (a rule or a preference column), else
        :data:`EXPLORATORY`."""
        inside = rule in self.members or rule in self.preference_columns
        return CONFIRMATORY if inside else EXPLORATORY

    def labels(self, rules: Iterable[str]) -> list[str]:
        """:meth:`label` of each of ``rules``."""
        return [self.label(str(r)) for r in rules]

    def describe(self) -> str:
        """One line: the members, or that the family is empty."""
        if not self.members:
            return "the confirmatory family is empty: every verdict is exploratory"
        how = "declared" if self.declared else "by default: every nested step present"
        return f"confirmatory family ({how}): {', '.join(self.members)}"


def resolve(
    declared: Sequence[str] | None,
    groups: Sequence[str],
    steps: Sequence[_StepLike] | None = None,
) -> Family:
    """The confirmatory family of an analysis of ``groups``: the ``declared`` claims (checked
    by :func:`check_names`; a declared step whose spaces are absent stays in the family and is
    reported "not testable"), or, when None, every nested step whose two spaces are among
    ``groups`` and no preference."""
    all_steps = _steps(steps)
    if declared is None:
        present = set(groups)
        rules = tuple(s.rule for s in all_steps if {s.from_space, s.to_space} <= present)
        return Family(rules, (), declared=False)
    names = set(check_names(declared, steps=all_steps))
    return Family(
        tuple(s.rule for s in all_steps if s.rule in names),
        tuple(p for p in PREFERENCE_CLAIMS if p in names),
        declared=True,
    )


def check_study_family(
    names: object, spaces: Sequence[str], where: str, steps: Sequence[_StepLike] | None = None
) -> tuple[str, ...]:
    """A study file's ``confirmatory`` value checked against its ``spaces``: a list of known
    claim names whose nested steps have both spaces in the study. DesignSpaceError (naming
    ``where``) otherwise."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DesignSpaceError(
            f"{where}: 'confirmatory' must be a list of claim names, e.g. "
            f'["shared_b", "widths_increase", "good_wm"], got {names!r}'
        )
    out = check_names(names, f"{where}: 'confirmatory'", steps)
    for s in _steps(steps):
        if s.rule in out and not {s.from_space, s.to_space} <= set(spaces):
            raise DesignSpaceError(
                f"{where}: 'confirmatory' names step {s.rule!r} ({s.from_space} -> "
                f"{s.to_space}) but the study does not hold both spaces; add them to 'spaces' "
                f"or drop the step"
            )
    return out


@dataclass(frozen=True)
class FamilyInference(Inference):
    """An :class:`.inference.Inference` whose adjustment runs over the p-values it is given
    plus ``others``: the raw p-values of the family's members computed elsewhere (nan: not a
    test). ``adjusted(p)`` returns the first ``len(p)`` entries of the adjustment of ``p`` +
    ``others``; ``level`` counts ``others`` among the tests (and, for BH, among the claims by
    their adjustment over the joint family without ``p``)."""

    others: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        others = tuple(float(p) for p in self.others)
        if any(np.isfinite(p) and not 0 <= p <= 1 for p in others):
            raise DesignSpaceError(f"the family's other p-values must lie in [0, 1]: {others}")
        object.__setattr__(self, "others", others)

    @property
    def _finite_others(self) -> np.ndarray:
        o = np.asarray(self.others, dtype=float)
        return o[np.isfinite(o)]

    def adjusted(self, p: object) -> np.ndarray:
        own = np.asarray(p, dtype=float).ravel()
        joint = adjust_pvalues(np.concatenate([own, self._finite_others]), self.adjust)
        return joint[: own.size]

    def level(self, n_tests: int, n_claims: int) -> float:
        extra = self._finite_others
        claims = int(np.sum(adjust_pvalues(extra, self.adjust) < self.alpha)) if extra.size else 0
        return interval_alpha(self.alpha, n_tests + extra.size, self.adjust, n_claims + claims)


def with_others(inference: Inference, others: Iterable[float]) -> FamilyInference:
    """``inference`` as a :class:`FamilyInference` with ``others``."""
    return FamilyInference(
        alpha=inference.alpha,
        adjust=inference.adjust,
        margin=inference.margin,
        noise=inference.noise_sd,
        others=tuple(float(p) for p in others),
    )


def step_pvalues(
    data: pd.DataFrame,
    steps: Sequence[_StepLike],
    metric: str = METRIC,
    by: str = GROUP,
    min_models: int = MIN_MODELS,
) -> tuple[float, ...]:
    """The raw Brunner-Munzel p-value of each of ``steps`` (to-space against from-space, as
    :func:`.rules.nested_rules` computes it; nan when a space has fewer than ``min_models``
    usable models): the nested steps' part of the family, for the preferences table."""
    u = usable(data, metric, [by], "the confirmatory family").data
    labels = group_labels(u, by)
    err = u[metric].to_numpy(dtype=float)
    out = []
    for s in steps:
        a, b = err[labels == s.from_space], err[labels == s.to_space]
        out.append(
            float(superiority(b, a).p_value) if min(a.size, b.size) >= min_models else np.nan
        )
    return tuple(out)


def family_pvalues(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """The raw deciding p-values of the confirmatory rows of ``tables`` (each with columns
    ``family``, ``p_value`` and ``rule`` or ``column``), indexed by member name; nan rows
    (not testable) are dropped."""
    parts = []
    for t in tables.values():
        if t is None or "family" not in t.columns:
            continue
        conf = t[t["family"] == CONFIRMATORY]
        key = "rule" if "rule" in conf.columns else "column"
        parts.append(pd.Series(conf["p_value"].to_numpy(dtype=float), index=conf[key].to_numpy()))
    if not parts:
        return pd.Series(dtype=float)
    p = pd.concat(parts)
    return p[np.isfinite(p.to_numpy())]


FINDING_COLUMNS = [
    "rule",
    "claim",
    "evidence",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "family",
    "sentence",
]


def findings(
    nested: pd.DataFrame | None,
    preferences: pd.DataFrame | None,
    family: Family | None = None,
) -> pd.DataFrame:
    """The study's findings: the confirmatory rows of the nested-steps table and of the
    preferences table (columns :data:`FINDING_COLUMNS`; preference effect = shift with its
    interval), then a "not testable" row for each member of ``family`` that neither table
    holds (its spaces or columns are absent). Exploratory rows never appear."""
    rows: list[dict] = []
    if nested is not None and "family" in nested.columns:
        conf = nested[nested["family"] == CONFIRMATORY]
        rows += conf.reindex(columns=FINDING_COLUMNS).to_dict("records")
    if preferences is not None and "family" in preferences.columns:
        claim_of = {v: k for k, v in PREFERENCE_CLAIMS.items()}
        for p in preferences[preferences["family"] == CONFIRMATORY].itertuples():
            rows.append(
                dict(
                    rule=claim_of.get(p.column, p.column),
                    claim=f"the best models prefer particular values of {p.column}",
                    evidence="preference of the best models",
                    verdict=p.verdict,
                    effect=getattr(p, "shift", np.nan),
                    ci_low=getattr(p, "shift_low", np.nan),
                    ci_high=getattr(p, "shift_high", np.nan),
                    p_value=getattr(p, "p_value", np.nan),
                    p_adjusted=getattr(p, "p_adjusted", np.nan),
                    family=CONFIRMATORY,
                    sentence=p.sentence,
                )
            )
    shown = {r["rule"] for r in rows}
    for name in family.members if family is not None else ():
        if name not in shown:
            rows.append(
                dict(
                    rule=name,
                    verdict="not testable",
                    family=CONFIRMATORY,
                    sentence=f"{name}: not testable here (the data lack its spaces or columns).",
                )
            )
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def is_claim(verdicts: Iterable[object]) -> np.ndarray:
    """True for each verdict that claims something (:data:`CLAIM_VERDICTS`)."""
    return np.array([str(v) in CLAIM_VERDICTS for v in verdicts], dtype=bool)


def false_under_null(
    row: Mapping[str, object], alpha: float, steps: Sequence[_StepLike] | None = None
) -> bool:
    """Whether a claim row would be false if every compared population had one
    distribution: any directional claim (better, worse, contradicted, an association, a
    preference, a growth or linearity step "supported"), but not equivalence, nor a sharing
    step (of ``steps``, default the nested steps) "supported" by equivalence (its adjusted
    Brunner-Munzel p-value not below ``alpha``)."""
    verdict = str(row.get("verdict"))
    if verdict not in CLAIM_VERDICTS or verdict == "equivalent":
        return False
    sharing = {s.rule for s in _steps(steps) if s.sharing}
    if verdict == "supported" and row.get("rule") in sharing:
        p = float(row.get("p_adjusted", np.nan))  # type: ignore[arg-type]
        return bool(p < alpha)
    return True
