"""Seed replicates: train the same architectures once per training seed.

A noise floor (:mod:`designspace.analysis.noise`) needs the same architectures trained with
several seeds, every other setting unchanged. :func:`replicate` runs one sweep per seed over a
samples table (as written by ``designspace sample`` or any table with an ``arch_json``
column), each into its own folder ``OUT/seed-<s>/`` (a sweep folder holds one training
configuration, and the seed is part of it), and returns every row of every seed. Rerunning
resumes each seed's sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from designspace.errors import DesignSpaceError


def replicate(
    samples: str | Path,
    train: Any,
    seeds: Sequence[int],
    out: str | Path,
    regime: Any = None,
    placement: Any = None,
    name: str | None = None,
    progress: bool = True,
    trainer: Any = None,
) -> pd.DataFrame:
    """Train every architecture of ``samples`` once per seed of ``seeds`` (``cfg_seed``).

    ``train`` is the :class:`~designspace.training.train.TrainConfig` whose ``seed`` is replaced per
    replicate; ``regime`` and ``placement`` are passed to
    :func:`designspace.sweep.run_sweep` (placement None = its default). Results land in
    ``out/seed-<s>/``; the returned DataFrame concatenates all seeds' rows (one row per
    architecture and seed). Raises DesignSpaceError for fewer than two distinct seeds or a
    missing samples file.
    """
    from designspace.sweep import Placement, SweepConfig, run_sweep

    seeds = [int(s) for s in seeds]
    if len(set(seeds)) < 2 or len(set(seeds)) != len(seeds):
        raise DesignSpaceError(
            f"replicates need at least two distinct training seeds, got {seeds}; e.g. 0 1 2"
        )
    if not Path(samples).exists():
        raise DesignSpaceError(f"samples file {str(samples)!r} does not exist")
    from designspace.formats.outputs import REPLICATE
    from designspace.sweep.plan import check_out_dir

    check_out_dir(out, inputs=[samples], kind=REPLICATE)  # before any seed's sweep starts
    out = Path(out)
    base = name or out.name
    frames = []
    for s in seeds:
        config = SweepConfig(
            samples=str(samples),
            train=replace(train, seed=s),
            regime=regime,
            name=f"{base}-seed{s}",
        )
        frames.append(
            run_sweep(
                config,
                out / f"seed-{s}",
                placement or Placement(),
                progress=progress,
                trainer=trainer,
            )
        )
    return pd.concat(frames, ignore_index=True)
