"""The design-space design loop of DDS, automated: evidence -> one constraint -> a refined space
-> confirmation on fresh samples, round after round.

Round k starts from a parent space and a population of its trained models (round 1: the rows of
``--space`` in the results given; later rounds: the fresh models of the space the previous
round confirmed). Every constraint of the catalog (:func:`designspace.core.constraints.catalog`)
is ranked by the in-sample evidence (:func:`designspace.analysis.refine_evidence.rank_candidates`:
a partial rank correlation with flops held fixed, Holm over all candidates, deterministic, so
no verdict depends on a seed). At most one constraint is adopted per round, the best supported:
choosing among many on one population overstates the chosen one, so with ``confirm`` it is then
tested on ``confirm`` fresh models of the refined space against ``confirm`` fresh models of the
parent, trained with the population's training settings through the sweep machinery
(resumable), as a confirmatory family of its own: one Brunner-Munzel test per round, tested in
a fixed sequence (round k is tested only when rounds 1..k-1 were confirmed), which keeps the
family-wise error at ``alpha`` without adjustment. A constraint stays adopted only if the fresh
samples confirm it; the loop stops at the first round that adopts nothing or fails to confirm.

Everything lands in one folder the command owns (``OUT``): ``refine.json`` (settings and
source), ``log.md`` (the loop as the DDS narrative), ``report.md``, ``candidates.csv`` (every
round's candidates, column ``round``), ``rounds.csv``, ``refined.yaml`` (the parent with every
confirmed constraint; with no confirmation, the in-sample adoption of round 1), and per round
``round-<k>/`` with ``parent.yaml``, ``refined.yaml``, ``candidates.csv`` and, when confirmed
on fresh samples, ``confirm/`` (a sweep folder), ``comparison.csv``, ``balance.csv`` and
``edf.png``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    import pandas as pd

    from designspace.core.constraints import Constraint
    from designspace.core.regimes import Regime
    from designspace.core.spaces import Space

#: The least fresh models per arm a confirmation may use (the issue's floor; a power
#: calculation for the effect sizes of the committed studies is in the log of every round).
MIN_CONFIRM = 50
METRIC = "val_top1_err"
REFINE_FORMAT = "designspace-refine-1"
#: What each constraint feature is meant to change, as the balance table's feature families.
_INTENDED: dict[str, tuple[str, ...]] = {
    "bottleneck_ratio": ("b",),
    "group_width": ("g",),
    "width": ("w",),
    "depth": ("d", "depth"),
    "total_depth": ("d", "depth"),
    "first_width": ("w",),
    "last_width": ("w",),
    "width_ratio": ("w",),
    "widths": ("w", "d", "depth"),
    "w0": ("w",),
    "wa": ("w",),
    "wm": ("w",),
    "stages": ("num_stages", "last_resolution", "d", "w", "b", "g"),
    "num_stages": ("num_stages", "last_resolution", "d", "w", "b", "g"),
}


@dataclass(frozen=True)
class RefineSettings:
    """How the loop runs.

    ``confirm``: fresh models per arm of each confirmation (None: rank and adopt in-sample only,
    one round); ``rounds``: the most rounds (each needs ``confirm`` when more than one);
    ``alpha``: level of the in-sample family (Holm over the candidates) and of each round's
    confirmatory test; ``metric``: the error column (a fraction in [0, 1]); ``seed``: sampling
    seed of round 1's fresh models (round k uses ``seed + k - 1``; it must differ from the
    population's sampling seed, so that the fresh parent arm is not the population again);
    ``share_draws``: draws of the parent in its band that estimate the share of the space a
    constraint keeps; ``budget``: seconds of training all confirmations may spend (None: no
    limit); a round whose sweep is cut by it stops the loop, and rerunning resumes it.
    """

    confirm: int | None = None
    rounds: int = 1
    alpha: float = 0.05
    metric: str = METRIC
    seed: int = 1000
    share_draws: int = 1000
    budget: float | None = None

    def __post_init__(self) -> None:
        if self.confirm is not None and (
            isinstance(self.confirm, bool) or not isinstance(self.confirm, int)
        ):
            raise DesignSpaceError(f"--confirm takes a whole number of models, got {self.confirm}")
        if self.confirm is not None and self.confirm < MIN_CONFIRM:
            raise DesignSpaceError(
                f"--confirm {self.confirm} is too few: a confirmation needs at least "
                f"{MIN_CONFIRM} fresh models per arm"
            )
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or self.rounds < 1:
            raise DesignSpaceError(f"--rounds must be a whole number >= 1, got {self.rounds}")
        if self.rounds > 1 and self.confirm is None:
            raise DesignSpaceError(
                f"--rounds {self.rounds} needs --confirm N: a later round starts from the fresh "
                f"models of the space the previous round confirmed"
            )
        if not isinstance(self.metric, str) or not self.metric.endswith("_err"):
            raise DesignSpaceError(
                f"--metric must be an error column (a name ending in _err, fractions in "
                f"[0, 1], e.g. val_top1_err), got {self.metric!r}"
            )
        if not (isinstance(self.alpha, float | int) and 0 < self.alpha < 1):
            raise DesignSpaceError(f"--alpha must be in (0, 1), got {self.alpha}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise DesignSpaceError(f"--seed must be a whole number >= 0, got {self.seed}")
        if not isinstance(self.share_draws, int) or self.share_draws < 100:
            raise DesignSpaceError(f"share_draws must be at least 100, got {self.share_draws}")
        if self.budget is not None and not (math.isfinite(self.budget) and self.budget > 0):
            raise DesignSpaceError(f"--budget must be a positive duration, got {self.budget}")


@dataclass
class Confirmation:
    """One round's confirmatory test: ``n`` fresh models of each arm, the refined arm's median
    error minus the parent's (``diff``, with its interval at level 1 - alpha), the Brunner-
    Munzel p-value of the refined arm beating the parent, the verdict, and the balance of the
    two arms (``balance``: one row per structural feature; ``balance_label``: "" or "differs
    in ..." for features the constraint is not meant to change)."""

    sweep_dir: Path
    n_parent: int
    n_refined: int
    median_parent: float
    median_refined: float
    diff: float
    diff_low: float
    diff_high: float
    p_beats: float
    p_value: float
    verdict: str
    confirmed: bool
    balance: Any  # pandas.DataFrame
    balance_label: str
    stratified: str = ""
    overlap: int = 0  # fresh parent models that were already in the population


@dataclass
class Round:
    """One round of the loop: its parent space and population, the ranked candidates, the
    adopted constraint (None: nothing supported) with its refined space, and the
    confirmation on fresh samples (None: not confirmed on fresh samples). ``stopped`` says
    why the loop ended here: "nothing supported", "not confirmed", "unfinished" (the
    confirmation's sweep is not complete: the budget ended; rerun to resume) or ""."""

    number: int
    parent: Space
    population: str
    n_population: int
    candidates: Any  # pandas.DataFrame, one row per candidate
    adopted: Constraint | None = None
    refined: Space | None = None
    confirmation: Confirmation | None = None
    stopped: str = ""

    @property
    def kept(self) -> bool:
        """Whether the round's constraint stays adopted: supported in-sample and, when
        confirmed on fresh samples, confirmed there."""
        if self.adopted is None or self.stopped == "unfinished":
            return False
        return self.confirmation is None or self.confirmation.confirmed


@dataclass
class RefineResult:
    """What :func:`refine` did: every round, the final space (the root with every kept
    constraint), the log lines and the output folder."""

    out: Path
    root: Space
    rounds: list[Round]
    final: Space
    log: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per round: parent, constraint, in-sample evidence, confirmation."""
        import pandas as pd

        return pd.DataFrame([_round_row(r) for r in self.rounds], columns=ROUND_COLUMNS)

    def candidates(self) -> pd.DataFrame:
        """Every round's candidates, with a ``round`` column first."""
        import pandas as pd

        frames = [r.candidates.assign(round=r.number) for r in self.rounds]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        return frame[["round", *[c for c in frame.columns if c != "round"]]]


ROUND_COLUMNS = [
    "round",
    "parent",
    "population",
    "n_population",
    "candidates",
    "supported",
    "constraint",
    "sentence",
    "rho",
    "p_adjusted",
    "refined",
    "n_fresh_parent",
    "n_fresh_refined",
    "median_parent",
    "median_refined",
    "diff",
    "diff_low",
    "diff_high",
    "p_beats",
    "p_value",
    "verdict",
    "confirmed",
    "balance",
    "kept",
]


def _round_row(r: Round) -> dict[str, Any]:
    cands = r.candidates
    supported = int((cands["verdict"] == "supported").sum()) if len(cands) else 0
    row: dict[str, Any] = {
        "round": r.number,
        "parent": r.parent.name,
        "population": r.population,
        "n_population": r.n_population,
        "candidates": len(cands),
        "supported": supported,
        "constraint": r.adopted.id if r.adopted else "",
        "sentence": r.adopted.sentence() if r.adopted else "",
        "refined": r.refined.name if r.refined else "",
        "kept": r.kept,
    }
    if r.adopted is not None:
        best = cands[cands["constraint"] == r.adopted.id].iloc[0]
        row["rho"], row["p_adjusted"] = float(best["rho"]), float(best["p_adjusted"])
    c = r.confirmation
    if c is not None:
        row.update(
            n_fresh_parent=c.n_parent,
            n_fresh_refined=c.n_refined,
            median_parent=c.median_parent,
            median_refined=c.median_refined,
            diff=c.diff,
            diff_low=c.diff_low,
            diff_high=c.diff_high,
            p_beats=c.p_beats,
            p_value=c.p_value,
            verdict=c.verdict,
            confirmed=c.confirmed,
            balance=c.balance_label or "balanced",
        )
    return row


# ----------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class Source:
    """The population's provenance: its training settings, regime and sampling seeds, read from
    the sweep manifest(s) of the results folder (None where there is none)."""

    train: dict[str, Any] | None
    regime: Regime | None
    seeds: frozenset[int]


def read_source(results: str | Path) -> Source:
    """The training settings, regime and sampling seeds of the sweep that wrote ``results`` (a
    sweep or study folder with ``sweep.json``); a folder without one gives a Source of None
    (fine for in-sample ranking, refused for a confirmation)."""
    from designspace.core.regimes import REGIMES, Regime
    from designspace.formats.results import read_manifest

    path = Path(results)
    manifest = read_manifest(path) if path.is_dir() else None
    if manifest is None:
        return Source(None, None, frozenset())
    study = manifest.get("study") or {}
    regime = None
    spec = study.get("regime")
    if isinstance(spec, dict):
        fields = dict(spec)
        for key in ("flops", "params", "acts"):
            if fields.get(key) is not None:
                fields[key] = tuple(fields[key])
        try:
            regime = Regime(**fields)
        except TypeError as exc:
            raise DesignSpaceError(f"{path}/sweep.json: unreadable regime ({exc})") from None
        if regime.name in REGIMES and REGIMES[regime.name] == regime:
            regime = REGIMES[regime.name]
    seed = study.get("seed")
    seeds = frozenset([int(seed)]) if isinstance(seed, int) else frozenset()
    train = manifest.get("train")
    return Source(dict(train) if isinstance(train, dict) else None, regime, seeds)


def _population(frame: pd.DataFrame, space: str, metric: str) -> pd.DataFrame:
    """The usable models of ``space`` (status ok, finite metric)."""
    from designspace.analysis._data import usable

    if "space" not in frame.columns or space not in set(frame["space"].astype(str)):
        have = sorted(set(frame["space"].astype(str))) if "space" in frame.columns else []
        raise DesignSpaceError(
            f"the results hold no models of space {space!r}; they hold {have}; name one with "
            f"--space"
        )
    rows = frame[frame["space"].astype(str) == space]
    return usable(rows, metric, ["arch_json"], "refine").data.reset_index(drop=True)


def _resolve_space(space: str | Space) -> Space:
    from designspace.core.spaces import get_space, load_space

    if not isinstance(space, str):
        return space
    return load_space(space) if space.endswith((".yaml", ".yml", ".toml")) else get_space(space)


# ----------------------------------------------------------------------------- the loop
def refine(
    results: str | Path | pd.DataFrame,
    space: str | Space,
    out: str | Path,
    settings: RefineSettings | None = None,
    *,
    placement_overrides: dict[str, Any] | None = None,
    regime: Regime | str | None = None,
    progress: bool = True,
    say: Callable[[str], None] | None = None,
    trainer: Any = None,
) -> RefineResult:
    """Run the design-space design loop from ``space`` on the population in ``results``.

    ``results``: a results folder (sweep or study; its ``sweep.json`` gives the training
    settings, regime and sampling seed of the fresh samples) or a DataFrame (in-sample only,
    or with ``regime`` given and the settings' defaults); ``space``: a built-in name or a
    space file whose models the results hold; ``out``: a new folder, or one an earlier
    ``refine`` wrote (rerunning resumes every confirmation sweep and rewrites the tables).
    ``placement_overrides`` (flat keys, e.g. ``{"executor": "local"}``) place the
    confirmation sweeps; ``trainer`` replaces the trainer (tests). Returns a
    :class:`RefineResult`; ``say`` receives each log line as it is written (default: print).
    """
    import pandas as pd

    from designspace.analysis.load import load_results
    from designspace.formats.outputs import check_out_dir

    settings = settings or RefineSettings()
    say = say or print
    inputs = [] if isinstance(results, pd.DataFrame) else [results]
    out_dir = check_out_dir(out, REFINE_KIND, inputs=inputs)
    root = _resolve_space(space)
    if isinstance(results, pd.DataFrame):
        frame, source = results, Source(None, None, frozenset())
    else:
        frame, source = load_results(results), read_source(results)
    if regime is not None:
        from designspace.core.regimes import get_regime

        regime = get_regime(regime) if isinstance(regime, str) else regime
    else:
        regime = source.regime
    if regime is None:
        raise DesignSpaceError(
            "the population's regime is unknown (no sweep.json beside the results): give a "
            "results folder written by designspace sweep/study, or --regime"
        )
    if settings.confirm is not None and source.train is None:
        raise DesignSpaceError(
            "a confirmation trains fresh models with the population's training settings, but "
            "the results carry none (no sweep.json); give the folder a sweep or study wrote"
        )
    if settings.confirm is not None and settings.seed in source.seeds:
        raise DesignSpaceError(
            f"--seed {settings.seed} is the population's own sampling seed: the fresh parent "
            f"models would be the population again; choose another --seed"
        )
    population = _population(frame, root.name, settings.metric)
    _claim(out_dir)
    loop = _Loop(settings, out_dir, root, regime, source, say, placement_overrides, progress)
    loop.trainer, loop.inputs = trainer, inputs
    return loop.run(population, str(results) if inputs else "a DataFrame")


REFINE_KIND = "refine"


def _claim(out: Path) -> None:
    from designspace.formats.outputs import claim

    out.mkdir(parents=True, exist_ok=True)
    claim(out, "refine", REFINE_KIND)


@dataclass
class _Loop:
    settings: RefineSettings
    out: Path
    root: Space
    regime: Regime
    source: Source
    say: Callable[[str], None]
    placement_overrides: dict[str, Any] | None
    progress: bool
    trainer: Any = None
    log: list[str] = field(default_factory=list)
    spent: float = 0.0
    rounds: list[Round] = field(default_factory=list)
    arms: dict[int, tuple[Any, Any]] = field(default_factory=dict)  # round -> (models, pairs)
    inputs: list[Any] = field(default_factory=list)
    population_ids: frozenset[str] = frozenset()

    def note(self, line: str) -> None:
        self.log.append(line)
        self.say(line)

    def run(self, population: pd.DataFrame, where: str) -> RefineResult:
        parent, rounds = self.root, self.rounds
        label = f"{where} ({len(population)} models of {parent.name})"
        # A rerun re-derives the rounds an earlier run published: its outputs are replaced
        # only once this run has as many rounds (or ends), never shrunk on the way there.
        earlier = self.published_rounds()
        for k in range(1, self.settings.rounds + 1):
            self.population_ids = frozenset(population["arch_id"].astype(str))
            r = self.one_round(k, parent, population, label)
            rounds.append(r)
            if k >= earlier:
                self.publish()
            if not r.kept or r.refined is None:
                break
            if r.confirmation is None:
                break  # in-sample only: there is no population of the refined space
            parent = r.refined
            population = self.fresh_arm(r, r.refined.name)
            label = f"round {k}'s fresh models of {parent.name}"
        if len(rounds) < earlier:
            self.publish()
        return self.result()

    def published_rounds(self) -> int:
        """How many rounds the folder's ``rounds.csv`` (from an earlier run) holds; 0 if none."""
        path = self.out / "rounds.csv"
        if not path.is_file():
            return 0
        from designspace.core import reading

        text = reading.read_text(path, "rounds table")
        return max(0, len([line for line in text.splitlines() if line.strip()]) - 1)

    def one_round(self, k: int, parent: Space, population: pd.DataFrame, label: str) -> Round:
        from designspace.analysis.refine_evidence import rank_candidates, shares_kept
        from designspace.core.arch import Architecture
        from designspace.core.constraints import catalog

        archs = [Architecture.from_json(j) for j in population["arch_json"]]
        candidates = catalog(parent, archs)
        shares = shares_kept(
            parent, candidates, self.regime, n=self.settings.share_draws, seed=self.settings.seed
        )
        table = rank_candidates(
            population,
            parent,
            candidates,
            metric=self.settings.metric,
            alpha=self.settings.alpha,
            shares=shares,
        )
        r = Round(k, parent, label, len(population), table)
        testable = int((table["verdict"] != "not testable").sum())
        chosen = table[table["adopted"].astype(bool)]
        if chosen.empty:
            best = table.sort_values("rank").head(1)
            tail = ""
            if len(best):
                b = best.iloc[0]
                tail = f"; the best was {b['constraint']} (Holm p {b['p_adjusted']:.3g})"
            r.stopped = "nothing supported"
            self.note(
                f"round {k}: {parent.name}, {len(population)} models ({label}): none of "
                f"{testable} testable candidates is supported at alpha {self.settings.alpha:g}"
                f"{tail}; the loop stops."
            )
            return r
        row = chosen.iloc[0]
        by_id = {c.id: c for c in candidates}
        r.adopted = by_id[str(row["constraint"])]
        r.refined = r.adopted.apply(name=f"{self.root.name}_r{k}")
        self.note(
            f"round {k}: {parent.name}, {len(population)} models: the evidence ranks first "
            f"{r.adopted.id} ({r.adopted.sentence()}): {row['evidence']}; it keeps "
            f"{_share(row['share_kept'])} of {parent.name}'s draws; refined space "
            f"{r.refined.name}."
        )
        if self.settings.confirm is not None:
            r.confirmation = self.confirm(k, r)
            if r.confirmation is None:
                r.stopped = "unfinished"
            elif not r.confirmation.confirmed:
                r.stopped = "not confirmed"
        return r

    # --------------------------------------------------------------- confirmation
    def confirm(self, k: int, r: Round) -> Confirmation | None:
        from designspace.sweep import Placement, SweepConfig, run_sweep
        from designspace.sweep.config import override_values
        from designspace.training.trainconfig import TrainConfig

        assert r.refined is not None and r.adopted is not None and self.source.train is not None
        n = int(self.settings.confirm or 0)
        seed = self.settings.seed + k - 1
        folder = self.out / f"round-{k}"
        files = [_sweep_space(r.parent, folder / "spaces" / "parent.yaml")]
        files.append(_sweep_space(r.refined, folder / "spaces" / "refined.yaml"))
        config = SweepConfig(
            spaces=tuple(str(f) for f in files),
            n=n,
            seed=seed,
            regime=self.regime,
            train=TrainConfig.from_dict(self.source.train),
            name=f"{self.out.name}-round-{k}",
        )
        placement = Placement.from_values(override_values({}, self.placement_overrides or {}))
        self.say(
            f"round {k}: confirming on {n} fresh models of {r.parent.name} and {n} of "
            f"{r.refined.name} (sampling seed {seed}) in {folder / 'confirm'}"
        )
        info: dict[str, Any] = {}
        deadline = None
        if self.settings.budget is not None:
            deadline = max(1.0, self.settings.budget - self.spent)
        t0 = time.monotonic()
        data = run_sweep(
            config,
            folder / "confirm",
            placement,
            progress=self.progress,
            trainer=self.trainer,
            info=info,
            deadline=deadline,
        )
        self.spent += time.monotonic() - t0
        run = info.get("run")
        if run is not None and run.missing:
            self.note(
                f"round {k}: the confirmation has {run.missing} of {2 * n} models left (the "
                f"budget ended, or trials failed); {r.adopted.id} is not adopted until they are "
                f"trained: rerun the same command to resume."
            )
            return None
        return self.compare_arms(k, r, data, folder)

    def compare_arms(self, k: int, r: Round, data: pd.DataFrame, folder: Path) -> Confirmation:
        from designspace.analysis._data import usable
        from designspace.analysis.balance import step_balance
        from designspace.analysis.compare import compare
        from designspace.analysis.inference import Inference

        assert r.refined is not None and r.adopted is not None
        metric = self.settings.metric
        u = usable(data, metric, ["space"], "the confirmation").data
        inference = Inference(alpha=self.settings.alpha, adjust="none")
        cmp = compare(u, by="space", metric=metric, reference=r.parent.name, inference=inference)
        pair = cmp.pairs.iloc[0]
        sign = 1.0 if pair["a"] == r.refined.name else -1.0
        diff = sign * float(pair["median_diff"])
        lo, hi = sorted(
            (sign * float(pair["median_diff_low"]), sign * float(pair["median_diff_high"]))
        )
        p_beats = float(pair["p_a_beats_b"])
        p_beats = p_beats if sign > 0 else 1.0 - p_beats
        verdict = str(pair["verdict"])
        if sign < 0:
            verdict = {"better": "worse", "worse": "better"}.get(verdict, verdict)
        confirmed = verdict == "better"
        intended = _INTENDED.get(r.adopted.feature, ())
        bal = step_balance(
            u,
            r.parent.name,
            r.refined.name,
            None,
            by="space",
            metric=metric,
            inference=Inference(alpha=self.settings.alpha),
            intended=intended,
        )
        label = bal.label.replace("differs in ", "") if bal.confounders else ""
        strat = bal.stratified.sentence() if bal.stratified is not None else ""
        parent_rows = u[u["space"] == r.parent.name]
        med = u.groupby("space")[metric].median()
        c = Confirmation(
            sweep_dir=folder / "confirm",
            n_parent=int((u["space"] == r.parent.name).sum()),
            n_refined=int((u["space"] == r.refined.name).sum()),
            median_parent=float(med.get(r.parent.name, math.nan)),
            median_refined=float(med.get(r.refined.name, math.nan)),
            diff=diff,
            diff_low=lo,
            diff_high=hi,
            p_beats=p_beats,
            p_value=float(pair["p_value"]),
            verdict=verdict,
            confirmed=confirmed,
            balance=bal.table,
            balance_label=label,
            stratified=strat,
            overlap=int(parent_rows["arch_id"].isin(self.population_ids).sum()),
        )
        self.arms[k] = (u, cmp.pairs)
        self.note(_confirmation_sentence(k, r, c, self.settings.alpha))
        return c

    def fresh_arm(self, r: Round, space: str) -> pd.DataFrame:
        """The fresh models of ``space`` from round ``r``'s confirmation (the next round's
        population)."""
        from designspace.analysis.load import load_results

        assert r.confirmation is not None
        frame = load_results(r.confirmation.sweep_dir)
        return _population(frame, space, self.settings.metric)

    def result(self) -> RefineResult:
        final = self.root
        for r in self.rounds:
            if r.kept and r.refined is not None:
                final = r.refined
        return RefineResult(self.out, self.root, self.rounds, final, self.log)

    def publish(self) -> None:
        """Write every output so far into a stage beside the folder and publish it
        (:func:`designspace.formats.outputs.publish`): each file replaced atomically, and
        only files refine wrote are ever replaced or removed."""
        import tempfile

        from designspace.formats.outputs import publish

        stage = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.refine-", dir=self.out.parent))
        try:
            _stage_outputs(self, stage)
            publish(stage, self.out, "refine", REFINE_KIND)
        finally:
            if stage.exists():
                import shutil

                shutil.rmtree(stage, ignore_errors=True)


def _share(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "an unknown share"
    return "an unknown share" if math.isnan(v) else f"{v:.0%}"


def _confirmation_sentence(k: int, r: Round, c: Confirmation, alpha: float) -> str:
    assert r.refined is not None and r.adopted is not None
    from designspace.analysis.power import detectable_superiority

    word = "confirmed" if c.confirmed else "not confirmed"
    detect = detectable_superiority(c.n_refined, c.n_parent, alpha=alpha)
    balance = (
        f"the arms also differ in {c.balance_label}, which the constraint does not name "
        f"(|SMD| > 0.1 and Holm p < alpha; balance.csv): the difference may be carried by it"
        if c.balance_label
        else "the arms are balanced on every feature the constraint does not name"
    )
    return (
        f"round {k}: {r.adopted.sentence()} - {r.parent.name} median {c.median_parent:.3f} -> "
        f"{r.refined.name} {c.median_refined:.3f} on fresh models ({c.n_parent} + "
        f"{c.n_refined}); median difference {c.diff:+.4f} [{c.diff_low:+.4f}, "
        f"{c.diff_high:+.4f}], P(refined beats parent) {c.p_beats:.2f}, Brunner-Munzel p = "
        f"{c.p_value:.3g} (round {k} of the fixed-sequence confirmatory family at alpha "
        f"{alpha:g}; 80% power for |P(beats) - 1/2| >= {detect:.2f}): {word}; {balance}."
    )


def _sweep_space(space: Space, path: Path) -> Path:
    """The space file a confirmation sweep reads: written once; an existing file must hold
    exactly this space (a rerun), else it was changed and is left alone."""
    import yaml

    from designspace.core.spaces import space_to_dict

    text = yaml.safe_dump(space_to_dict(space), sort_keys=False)
    if path.exists():
        from designspace.core import reading

        if reading.read_text(path, "space file") != text:
            raise DesignSpaceError(
                f"{path} was changed since refine wrote it; move it away (or use a new --out) "
                f"and rerun"
            )
        return path
    return _write_space(space, path)


def _write_space(space: Space, path: Path) -> Path:
    import yaml

    from designspace.core.spaces import space_to_dict

    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(space_to_dict(space), sort_keys=False)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _edf_figure(data: pd.DataFrame, metric: str, order: Sequence[str], path: Path, k: int) -> None:
    from designspace.reporting.plots import edf_plot, new_figure, save

    fig, ax = new_figure()
    edf_plot(data, metric=metric, hue="space", hue_order=list(order), ax=ax)
    ax.set_title(f"round {k}: fresh models, parent vs refined")
    save(fig, path)


def _stage_outputs(loop: _Loop, out: Path) -> None:
    """Every output of the loop so far, written into ``out`` (a stage)."""
    result, settings, source, inputs = loop.result(), loop.settings, loop.source, loop.inputs
    for r in result.rounds:
        folder = out / f"round-{r.number}"
        folder.mkdir(parents=True, exist_ok=True)
        r.candidates.to_csv(folder / "candidates.csv", index=False)
        _write_space(r.parent, folder / "parent.yaml")
        if r.refined is not None:
            _write_space(r.refined, folder / "refined.yaml")
        if r.number in loop.arms and r.confirmation is not None:
            models, pairs = loop.arms[r.number]
            pairs.to_csv(folder / "comparison.csv", index=False)
            r.confirmation.balance.to_csv(folder / "balance.csv", index=False)
            order = [r.parent.name, r.refined.name] if r.refined is not None else [r.parent.name]
            _edf_figure(models, settings.metric, order, folder / "edf.png", r.number)
    result.candidates().to_csv(out / "candidates.csv", index=False)
    result.table().to_csv(out / "rounds.csv", index=False)
    _write_space(result.final, out / "refined.yaml")
    (out / "log.md").write_text(_log_text(result), encoding="utf-8")
    (out / "report.md").write_text(report_section(result), encoding="utf-8")
    meta = {
        "format": REFINE_FORMAT,
        "space": result.root.name,
        "results": [str(p) for p in inputs],
        "settings": {
            "confirm": settings.confirm,
            "rounds": settings.rounds,
            "alpha": settings.alpha,
            "metric": settings.metric,
            "seed": settings.seed,
            "share_draws": settings.share_draws,
            "budget": settings.budget,
        },
        "population_seeds": sorted(source.seeds),
        "final": result.final.name,
        "kept": [r.adopted.id for r in result.rounds if r.kept and r.adopted is not None],
    }
    (out / "refine.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _log_text(result: RefineResult) -> str:
    lines = [f"# Refinement log: {result.root.name}", ""]
    lines += [f"- {line}" for line in result.log]
    kept = [r.adopted.id for r in result.rounds if r.kept and r.adopted is not None]
    lines += ["", f"Final space: {result.final.name} ({', '.join(kept) or 'no constraint'})."]
    return "\n".join(lines) + "\n"


def report_section(result: RefineResult) -> str:
    """The loop as a Markdown report section: one line per round, the rounds table and each
    round's five best candidates."""
    rounds = result.table()
    lines = [f"# Design-space refinement: {result.root.name}", ""]
    lines += [
        "In-sample evidence: partial Spearman correlation between each candidate's graded "
        "score and the error with log flops held fixed, Holm over the round's candidates "
        "(asymptotic, no resampling: the verdicts do not depend on a seed). Confirmation: "
        "Brunner-Munzel on fresh models of the refined space against fresh models of its "
        "parent, one test per round in a fixed sequence.",
        "",
    ]
    lines += [f"- {line}" for line in result.log]
    lines += ["", "## Rounds", "", rounds.to_markdown(index=False, floatfmt=".4g"), ""]
    show = ["rank", "constraint", "verdict", "rho", "rho_low", "rho_high", "p_adjusted"]
    show += ["share_kept", "adopted"]
    for r in result.rounds:
        top = r.candidates.sort_values("rank").head(5)
        cols = [c for c in show if c in top.columns]
        lines += [
            f"## Round {r.number}: {r.parent.name}, best candidates of {len(r.candidates)}",
            "",
            top[cols].to_markdown(index=False, floatfmt=".3g"),
            "",
        ]
    return "\n".join(lines)
