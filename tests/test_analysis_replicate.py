"""Seed replicates: one sweep per training seed over the same architectures, and the noise
floor of the result (a stand-in trainer whose error depends on the architecture and the seed)."""

import zlib

import numpy as np
import pytest

from designspace.analysis import noise_floor
from designspace.errors import DesignSpaceError
from designspace.studies.replicate import replicate
from designspace.sweep import Placement
from designspace.training.train import TrainConfig, TrainResult


def seeded_trainer(arch, config, data=None, **_):
    """Error = a per-architecture value + N(0, 0.01) noise from the training seed."""
    base = 0.2 + (zlib.crc32(arch.to_json().encode()) % 100) / 1000
    err = float(base + np.random.default_rng(config.seed).normal(0, 0.01))
    return TrainResult(
        status="ok",
        val_top1_err=err,
        best_val_top1_err=err,
        val_top5_err=err / 3,
        train_loss=0.5,
        epoch_train_loss=[0.5],
        epoch_val_top1_err=[err],
        epoch_val_top5_err=[err / 3],
        train_time_s=0.01,
        images_per_s=1.0,
        peak_memory_mb=1.0,
        device="cpu",
        steps=1,
        epochs_done=1.0,
    )


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from designspace.core.sampling import sample

    out = tmp_path_factory.mktemp("replicate") / "samples.parquet"
    sample("AnyNetXA", 3, seed=0, regime="fashion-mnist").to_frame().to_parquet(out)
    return out


def test_replicates_train_every_architecture_once_per_seed(samples, tmp_path):
    # the local executor (worker processes, no Ray) keeps this quick
    frame = replicate(
        samples,
        TrainConfig(max_steps=1),
        [0, 1],
        tmp_path / "rep",
        regime="fashion-mnist",
        placement=Placement(executor="local", max_concurrent=1),
        progress=False,
        trainer=seeded_trainer,
    )
    assert len(frame) == 6 and sorted(frame["cfg_seed"].unique()) == [0, 1]
    assert frame.groupby("arch_id").size().eq(2).all()
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["seed-0", "seed-1"]
    nf = noise_floor(frame)
    assert nf.n_archs == 3 and nf.dof == 3 and 0.0 < nf.sd < 0.05


def test_replicate_refuses_bad_seeds_and_missing_samples(samples, tmp_path):
    with pytest.raises(DesignSpaceError, match="two distinct training seeds"):
        replicate(samples, TrainConfig(), [0], tmp_path)
    with pytest.raises(DesignSpaceError, match="two distinct training seeds"):
        replicate(samples, TrainConfig(), [1, 1], tmp_path)
    with pytest.raises(DesignSpaceError, match="does not exist"):
        replicate(tmp_path / "nope.parquet", TrainConfig(), [0, 1], tmp_path)
