"""Planning a sweep: the models it evaluates, its manifest, what is already done, its cost.

Pure: imports neither torch nor ray (``--dry-run`` and argument checks run without them).

* **Plan** (:func:`plan_sweep`): ``n`` configurations per space, sampled with ``seed`` in the
  data set's regime (or the rows of a samples table), each adapted to the data set's channels
  and classes; their complexity is counted at the training resolution.
* **Manifest** (:func:`build_manifest`): the settings that define the sweep; a folder whose
  manifest has the same settings holds this sweep (resume), another one is refused
  (:func:`resolve_run_dir`). ``n`` alone may differ: a sample of ``n`` configurations is the
  first ``n`` of a bigger one with the same seed (the prefix property), so a sweep resumed with
  another ``n`` is the same sweep grown or cut (checked on the plan's digest); its manifest
  keeps the ``n`` it was started with.
* **Resume** (:func:`pending`): the models that have no readable result file yet.
* **Estimate** (:func:`estimate_compute`) and the ``--dry-run`` text (:func:`describe_plan`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError
from designspace.formats import outputs
from designspace.formats import results as res
from designspace.sweep.config import PLACEMENT_SETTINGS, Placement, SweepConfig
from designspace.sweep.resources import local_resources, resolve_resources
from designspace.version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from designspace.core.datasets import DatasetFacts
    from designspace.core.regimes import Regime
    from designspace.training.trainconfig import TrainConfig


def dataset_facts(config: TrainConfig) -> DatasetFacts:
    """Images (after subsets), resolution (px, after resize), channels and classes of the
    data set that ``config`` trains on (known sizes, or an image folder's files listed)."""
    from designspace.core.datasets import dataset_facts as facts

    return facts(config.data)


def regime_for(config: SweepConfig) -> Regime:
    """The regime ``config`` samples in: its own, else its data set's."""
    from designspace.core.regimes import Regime, get_regime, regime_for_dataset

    if isinstance(config.regime, Regime):
        return config.regime
    if config.regime is not None:
        return get_regime(config.regime)
    return regime_for_dataset(config.train.dataset)


def check_out_dir(
    out: str | Path, inputs: Sequence[str | Path] = (), kind: str = outputs.SWEEP
) -> Path:
    """``out`` as an absolute path, after checking that a sweep (or, with ``kind``, another
    folder output) may write there: new, empty, or a folder designspace wrote for ``kind``
    (:func:`designspace.formats.outputs.check_out_dir`), neither one of ``inputs`` nor
    holding one, not inside a results data set; nothing is created. DesignSpaceError
    otherwise."""
    outputs.check_out_dir(out, kind, inputs=inputs)
    return Path(out).expanduser().resolve()


# --------------------------------------------------------------------------- plan
def plan_sweep(config: SweepConfig) -> pd.DataFrame:
    """One row per model to evaluate: identity, architecture and complexity columns.

    Architectures are adapted to the training data's channels and classes
    (:meth:`Architecture.with_io`), so ``arch_id``, ``arch_json`` and the complexity
    (``flops`` = multiply-adds, ``params``, ``acts`` at ``resolution`` px) describe the network
    that is trained. Refuses (DesignSpaceError) a plan with a model too small for the images.
    """
    import pandas as pd

    from designspace.core.complexity import complexity
    from designspace.training.trainconfig import check_resolution

    facts = dataset_facts(config.train)
    entries: list[tuple[str, str | None, int | None, int, Architecture]] = []
    if config.samples is not None:
        entries = _entries_from_table(config.samples, regime_for(config).name)
    else:
        from designspace.core.sampling import sample

        regime = regime_for(config)
        for space in config.spaces:
            s = sample(space, config.n, seed=config.seed, regime=regime)
            entries += [(s.space, regime.name, config.seed, i, a) for i, a in enumerate(s.archs)]
    rows = []
    too_small = []
    seen: set[tuple[str, int]] = set()
    for space, regime_name, seed, index, arch in entries:
        if (space, index) in seen:
            raise DesignSpaceError(
                f"the samples name ({space!r}, sample_index {index}) twice; every row needs its "
                f"own (space, sample_index)"
            )
        seen.add((space, index))
        arch = arch.with_io(in_channels=facts.in_channels, num_classes=facts.num_classes)
        try:
            check_resolution(arch, facts.resolution)
        except DesignSpaceError as exc:
            too_small.append(str(exc))
        c = complexity(arch, facts.resolution)
        row: dict[str, Any] = {
            "space": space,
            "regime": regime_name,
            "sample_seed": seed,
            "sample_index": index,
        }
        row.update(arch.to_row())
        row["arch_json"] = arch.to_json(sort_keys=True)
        row.update(resolution=facts.resolution, flops=c.flops, params=c.params, acts=c.acts)
        rows.append(row)
    if too_small:  # every such trial would fail the same way: refuse before starting any
        raise DesignSpaceError(
            f"{len(too_small)} of {len(rows)} models cannot train: {too_small[0]}"
        )
    return pd.DataFrame(rows)


def _entries_from_table(path: str, default_regime: str) -> list:
    from designspace.formats.archfile import read_table

    frame = read_table(path)
    if len(frame) == 0:
        raise DesignSpaceError(f"{path} has no rows")
    entries = []
    for pos, (_, row) in enumerate(frame.iterrows()):
        try:
            if "arch_json" in frame.columns and isinstance(row["arch_json"], str):
                arch = Architecture.from_json(row["arch_json"])
            else:
                arch = Architecture.from_row(row)
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{path}, row {pos}: {exc}") from None
        space = _cell(row, "space") or "samples"
        regime = _cell(row, "regime") or default_regime
        seed = _cell(row, "sample_seed")
        index = _cell(row, "sample_index")
        entries.append(
            (
                str(space),
                str(regime),
                None if seed is None else int(seed),
                pos if index is None else int(index),
                arch,
            )
        )
    return entries


def _cell(row: Any, key: str) -> Any:
    if key not in row.index:
        return None
    value = row[key]
    try:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
    except TypeError:
        return value
    return value


def model_key(space: str, index: int, arch_id: str) -> str:
    """The key of one model of a sweep: ``space|sample_index|arch_id``."""
    return f"{space}|{int(index)}|{arch_id}"


def _plan_digest(plan: pd.DataFrame) -> str:
    keys = sorted(
        model_key(s, i, a)
        for s, i, a in zip(plan.space, plan.sample_index, plan.arch_id, strict=True)
    )
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def plan_records(plan: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The plan's rows as plain dicts (None for missing values), keyed by :func:`model_key`."""
    records = {}
    for row in plan.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "tolist"):
                v = v.tolist()
            elif hasattr(v, "item"):
                v = v.item()
            clean[k] = v
        records[model_key(clean["space"], clean["sample_index"], clean["arch_id"])] = clean
    return records


# --------------------------------------------------------------------------- manifest
def build_manifest(config: SweepConfig, plan: pd.DataFrame, name: str) -> dict[str, Any]:
    """The manifest of a sweep: its settings (``study``, ``train``) and its plan's size."""
    regime = (
        None
        if config.samples is not None and config.regime is None
        else dataclasses.asdict(regime_for(config))
    )
    study = {
        "spaces": list(config.spaces),
        "n": config.n if config.samples is None else None,
        "seed": config.seed if config.samples is None else None,
        "regime": json.loads(json.dumps(regime)),  # tuples -> lists, as read back from JSON
        "samples": str(config.samples) if config.samples is not None else None,
        "samples_sha256": outputs.sha256(Path(config.samples))
        if config.samples is not None
        else None,
        "plan_size": int(len(plan)),
        "plan_sha256": _plan_digest(plan),
        "per_space": {str(k): int(v) for k, v in plan.groupby("space").size().items()},
    }
    return {
        "format": res.MANIFEST_FORMAT,
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "designspace_version": __version__,
        "study": study,
        "train": config.train.to_dict(),
        "max_failures": config.max_failures,
    }


def resolve_precision(
    requested: str,
    device: str,
    old: Mapping[str, Any] | None = None,
    recorded: Iterable[Any] = (),
) -> str:
    """The precision every trial of a sweep trains at: ``fp32`` or ``bf16``.

    An explicit ``requested`` value is kept. ``auto`` is resolved once per sweep and then kept:
    the value an existing manifest ``old`` records under ``resolved``, else (a sweep written
    before that was recorded) the one precision its recorded rows ``recorded`` report, else the
    fastest honest path for ``device`` (the trials' resolved device): bf16 autocast on CUDA;
    fp32 on a CPU, where bf16 autocast was measured slower for the sampled networks even with
    native bf16 units (grouped convolutions; see benchmarks/bench_models_per_hour.py). A
    resumed sweep therefore never mixes fp32 and bf16 rows, on whatever machine it resumes.
    """
    if requested != "auto":
        return requested
    kept = ((old or {}).get("resolved") or {}).get("precision")
    if kept in ("fp32", "bf16"):
        return kept
    seen = {str(v) for v in recorded if v in ("fp32", "bf16")}
    if len(seen) == 1:
        return seen.pop()
    if len(seen) > 1:
        raise DesignSpaceError(
            "this sweep's recorded rows mix fp32 and bf16 and --precision is auto; give "
            "--precision fp32 or --precision bf16 to say which the remaining models use"
        )
    return "bf16" if device.startswith("cuda") else "fp32"


_IGNORED_DIFFERENCES = {f"train.{k}" for k in PLACEMENT_SETTINGS} | {"study.samples"}
_DERIVED = {"study.plan_size", "study.plan_sha256", "study.per_space"}
_GROWABLE = {"study.n"} | _DERIVED


def prefix_digest(plan: pd.DataFrame, n: int) -> str:
    """The plan digest (as recorded in a manifest's ``plan_sha256``) of the first ``n``
    configurations per space of ``plan`` (rows with ``sample_index < n``)."""
    return _plan_digest(plan[plan["sample_index"] < n])


def _same_prefix(
    old: Mapping[str, Any], new: Mapping[str, Any], digest: Callable[[int], str] | None
) -> bool:
    """True when ``old`` and ``new`` differ only in ``n`` (and what follows from it) and the
    new plan's first ``old n`` configurations per space are exactly the old plan."""
    if digest is None or old.get("study", {}).get("samples") is not None:
        return False
    old_n = old.get("study", {}).get("n")
    if new["study"].get("n") is None or not isinstance(old_n, int) or old_n <= 0:
        return False
    diff = [d.split(":", 1)[0] for d in _differences(old, new)]
    if not diff or not set(diff) <= _GROWABLE:
        return False
    return digest(old_n) == old["study"].get("plan_sha256")


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Setting differences that make two manifests different sweeps; the plan's size and
    digest are named only when nothing else differs (e.g. another designspace version
    samples other configurations)."""
    diff = [
        d
        for d in res.manifest_differences(old, new)
        if d.split(":", 1)[0] not in _IGNORED_DIFFERENCES
    ]
    primary = [d for d in diff if d.split(":", 1)[0] not in _DERIVED]
    return primary or diff


def resolve_run_dir(
    out: Path,
    manifest: dict[str, Any],
    force_new: bool,
    explicit_name: bool,
    digest: Callable[[int], str] | None = None,
) -> tuple[Path, dict[str, Any] | None]:
    """The folder of this sweep inside ``out`` and its existing manifest (None when new).

    ``out`` itself, or ``out/run-K`` for sweeps started there with ``force_new``; a folder
    whose manifest has the same settings is this sweep (resume). With ``digest`` (n -> the
    digest of this sweep's plan cut to ``n`` configurations per space), a folder whose manifest
    differs only in ``n`` is this sweep too when its plan is that cut (a smaller or bigger
    sample of the same spaces, seed and regime). Reads only.
    """
    if out.exists() and not out.is_dir():
        raise DesignSpaceError(f"--out {out} is a file; give a folder")
    candidates = (
        [out]
        + sorted(
            (p for p in out.glob("run-*") if p.is_dir() and p.name[4:].isdigit()),
            key=lambda p: int(p.name[4:]),
        )
        if out.is_dir()
        else [out]
    )
    first_diff: list[str] = []
    for d in candidates:
        old = res.read_manifest(d)
        if old is None:
            continue
        diff = [] if _same_prefix(old, manifest, digest) else _differences(old, manifest)
        if explicit_name and old.get("name") != manifest["name"]:
            diff.append(f"name: {old.get('name')!r} -> {manifest['name']!r}")
        if not diff:
            return d, old
        if d == out:
            first_diff = diff
    root_free = res.read_manifest(out) is None and not (out / res.DATA_DIRNAME).exists()
    if root_free:
        return out, None
    if not force_new:
        if not first_diff:
            first_diff = [f"{out / res.DATA_DIRNAME} exists but {out / res.MANIFEST_NAME} does not"]
        shown = "; ".join(first_diff[:4]) + (" ..." if len(first_diff) > 4 else "")
        raise DesignSpaceError(
            f"--out {out} holds a different sweep ({shown}); use another --out, or --force-new "
            f"to start this sweep in {out}/run-K beside the existing results (nothing is deleted)"
        )
    k = 2
    while (out / f"run-{k}").exists():
        k += 1
    return out / f"run-{k}", None


def plan_digester(config: SweepConfig, plan: pd.DataFrame) -> Callable[[int], str] | None:
    """n -> the digest of ``config``'s plan with ``n`` configurations per space (from ``plan``
    when ``n`` is at most its ``n``, else sampled again); None for a samples table."""
    if config.samples is not None:
        return None

    def digest(n: int) -> str:
        if n <= config.n:
            return prefix_digest(plan, n)
        return _plan_digest(plan_sweep(dataclasses.replace(config, n=n)))

    return digest


def round_robin(records: Mapping[str, dict[str, Any]]) -> list[str]:
    """The keys of ``records`` (plan rows) in training order: sample index 0 of every space,
    then index 1 of every space, and so on (spaces in plan order), so that a sweep stopped
    early holds as many models of each space, give or take one."""
    order: dict[str, int] = {}
    for r in records.values():
        order.setdefault(r["space"], len(order))
    return sorted(
        records, key=lambda k: (int(records[k]["sample_index"]), order[records[k]["space"]])
    )


def pending(
    records: Mapping[str, dict[str, Any]], scan: res.ResultsScan
) -> dict[str, dict[str, Any]]:
    """The planned models (``records`` of :func:`plan_records`) with no readable result in
    ``scan``."""
    done = scan.keys()
    return {
        k: r
        for k, r in records.items()
        if (r["space"], int(r["sample_index"]), r["arch_id"]) not in done
    }


# --------------------------------------------------------------------------- cost, dry run
def estimate_compute(plan: pd.DataFrame, train: TrainConfig) -> dict[str, float]:
    """Training images, and multiply-adds (forward + backward ~ 3 x forward flops per training
    image, plus one forward pass over the validation set per epoch), summed over the plan."""
    facts = dataset_facts(train)
    n = max(1, facts.num_train)
    bs = min(train.batch_size, n)
    per_epoch = max(1, n // bs)
    steps = train.max_steps or max(1, round(train.epochs * per_epoch))
    images = steps * bs
    evals = math.ceil(steps / per_epoch) * facts.num_val
    flops = plan["flops"].astype(float)
    return {
        "models": float(len(plan)),
        "train_images_per_model": float(images),
        "train_images": float(images * len(plan)),
        "multiply_adds": float((3 * images + evals) * flops.sum()),
    }


def describe_plan(
    config: SweepConfig,
    placement: Placement | None = None,
    out: str | Path | None = None,
    available: Mapping[str, float] | None = None,
    force_new: bool = False,
) -> str:
    """The ``--dry-run`` text: configurations per space, where the results would go and what
    is already done there, executor, resources, concurrency and a compute estimate.

    Starts nothing (``available`` defaults to what the executor will offer when that is known
    before it starts, else this machine's CPUs and GPUs) and writes
    nothing (``placement`` None: the default :class:`Placement`); raises DesignSpaceError
    where :func:`run_sweep` would refuse (e.g. ``out`` holds a
    different sweep and not ``force_new``).
    """
    from designspace.core.regimes import format_quantity

    placement = placement or Placement()
    plan = plan_sweep(config)
    if available is None:
        from designspace.sweep.executor import planned_resources

        available = planned_resources(placement) or local_resources()
    r = resolve_resources(placement, config.train, available)
    keys = {model_key(s, i, a) for s, i, a in
            zip(plan.space, plan.sample_index, plan.arch_id, strict=True)}  # fmt: skip
    done: set[str] = set()
    lines = [f"sweep plan: {len(plan)} configurations"]
    if out is not None:
        out = check_out_dir(out)
        manifest = build_manifest(config, plan, config.name or out.name)
        run_dir, old = resolve_run_dir(
            out, manifest, force_new, config.name is not None, plan_digester(config, plan)
        )
        if old is not None:
            done = {model_key(*k) for k in res.scan_results(run_dir).keys()} & keys
        state = "resuming this sweep" if old is not None else "a new sweep"
        lines.append(f"output: {run_dir} ({state})")
    for space, group in plan.groupby("space", sort=False):
        have = sum(
            model_key(space, i, a) in done
            for i, a in zip(group.sample_index, group.arch_id, strict=True)
        )
        f = group["flops"]
        lines.append(
            f"  {space}: {len(group)} configurations ({have} already done), flops "
            f"{format_quantity(f.min())}..{format_quantity(f.max())} at "
            f"{int(group['resolution'].iloc[0])} px"
        )
    est = estimate_compute(plan, config.train)
    todo = len(plan) - len(done)
    lines += [
        f"executor: {placement.executor}"
        + "".join(f", {k} = {v!r}" for k, v in placement.options.values().items()),
        f"resources: {r.cpus_per_trial:g} CPU and {r.gpus_per_trial:g} GPU per trial "
        f"({r.threads} torch thread(s), device {r.device}); cluster {r.cluster_cpus:g} CPUs, "
        f"{r.cluster_gpus:g} GPUs",
        f"concurrency: {r.concurrency} trials at a time",
        f"compute: {format_quantity(est['train_images_per_model'])} training images per model, "
        f"{format_quantity(est['multiply_adds'])} multiply-adds in all "
        f"({format_quantity(est['multiply_adds'] * todo / max(1, len(plan)))} still to run)",
        f"to run: {todo} of {len(plan)}",
    ]
    return "\n".join(lines)
