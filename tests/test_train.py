"""The trainer: loss falls, metrics, seeds, divergence, schedules, checkpoints, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from designspace.core.arch import Architecture, Stage
from designspace.errors import DesignSpaceError
from designspace.training.data import load_data
from designspace.training.train import (
    TrainConfig,
    augment_batch,
    evaluate,
    load_checkpoint,
    lr_at_step,
    topk_correct,
    topk_errors,
    train,
)

# One stage of width 8 (X blocks, dense 3x3), stem 8: a few thousand parameters.
TINY = Architecture(
    stages=(Stage(1, 8, 1, 8, 2),),
    stem="simple",
    stem_width=8,
    in_channels=3,
    num_classes=1000,
    name="tiny",
)
BASE = dict(subset=512, val_subset=200, batch_size=64, lr=1.0, threads=1)


@pytest.fixture(scope="module")
def fmnist():
    """512 training / 200 validation Fashion-MNIST images at 14 px (class-balanced)."""
    return load_data(TrainConfig(subset=512, val_subset=200, resize=14))


def run(data, **kw):
    return train(TINY, TrainConfig(**{**BASE, **kw}), data)


# --------------------------------------------------------------------------- training
def test_loss_falls_and_the_model_learns(fmnist):
    result = run(fmnist, epochs=3)
    assert result.status == "ok" and result.error is None
    assert len(result.epoch_train_loss) == 3 and len(result.epoch_val_top1_err) == 3
    assert result.epoch_train_loss[-1] < result.epoch_train_loss[0] < math.log(10) + 0.5
    assert result.val_top1_err < 0.65  # chance is 0.9
    assert result.best_val_top1_err == min(result.epoch_val_top1_err)
    assert result.val_top5_err is not None and result.val_top5_err <= result.val_top1_err
    assert result.steps == 3 * (512 // 64) and result.epochs_done == 3
    assert result.train_images == result.steps * 64 and result.images_per_s > 0
    assert result.device == "cpu" and result.peak_memory_mb > 0
    assert result.train_time_s > 0 and result.wall_time_s >= result.train_time_s


def test_same_seed_same_numbers_other_seed_other_numbers(fmnist):
    a = run(fmnist, epochs=2, augment=True)
    b = run(fmnist, epochs=2, augment=True)
    c = run(fmnist, epochs=2, augment=True, seed=1)
    assert a.epoch_train_loss == b.epoch_train_loss
    assert a.epoch_val_top1_err == b.epoch_val_top1_err
    assert a.epoch_train_loss != c.epoch_train_loss


def test_training_leaves_the_global_rng_alone(fmnist):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run(fmnist, max_steps=1)
    assert torch.equal(torch.rand(3), expected)


def test_divergence_is_a_status_not_an_exception(fmnist):
    result = run(fmnist, lr=1e6, epochs=2)
    assert result.status == "diverged"
    assert "non-finite" in result.error
    assert math.isnan(result.val_top1_err) and result.steps < 2 * (512 // 64)


def test_step_budget_and_fractional_epochs(fmnist):
    steps = run(fmnist, max_steps=3, epochs=5)
    assert steps.steps == 3 and len(steps.epoch_train_loss) == 1
    assert steps.epochs_done == pytest.approx(3 / 8)
    half = run(fmnist, epochs=1.5)
    assert half.steps == 12 and len(half.epoch_val_top1_err) == 2 and half.epochs_done == 1.5


def test_options_run_warmup_smoothing_augment_nchw(fmnist):
    result = run(
        fmnist,
        max_steps=4,
        warmup_epochs=0.5,
        label_smoothing=0.1,
        augment=True,
        channels_last=False,
        nesterov=False,
        weight_decay=0.0,
    )
    assert result.status == "ok" and result.channels_last is False


def test_io_of_the_network_comes_from_the_data(fmnist, tmp_path):
    path = tmp_path / "ck.pt"
    result = train(TINY, TrainConfig(**BASE, max_steps=2), fmnist, save=path)
    ck = load_checkpoint(path)
    assert ck.arch.in_channels == 1 and ck.arch.num_classes == 10
    assert ck.config == TrainConfig(**BASE, max_steps=2)
    assert ck.result["val_top1_err"] == result.val_top1_err
    payload = torch.load(path, weights_only=True)
    assert set(payload) >= {"state_dict", "arch_json", "config", "result"}


def test_checkpoint_reproduces_the_reported_error(fmnist, tmp_path):
    path = tmp_path / "ck.pt"
    result = run(fmnist, max_steps=5, channels_last=False)
    train(TINY, TrainConfig(**BASE, max_steps=5, channels_last=False), fmnist, save=path)
    model = load_checkpoint(path).model()
    from designspace.training.train import _Normalizer

    norm = _Normalizer(fmnist, torch.device("cpu"), channels_last=False)
    top1, _ = evaluate(model, fmnist.val_x.permute(0, 2, 3, 1).contiguous(), fmnist.val_y, norm, 10)
    assert top1 == pytest.approx(result.val_top1_err, abs=1e-9)


def test_cuda_out_of_memory_is_a_failed_status(fmnist, monkeypatch):
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    import designspace.training.models

    monkeypatch.setattr(designspace.training.models, "build_model", lambda arch, **kw: Boom())
    result = run(fmnist, max_steps=2)
    assert result.status == "failed" and "out of memory" in result.error
    assert math.isnan(result.val_top1_err)


def test_other_exceptions_reach_the_caller(fmnist, monkeypatch):
    import designspace.training.models

    def broken(arch, **kw):
        raise RuntimeError("builder exploded")

    monkeypatch.setattr(designspace.training.models, "build_model", broken)
    with pytest.raises(RuntimeError, match="builder exploded"):
        run(fmnist, max_steps=1)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"batch_size": 0}, "batch size must be > 0"),
        ({"epochs": 0}, "epochs must be > 0"),
        ({"epochs": -1.5}, "epochs must be > 0"),
        ({"max_steps": 0}, "max_steps must be > 0"),
        ({"lr": -0.1}, "lr must be > 0"),
        ({"label_smoothing": 1.0}, "label smoothing"),
        ({"precision": "fp8"}, "precision must be one of"),
        ({"device": "tpu"}, "device must be"),
        ({"resize": 0}, "resize must be > 0"),
    ],
)
def test_bad_settings_raise(settings, message):
    with pytest.raises(DesignSpaceError, match=message):
        TrainConfig(**settings)


def test_min_resolution():
    from designspace.core.named import get_model
    from designspace.training.train import min_resolution

    # 4 stages + stem, total stride 32: maps 17 -> 9 -> 5 -> 3 -> 2 -> 1
    four = get_model("RegNetX-400MF")
    assert four.total_stride == 32 and min_resolution(four) == 17
    assert min_resolution(get_model("RegNetX32")) == 5  # stride 8: 5 -> 3 -> 2 -> 1


def test_resolution_below_total_stride_is_bad_input(fmnist):
    small = load_data(TrainConfig(subset=20, val_subset=20, resize=2))
    with pytest.raises(DesignSpaceError, match="total stride 4: .*use --resize 3"):
        train(TINY, TrainConfig(max_steps=1), small)
    with pytest.raises(DesignSpaceError, match="too small for this network"):
        train(TINY, TrainConfig(resize=2, max_steps=1))  # caught before loading


# --------------------------------------------------------------------------- pieces
def test_topk_errors_on_known_predictions():
    logits = torch.tensor(
        [
            [0.9, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0],  # predicts 0
            [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],  # ranking 6,5,4,3,2,1,0
            [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # predicts 1
            [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],  # ranking 0,1,2,...
        ]
    )
    targets = torch.tensor([0, 2, 3, 6])
    # top-1: only sample 0 right -> 3/4 wrong; top-5: sample 0 and 1 right (2 is 5th).
    assert topk_errors(logits, targets, (1, 5)) == [0.75, 0.5]
    assert topk_correct(logits, targets, (1, 2, 7)).tolist() == [1, 1, 4]


def test_evaluate_counts_errors_of_a_fixed_model():
    class Constant(nn.Module):
        def forward(self, x):
            out = torch.zeros(x.shape[0], 10)
            out[:, 3] = 1.0
            out[:, 7] = 0.5
            return out

    images = torch.zeros(12, 4, 4, 1, dtype=torch.uint8)
    labels = torch.tensor([3] * 3 + [7] * 3 + [0] * 6)
    top1, top5 = evaluate(Constant(), images, labels, lambda x: x.float(), 10, batch_size=5)
    assert top1 == pytest.approx(0.75) and top5 is not None
    # Ties among the zero logits make the top-5 membership of class 0 implementation-defined,
    # so check the bound that must hold: classes 3 and 7 are always in the top 5.
    assert top5 <= 0.5
    top1_few, top5_few = evaluate(Constant(), images, labels.clamp(max=4), lambda x: x.float(), 5)
    assert top5_few is None and top1_few == pytest.approx(1 - 3 / 12)


def test_lr_schedule_is_half_cosine_with_linear_warmup():
    assert lr_at_step(0, 100, 0.4) == pytest.approx(0.4)
    assert lr_at_step(50, 100, 0.4) == pytest.approx(0.2)
    assert lr_at_step(99, 100, 0.4) == pytest.approx(0.2 * (1 + math.cos(math.pi * 0.99)))
    assert lr_at_step(0, 100, 0.4, warmup_steps=10) == pytest.approx(0.4 * 0.1 * 1.0, rel=1e-3)
    assert lr_at_step(9, 100, 0.4, warmup_steps=10) == pytest.approx(lr_at_step(9, 100, 0.4))


def test_augment_batch_is_a_padded_crop_or_its_mirror():
    gen = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 6 * 6 * 2, dtype=torch.uint8).reshape(2, 6, 6, 2) + 1
    out = augment_batch(x, gen, pad=2)
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (0, 0, 2, 2, 2, 2))
    for b in range(2):
        candidates = [
            view
            for oy in range(5)
            for ox in range(5)
            for view in (
                padded[b, oy : oy + 6, ox : ox + 6],
                padded[b, oy : oy + 6, ox : ox + 6].flip(1),
            )
        ]
        assert any(torch.equal(out[b], c) for c in candidates)
    same = augment_batch(x, gen, pad=0, flip=False)
    assert torch.equal(same, x)


def test_result_row_has_the_contract_columns(fmnist):
    row = run(fmnist, max_steps=1).to_row()
    for key in (
        "status",
        "val_top1_err",
        "best_val_top1_err",
        "val_top5_err",
        "train_loss",
        "epoch_train_loss",
        "epoch_val_top1_err",
        "train_time_s",
        "images_per_s",
        "peak_memory_mb",
        "device",
        "steps",
        "epochs_done",
        "error",
    ):
        assert key in row
    assert isinstance(row["epoch_train_loss"], list)
    assert set(TrainConfig().to_dict()) >= {"dataset", "epochs", "lr", "seed", "batch_size"}
    assert TrainConfig.from_dict(TrainConfig(lr=0.3).to_dict()) == TrainConfig(lr=0.3)
    with pytest.raises(DesignSpaceError, match="unknown training setting"):
        TrainConfig.from_dict({"learning_rate": 0.1})


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_matches_torch_optim_sgd_exactly(nesterov):
    from designspace.training.train import SGD

    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    b = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    b.load_state_dict(a.state_dict())
    before = a[0].weight.detach().clone()
    ours = SGD(list(a.parameters()), momentum=0.9, nesterov=nesterov, weight_decay=1e-2)
    ref = torch.optim.SGD(
        b.parameters(), lr=0.1, momentum=0.9, nesterov=nesterov, weight_decay=1e-2, foreach=True
    )
    x = torch.randn(8, 5)
    for lr in (0.1, 0.05, 0.2):
        for param_group in ref.param_groups:
            param_group["lr"] = lr
        for model, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            model(x).square().mean().backward()
        ours.step(lr)
        ref.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not torch.equal(a[0].weight, before)  # the updates did something


def test_sgd_with_a_tensor_learning_rate_follows_the_float_one():
    # The CUDA-graph step reads lr from a 0-d tensor; the update must be the same rule.
    from designspace.training.train import SGD

    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    b = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = (SGD(list(m.parameters()), weight_decay=1e-2) for m in (a, b))
    lr_tensor = torch.zeros(())
    x = torch.randn(8, 5)
    for lr in (0.1, 0.05, 0.2):
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            model(x).square().mean().backward()
        opt_a.step(lr)
        lr_tensor.fill_(lr)
        opt_b.step(lr_tensor)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_cuda_graph_setting_is_ignored_on_cpu(fmnist):
    on, off = run(fmnist, max_steps=3, cuda_graph=True), run(fmnist, max_steps=3, cuda_graph=False)
    assert on.status == off.status == "ok"
    assert on.epoch_train_loss == off.epoch_train_loss  # same eager path, bit for bit


@pytest.mark.parametrize("setting", [None, True, False])
def test_zero_init_last_bn_reaches_the_model_builder(fmnist, monkeypatch, setting):
    import designspace.training.models

    seen = []
    real = designspace.training.models.build_model

    def spy(arch, zero_init_last_bn=False):
        seen.append(zero_init_last_bn)
        return real(arch, zero_init_last_bn=zero_init_last_bn)

    monkeypatch.setattr(designspace.training.models, "build_model", spy)
    extra = {} if setting is None else {"zero_init_last_bn": setting}
    result = run(fmnist, max_steps=1, **extra)
    assert result.status == "ok"
    assert seen == [True if setting is None else setting]


# --------------------------------------------------------------------------- the configuration
def test_config_keys_are_the_results_columns_as_before():
    assert list(TrainConfig(epochs=1).to_dict()) == [
        "dataset", "data_root", "resize", "subset", "val_subset", "epochs", "max_steps",
        "batch_size", "lr", "momentum", "nesterov", "weight_decay", "warmup_epochs",
        "label_smoothing", "augment", "device", "precision", "channels_last", "threads", "seed",
        "subset_seed", "zero_init_last_bn", "cuda_graph",
    ]  # fmt: skip
    config = TrainConfig(epochs=1, subset=100, augment=True)
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"epochs": "one"},
            "study.toml: training setting 'epochs' must be a number (float), got 'one' (str)",
        ),
        ({"batch_size": 12.5}, "'batch_size' must be a whole number (int), got 12.5"),
        ({"augment": "yes"}, "'augment' must be true or false (bool) or None"),
        ({"threads": True}, "'threads' must be a whole number (int) or None, got True (bool)"),
        ({"dataset": 3}, "'dataset' must be a string (str), got 3 (int)"),
        ({"epoch": 1}, "study.toml: unknown training setting 'epoch' (did you mean 'epochs'?)"),
        ({"dataset": "cifar"}, "study.toml: unknown data set 'cifar' (did you mean cifar10?)"),
        ({"lr": -1}, "study.toml: lr must be > 0, got -1"),
    ],
)
def test_from_dict_checks_types_and_keys_naming_the_file(settings, message):
    with pytest.raises(DesignSpaceError) as err:
        TrainConfig.from_dict(settings, where="study.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_numbers_from_files_are_accepted_as_they_are():
    import numpy as np

    config = TrainConfig.from_dict({"epochs": 2, "batch_size": np.int64(64), "lr": np.float32(1)})
    assert config.epochs == 2 and config.to_dict()["epochs"] == 2  # kept, not rewritten
    assert TrainConfig(augment=np.bool_(True)).augment
