"""Sweeps: train every sampled configuration of one or more spaces, resumably.

May import :mod:`designspace.training`, :mod:`designspace.formats`, :mod:`designspace.core`
and :mod:`designspace.errors`; never analysis, reporting or studies. Planning (``config``,
``plan``) imports neither torch nor ray; ray lives only in ``ray_tune``, submitit only inside
the functions of ``slurm_executor``.

The package, by concept:

* :mod:`~designspace.sweep.config`: :class:`SweepConfig` (what is evaluated) and
  :class:`Placement` (where trials run, which executor);
* :mod:`~designspace.sweep.plan`: the plan, manifest, resume, compute estimate and dry run
  (pure: no torch, no ray);
* :mod:`~designspace.sweep.resources`: per-trial resources and concurrency;
* :mod:`~designspace.sweep.registry`: the :data:`EXECUTORS` registry (name -> class);
* :mod:`~designspace.sweep.executor`: the executor seam (:class:`Job`, :class:`Recorder`,
  :class:`BaseExecutor`'s hooks); :mod:`~designspace.sweep.options`: executor options as
  dataclasses that generate flags and study-file keys;
* the executors, one module each: :mod:`~designspace.sweep.ray_executor` (Ray Tune; its run
  in :mod:`~designspace.sweep.ray_tune`, the only module importing ray),
  :mod:`~designspace.sweep.local_executor` (worker processes on one machine) and
  :mod:`~designspace.sweep.slurm_executor` (one SLURM job per trial through submitit);
  :mod:`~designspace.sweep.trial` is the trial they all run;
* :mod:`~designspace.sweep.progress`: a bar on a terminal, lines in a log;
* :mod:`~designspace.sweep.locks`: one writer per output folder;
* :mod:`~designspace.sweep.run`: :func:`run_sweep`, which puts them together.

Results: one parquet file per finished model, written by the driver the moment the model is
done (:mod:`designspace.formats.results`); a rerun trains only what is missing; a SIGKILL of
the driver loses only the trials that were running.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> submodule; imported on first use, so that e.g. the command line's parser (which
# needs only the executor names) does not load pandas and pyarrow.
_EXPORTS = {
    "DEFAULT_CPUS_PER_TRIAL": "config",
    "DEFAULT_EXECUTOR": "config",
    "DEFAULT_GPU_SHARE": "config",
    "PLACEMENT_SETTINGS": "config",
    "SHARED_PLACEMENT_KEYS": "config",
    "Placement": "config",
    "SweepConfig": "config",
    "EXECUTORS": "registry",
    "ExecutorOptions": "options",
    "BaseExecutor": "executor",
    "Executor": "executor",
    "Job": "executor",
    "Recorder": "executor",
    "TrialSpec": "executor",
    "get_executor": "executor",
    "build_manifest": "plan",
    "check_out_dir": "plan",
    "dataset_facts": "plan",
    "describe_plan": "plan",
    "estimate_compute": "plan",
    "plan_sweep": "plan",
    "Resources": "resources",
    "local_resources": "resources",
    "resolve_resources": "resources",
    "SweepRun": "run",
    "check_data": "run",
    "run_sweep": "run",
    "ray_connection": "ray_tune",  # imports ray
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
