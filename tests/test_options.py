"""Command-line options generated from TrainConfig / DataConfig: none forgotten, all round-trip."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from designspace.commands.options import add_train_options, settings_from_args, train_options
from designspace.core.datasets import DataConfig
from designspace.training.trainconfig import TrainConfig

# A valid value other than the default, for every field.
OTHER = {
    "dataset": "cifar10",
    "data_root": "/data/cifar",
    "resize": 20,
    "subset": 5,
    "val_subset": 7,
    "subset_seed": 4,
    "augment": False,
    "epochs": 2.5,
    "max_steps": 9,
    "batch_size": 33,
    "lr": 0.25,
    "momentum": 0.5,
    "nesterov": False,
    "weight_decay": 1e-4,
    "warmup_epochs": 0.5,
    "label_smoothing": 0.1,
    "device": "cpu",
    "precision": "fp32",
    "channels_last": False,
    "threads": 3,
    "seed": 11,
    "zero_init_last_bn": False,
    "cuda_graph": False,
}
# Every option `designspace train` had before the options were generated.
OLD_FLAGS = (
    "--dataset --data-root --resize --subset --val-subset --subset-seed --augment --no-augment "
    "--epochs --max-steps --batch-size --lr --momentum --weight-decay --warmup-epochs "
    "--label-smoothing --zero-init-last-bn --no-zero-init-last-bn --seed --device --precision "
    "--channels-last --no-channels-last --threads"
).split()


def parser_and_options(**kw):
    p = argparse.ArgumentParser()
    options, groups = add_train_options(p, **kw)
    return p, options, groups


def argv_for(values: dict, options) -> list[str]:
    argv = []
    for o in options:
        value = values[o.field]
        if isinstance(value, bool):
            argv.append(o.flag if value else "--no-" + o.flag[2:])
        else:
            argv += [o.flag, str(value)]
    return argv


def test_every_field_has_exactly_one_option():
    options = train_options()
    assert sorted(o.field for o in options) == sorted(f.name for f in fields(TrainConfig))
    assert len({o.dest for o in options}) == len(options)
    assert set(OTHER) == {f.name for f in fields(TrainConfig)}  # this test covers them all
    data = {o.field for o in options if o.group == "data"}
    assert data == {f.name for f in fields(DataConfig)}
    assert all(o.help for o in options)


def test_every_option_reaches_the_configuration():
    p, options, _ = parser_and_options()
    args = p.parse_args(argv_for(OTHER, options))
    config = TrainConfig(**settings_from_args(args, options))
    for name, value in OTHER.items():
        assert getattr(config, name) == value, name
        assert type(getattr(config, name)) is type(value), name
    for name, default in TrainConfig().to_dict().items():
        assert OTHER[name] != default, name  # every option was really exercised


def test_options_left_out_keep_the_configuration_defaults():
    p, options, _ = parser_and_options()
    assert settings_from_args(p.parse_args([]), options) == {}
    assert TrainConfig(**settings_from_args(p.parse_args(["--lr", "0.3"]), options)).lr == 0.3


def test_old_option_names_still_work():
    p, options, groups = parser_and_options()
    flags = {s for a in p._actions for s in a.option_strings}
    assert set(OLD_FLAGS) <= flags
    assert {"--nesterov", "--no-nesterov", "--cuda-graph", "--no-cuda-graph"} <= flags
    assert set(groups) == {"data", "schedule", "run"}
    help_text = " | ".join(o.help for o in options)
    for text in (
        "epochs, fractional allowed (10)",
        "learning rate per 128 images, scaled by batch size / 128 (0.1)",
        "fashion-mnist (default; Debian package dataset-fashion-mnist), cifar10",
        "seed of the subsets (0)",
        "auto (default), cpu, cuda or cuda:N",
    ):
        assert text in help_text


def test_a_renamed_option_keeps_its_field():
    p, options, _ = parser_and_options(
        rename={"seed": ("--train-seed", "training seed: ")}, title_prefix="training: "
    )
    args = p.parse_args(["--train-seed", "5"])
    assert settings_from_args(args, options) == {"seed": 5}
    with pytest.raises(SystemExit):
        p.parse_args(["--seed", "5"])
    assert "training seed: seed of init" in p.format_help()
    assert "training: schedule:" in p.format_help()
