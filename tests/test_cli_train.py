"""``designspace train`` end to end: JSON output, model sources, checkpoints, exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from designspace.cli import main
from designspace.core.arch import Architecture, Stage
from designspace.training.train import load_checkpoint

TINY = Architecture(stages=(Stage(1, 8, 1, 8, 2),), stem_width=8, name="tiny")
FAST = ["--subset", "256", "--val-subset", "100", "--threads", "1"]


def train_json(capsys, *argv: str) -> dict:
    code = main(["train", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""  # --json: nothing on stderr
    return json.loads(out)


def test_named_model_json_output(capsys):
    out = train_json(capsys, "RegNetX32", *FAST, "--max-steps", "3", "--batch-size", "32")
    assert out["status"] == "ok" and out["name"] == "RegNetX32"
    assert 0 <= out["val_top1_err"] <= 1 and 0 <= out["val_top5_err"] <= out["val_top1_err"]
    assert out["steps"] == 3 and len(out["epoch_train_loss"]) == 1
    assert out["images_per_s"] > 0 and out["train_time_s"] > 0 and out["device"] == "cpu"
    assert out["data"] == {
        "dataset": "fashion-mnist",
        "num_train": 256,
        "num_val": 100,
        "resolution": 28,
        "in_channels": 1,
        "num_classes": 10,
    }
    assert out["config"]["batch_size"] == 32 and out["config"]["lr"] == 0.1
    assert out["flops"] == 3_961_258  # RegNetX32 at 28 px (multiply-adds)


def test_architecture_json_file_and_checkpoint(capsys, tmp_path):
    arch_path = tmp_path / "tiny.json"
    arch_path.write_text(TINY.to_json())
    ck = tmp_path / "out" / "tiny.pt"
    out = train_json(
        capsys,
        str(arch_path),
        *FAST,
        "--epochs",
        "2",
        "--resize",
        "12",
        "--lr",
        "0.5",
        "--seed",
        "3",
        "--save",
        str(ck),
    )
    assert len(out["epoch_val_top1_err"]) == 2 and out["checkpoint"] == str(ck)
    assert out["resolution"] == 12
    loaded = load_checkpoint(ck)
    assert loaded.arch == TINY.with_io(in_channels=1, num_classes=10)
    assert loaded.config.seed == 3 and loaded.config.resize == 12
    assert loaded.result["val_top1_err"] == out["val_top1_err"]


def test_from_samples_parquet_index(capsys, tmp_path):
    archs = [TINY, TINY.with_io(stem_width=16)]
    rows = [{**a.to_row(), "arch_json": a.to_json()} for a in archs]
    path = tmp_path / "samples.parquet"
    pd.DataFrame(rows).to_parquet(path)
    out = train_json(capsys, "--from", str(path), "--index", "1", *FAST, "--max-steps", "2")
    assert out["architecture"]["stem_width"] == 16 and out["status"] == "ok"


def test_table_output_and_progress_lines(capsys):
    code = main(["train", "RegNetX32", *FAST, "--max-steps", "2", "--batch-size", "16"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "val top-1 err" in out and "images/s" in out and "status         ok" in out
    assert "epoch 1/1: train loss" in err


def test_divergence_exits_1_with_status(capsys):
    code = main(["train", "RegNetX32", *FAST, "--max-steps", "4", "--lr", "1e7", "--json"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["status"] == "diverged"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["RegNetX32", "--dataset", "mnist"], "unknown data set 'mnist'"),
        (["RegNetX32", "--batch-size", "0"], "batch size must be > 0"),
        (["RegNetX32", "--epochs", "0"], "epochs must be > 0"),
        (["RegNetX32", "--epochs", "nan"], "epochs must be > 0"),
        (["RegNetX32", "--lr", "inf"], "lr must be > 0"),
        (["RegNetX32", "--dataset", "cifar"], "unknown data set 'cifar' (did you mean cifar10?)"),
        (["RegNetX32", "--resize", "4"], "too small for this network (total stride 8"),
        (["RegNetX32", "--subset", "70000"], "subset 70000 is not in 1..60000"),
        (["RegNetX32", "--dataset", "cifar10"], "needs --data-root"),
        (["NoSuchNet"], "unknown model"),
        ([], "name a model"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code = main(["train", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_missing_fashion_mnist_names_the_package(capsys, tmp_path):
    code = main(["train", "RegNetX32", "--data-root", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "sudo apt-get install dataset-fashion-mnist" in err


def test_help_ends_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    examples = out[out.index("\nexamples:\n") :]
    assert out.rstrip().endswith(examples.rstrip())  # the last section
    assert "designspace train RegNetX32" in examples and "--data-root" in examples
    assert "--nesterov, --no-nesterov" in out and "--cuda-graph, --no-cuda-graph" in out


def test_bad_arguments_are_refused_before_torch_is_imported():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from designspace.cli import main\n"
        "for argv in (['--epochs', '0'], ['--dataset', 'mnist'], ['--resize', '4'],\n"
        "             ['--subset', '70000'], ['--data-root', '/no/such/dir'],\n"
        "             ['--save', '/'], ['--dataset', 'cifar10']):\n"
        "    assert main(['train', 'RegNetX32', *argv]) == 2, argv\n"
        "assert main(['train', 'NoSuchNet']) == 2\n"
        "assert 'torch' not in sys.modules, 'torch was imported before refusing'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 8 and all(line.startswith("designspace train: error:") for line in lines)


def test_check_args_gives_what_run_trains_without_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from designspace.cli import build_parser\n"
        "from designspace.commands.train import check_args\n"
        "args = build_parser().parse_args(['train', 'RegNetX32', '--subset', '100',\n"
        "                                  '--no-nesterov', '--cuda-graph'])\n"
        "arch, config = check_args(args)\n"
        "assert arch.name == 'RegNetX32' and config.subset == 100\n"
        "assert config.nesterov is False and config.cuda_graph is True\n"
        "assert 'torch' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_a_sample_from_another_band_is_refused_unless_retargeted(capsys, tmp_path):
    from designspace.cli import build_parser
    from designspace.commands.train import check_args

    assert (
        main(["sample", "--space", "AnyNetXA", "-n", "2", "-o", str(tmp_path / "s.parquet")]) == 0
    )
    capsys.readouterr()
    code = main(["train", "--from", str(tmp_path / "s.parquet"), "--index", "1", *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "sampled at 224 px, 3 channel(s), 1000 classes" in err and "--retarget" in err
    assert "it would train at 28 px, 1 channel(s), 10 classes" in err
    args = build_parser().parse_args(
        ["train", "--from", str(tmp_path / "s.parquet"), "--index", "1", "--retarget", *FAST]
    )
    arch, _ = check_args(args)  # accepted, and says what changed
    assert capsys.readouterr().err.startswith("retargeted: sampled at 224 px")
    # a row sampled for this data set needs no retargeting
    path = tmp_path / "f.parquet"
    assert (
        main(
            [
                "sample",
                "--space",
                "AnyNetXA",
                "-n",
                "2",
                "--regime",
                "fashion-mnist",
                "-o",
                str(path),
            ]
        )
        == 0
    )
    capsys.readouterr()
    args = build_parser().parse_args(["train", "--from", str(path), "--index", "1", *FAST])
    check_args(args)
    assert "retargeted" not in capsys.readouterr().err
