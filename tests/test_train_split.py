"""The trainer split into one concept per module: the public entry point, the pure schedule,
and the numbers of a run equal to the pieces composed by hand, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from designspace.core.arch import Architecture, Stage
from designspace.training import (
    batches,
    checkpoint,
    evaluate,
    optim,
    precision,
    result,
    schedule,
    train,
)
from designspace.training.data import load_data
from designspace.training.trainconfig import TrainConfig

TINY = Architecture(
    stages=(Stage(1, 8, 1, 8, 2),),
    stem="simple",
    stem_width=8,
    in_channels=1,
    num_classes=10,
    name="tiny",
)


@pytest.fixture(scope="module")
def fmnist():
    """192 training / 60 validation Fashion-MNIST images at 14 px."""
    return load_data(TrainConfig(subset=192, val_subset=60, resize=14))


def test_the_entry_point_re_exports_the_pieces():
    assert train.TrainResult is result.TrainResult
    assert train.lr_at_step is schedule.lr_at_step
    assert train.resolve_device is precision.resolve_device
    assert train.SGD is optim.SGD
    assert train.augment_batch is batches.augment_batch
    assert train._Normalizer is batches.Normalizer
    assert (train.evaluate, train.topk_correct, train.topk_errors) == (
        evaluate.evaluate,
        evaluate.topk_correct,
        evaluate.topk_errors,
    )
    assert (train.Checkpoint, train.save_checkpoint, train.load_checkpoint) == (
        checkpoint.Checkpoint,
        checkpoint.save_checkpoint,
        checkpoint.load_checkpoint,
    )
    assert set(train.__all__) <= set(vars(train))


def test_schedule_and_result_load_no_torch():
    code = (
        "import sys\n"
        "import designspace.training.schedule, designspace.training.result\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("settings", "n", "expected"),
    [
        # batch, steps per epoch, total steps, warm-up steps, epochs begun
        ({"epochs": 1.5, "batch_size": 64}, 512, (64, 8, 12, 0, 2)),
        ({"epochs": 5, "max_steps": 3, "batch_size": 64}, 512, (64, 8, 3, 0, 1)),
        ({"epochs": 2, "batch_size": 100, "warmup_epochs": 0.5}, 250, (100, 2, 4, 1, 2)),
        ({"epochs": 0.1, "batch_size": 1000}, 300, (300, 1, 1, 0, 1)),  # one short batch
    ],
)
def test_schedule_step_counts(settings, n, expected):
    s = schedule.Schedule.of(TrainConfig(**settings), n)
    assert (s.batch_size, s.steps_per_epoch, s.total_steps, s.warmup_steps, s.num_epochs) == (
        expected
    )


def test_schedule_scales_the_configured_batch_not_the_clamped_one():
    s = schedule.Schedule.of(TrainConfig(lr=0.2, batch_size=256, warmup_epochs=1.0), 100)
    assert s.batch_size == 100 and s.base_lr == 0.2 * 256 / 128
    assert [s.lr(k) for k in range(3)] == [
        schedule.lr_at_step(k, s.total_steps, s.base_lr, s.warmup_steps) for k in range(3)
    ]


def test_precision_resolution():
    cpu = torch.device("cpu")
    assert not precision.use_bf16("auto", cpu) and precision.use_bf16("bf16", cpu)
    assert not precision.use_bf16("fp32", cpu)
    assert precision.resolve_channels_last(None) and not precision.resolve_channels_last(False)
    before = torch.get_num_threads()
    with precision.threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_a_run_equals_the_pieces_composed_by_hand(fmnist):
    """The public trainer's numbers are those of its pieces: model init under the seed, one
    seeded permutation per epoch, SGD with the cosine schedule, evaluation after each epoch."""
    config = TrainConfig(
        subset=192, val_subset=60, batch_size=32, lr=0.5, epochs=2, warmup_epochs=0.5,
        augment=False, channels_last=False, threads=1, seed=4,
    )  # fmt: skip
    got = train.train(TINY, config, fmnist)

    from designspace.training.models import build_model

    device = torch.device("cpu")
    with precision.threads(1):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            model = build_model(TINY, zero_init_last_bn=config.zero_init_last_bn).train()
        opt = optim.SGD(
            list(model.parameters()), config.momentum, config.nesterov, config.weight_decay
        )
        norm = batches.Normalizer(fmnist, device, channels_last=False)
        train_x = fmnist.train_x.permute(0, 2, 3, 1).contiguous()
        val_x = fmnist.val_x.permute(0, 2, 3, 1).contiguous()
        sched = schedule.Schedule.of(config, train_x.shape[0])
        gen = torch.Generator().manual_seed(config.seed)
        losses, top1s, step = [], [], 0
        for _ in range(sched.num_epochs):
            perm = torch.randperm(train_x.shape[0], generator=gen)
            loss_sum = torch.zeros(())
            for i in range(sched.steps_per_epoch):
                idx = perm[i * sched.batch_size : (i + 1) * sched.batch_size]
                loss = F.cross_entropy(model(norm(train_x[idx])), fmnist.train_y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step(sched.lr(step))
                loss_sum += loss.detach().float()
                step += 1
            losses.append(float(loss_sum) / sched.steps_per_epoch)
            top1s.append(evaluate.evaluate(model, val_x, fmnist.val_y, norm, 10)[0])

    assert got.status == "ok" and got.steps == step == 12
    assert got.epoch_train_loss == losses  # exact: the same operations in the same order
    assert got.epoch_val_top1_err == top1s
