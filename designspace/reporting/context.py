"""What every section of a report sees: the usable rows of a results set and the options.

:func:`prepare` validates the data against the options and keeps one row per model (seed
replicates averaged); :class:`Context` carries them with the groups and what sections share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError
from designspace.reporting.options import STAGE_COLUMNS, AnalysisOptions

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Context:
    """What every section sees: the usable rows, the options, the groups, shared results.

    ``data`` holds one row per model with status "ok" and a finite metric; ``n_total`` counts
    the rows read and ``note`` says what was excluded or averaged (empty when nothing was).
    With seed replicates (an ``arch_id`` trained with several ``cfg_seed``), ``runs`` holds
    every usable run and ``data`` one row per architecture and group with the metric averaged
    over its seeds (column ``n_seeds``), so that no model counts more than once in a test;
    without them ``runs`` is ``data``. ``shared`` carries results one section leaves for later
    ones (the comparison object, the noise floor); ``warnings`` say what limits the conclusions
    (:func:`data_warnings`). ``noise_runs``: seed replicates given apart from the compared
    models (``analyze --noise``), used only for the noise floor.
    """

    data: pd.DataFrame
    options: AnalysisOptions
    groups: list[str]
    n_total: int
    note: str = ""
    runs: pd.DataFrame | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    noise_runs: pd.DataFrame | None = None
    _features: pd.DataFrame | None = None

    def features(self) -> pd.DataFrame:
        """``data`` with the design features and RegNet fits (computed once, then cached)."""
        if self._features is None:
            from designspace.analysis.features import add_features

            self._features = add_features(self.data, fit=True)
        return self._features

    def complete_groups(self, columns: Sequence[str]) -> list[str]:
        """The groups whose every model has a value in each of ``columns`` (all present)."""
        from designspace.analysis._data import group_labels

        labels = group_labels(self.data, self.options.by)
        full = self.data[list(columns)].notna().all(axis=1).to_numpy()
        return [g for g in self.groups if full[labels == g].all()]

    def restricted(self, groups: Sequence[str]) -> Context:
        """This context limited to ``groups`` (same options, shared results and warnings)."""
        import numpy as np

        from designspace.analysis._data import group_labels

        keep = np.isin(group_labels(self.data, self.options.by), list(groups))
        runs = None
        if self.runs is not None:
            runs = self.runs[np.isin(group_labels(self.runs, self.options.by), list(groups))]
        sub = Context(
            self.data[keep], self.options, [g for g in self.groups if g in groups],
            self.n_total, self.note, runs=runs, shared=self.shared, warnings=self.warnings,
            noise_runs=self.noise_runs,
        )  # fmt: skip
        if self._features is not None:
            sub._features = self._features[keep]
        return sub

    def plot_data(self) -> pd.DataFrame:
        """The rows plots draw from: with features when the per-stage columns exist."""
        return self.features() if not missing_columns(self.data, STAGE_COLUMNS) else self.data


def prepare(data: pd.DataFrame, options: AnalysisOptions | None = None) -> Context:
    """Validate ``data`` against ``options`` and keep the usable rows; raises DesignSpaceError
    when nothing can be analysed (no usable model, no ``by`` column, unknown reference) or the
    bootstrap would need more memory than its limit."""
    from designspace.analysis._data import group_labels, group_order, usable

    opts = options or AnalysisOptions()
    u = usable(data, opts.metric, [opts.by], "analyze")
    groups = group_order(group_labels(u.data, opts.by))
    if opts.reference is not None and opts.reference not in groups:
        raise DesignSpaceError(
            f"reference {opts.reference!r} is not among the groups of '{opts.by}': {groups}"
        )
    models = per_model(u.data, opts)
    opts.check_memory(len(models))  # the bootstrap's memory, refused before it is allocated
    notes = [u.note()] if u.note() else []
    if len(models) < len(u.data):
        notes.append(
            f"{len(u.data)} runs of {len(models)} architectures: seed replicates averaged per "
            f"architecture (column n_seeds) so that each model counts once"
        )
    ctx = Context(models, opts, groups, u.n_total, "; ".join(notes), runs=u.data)
    ctx.warnings = data_warnings(models, opts)
    return ctx


# groups smaller than this decide only large differences: the report says how large
SMALL_GROUP = 10


def data_warnings(models: pd.DataFrame, options: AnalysisOptions) -> list[str]:
    """What limits the conclusions, in sentences: groups too small to decide anything but a
    large difference (with the smallest stochastic superiority a comparison of that group with
    the largest one detects at 80% power), and models at chance level (they learned nothing:
    a schedule too short or a learning rate too high)."""
    import numpy as np

    from designspace.analysis._data import group_labels
    from designspace.analysis.power import at_chance, chance_error, detectable_superiority

    out = []
    labels = group_labels(models, options.by)
    sizes = {g: int((labels == g).sum()) for g in sorted(set(labels))}
    largest = max(sizes.values())
    seeds = models["n_seeds"].to_numpy() if "n_seeds" in models.columns else None
    for group, n in sizes.items():
        runs = int(seeds[labels == group][0]) if seeds is not None else 1
        if n == 1 and runs > 1:
            out.append(
                f"{options.by} {group} is one architecture trained {runs} "
                f"times (seed replicates, e.g. an NDS reruns file): it measures training noise "
                f"(section 'Training noise'), not a design space; to compare spaces, analyse it "
                f"together with a population of models"
            )
        elif n < SMALL_GROUP and len(sizes) > 1:
            other = largest if largest > n else n
            delta = detectable_superiority(n, other, options.alpha)
            out.append(
                f"{options.by} {group} has only {n} model(s): a comparison with {other} models "
                f"at level {options.alpha:g} has 80% power only when P(a model beats one of the "
                f"other group) is beyond 0.5 +- {delta:.2f}; sample more models to decide "
                f"smaller differences"
            )
    out += _mixed_settings(models, labels, options.by)
    if "num_classes" in models.columns and options.metric.endswith("top1_err"):
        classes = models["num_classes"].to_numpy()
        errors = models[options.metric].to_numpy(dtype=float)
        chance = np.array(
            [c >= 2 and at_chance(e, int(c)) for e, c in zip(errors, classes, strict=True)]
        )
        for group in sizes:
            k = int(chance[labels == group].sum())
            if k:
                c = int(classes[labels == group][0])
                out.append(
                    f"{k} of {sizes[group]} model(s) of {options.by} {group} are at chance level "
                    f"({options.metric} near {chance_error(c):.2f} with {c} classes): they learned "
                    f"nothing; a longer schedule or a lower learning rate may be needed"
                )
    return out


# Result columns whose values change the error a model reaches: a comparison of groups trained
# with different values measures them too.
_SETTING_COLUMNS = {"precision": "precision", "channels_last": "memory layout (channels_last)"}


def _mixed_settings(models: pd.DataFrame, labels: Any, by: str) -> list[str]:
    """A warning per training setting (precision, layout) that differs between the models."""
    import pandas as pd

    out = []
    for column, what in _SETTING_COLUMNS.items():
        if column not in models.columns:
            continue
        values = models[column].astype("string").fillna("unknown")
        if values.nunique() < 2:
            continue
        mix = (
            pd.crosstab(pd.Series(labels, index=models.index, name=by), values)
            .apply(lambda row: ", ".join(f"{v}: {n}" for v, n in row.items() if n), axis=1)
            .to_dict()
        )
        shown = "; ".join(f"{g} ({m})" for g, m in mix.items())
        out.append(
            f"the models were trained with different {what} settings - {shown}: a comparison "
            f"across them measures the setting too; re-run the odd ones with the study's "
            f"recorded setting (a resumed sweep keeps it) or compare within one setting"
        )
    return out


def per_model(runs: pd.DataFrame, options: AnalysisOptions) -> pd.DataFrame:
    """One row per (group, arch_id): ``runs`` unchanged when no architecture was trained with
    several ``cfg_seed``; else the metric averaged over each architecture's runs (the other
    columns from its first run) and ``n_seeds`` the number of runs."""
    if "arch_id" not in runs.columns or "cfg_seed" not in runs.columns:
        return runs
    keys = [options.by, "arch_id"]
    if not (runs.groupby(keys, dropna=False)["cfg_seed"].nunique() > 1).any():
        return runs
    grouped = runs.groupby(keys, sort=False, dropna=False)
    first = grouped.head(1).set_index(keys)
    first[options.metric] = grouped[options.metric].mean()
    first["n_seeds"] = grouped.size()
    return first.reset_index()[list(runs.columns) + ["n_seeds"]]


def missing_columns(data: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The ``columns`` that ``data`` lacks or that have no value for some row."""
    return [c for c in columns if c not in data.columns or bool(data[c].isna().any())]
