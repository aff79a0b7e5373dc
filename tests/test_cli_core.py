"""The sample / describe / spaces commands, run as a user runs them."""

import json
import shlex
import subprocess
import sys

import pandas as pd
import pytest

from designspace.cli import build_parser, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "designspace", *args], capture_output=True, text=True, timeout=120
    )


def test_sample_to_parquet_round_trip(tmp_path):
    out = tmp_path / "s.parquet"
    r = run_cli("sample", "--space", "AnyNetE", "-n", "500", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "500 configurations" in r.stdout and "acceptance" in r.stdout
    df = pd.read_parquet(out)
    assert len(df) == 500 and df["arch_id"].is_unique
    assert df["flops"].between(360e6, 400e6).all() and set(df["space"]) == {"AnyNetXE"}


@pytest.mark.parametrize("ext", [".csv", ".jsonl"])
def test_sample_other_formats(tmp_path, ext, capsys):
    out = tmp_path / f"s{ext}"
    assert (
        main(
            [
                "sample",
                "--space",
                "RegNetX",
                "-n",
                "7",
                "--regime",
                "fashion-mnist",
                "--seed",
                "3",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    df = pd.read_csv(out) if ext == ".csv" else pd.read_json(out, lines=True)
    assert len(df) == 7 and (df["resolution"] == 28).all()
    # describe a row of it: its resolution comes from the file
    capsys.readouterr()
    assert main(["describe", "--from", str(out), "--index", "2", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["resolution"] == 28 and obj["flops"] == int(df["flops"].iloc[2])


def test_sample_flops_spellings(capsys):
    for band in ("360M:400M", "0.36G:0.4G", "3.6e8:4e8"):
        assert main(["sample", "--space", "AnyNetXB", "-n", "3", "--flops", band]) == 0
    assert "360M..400M" in capsys.readouterr().out


def test_sample_overrides_regime(capsys):
    assert (
        main(
            [
                "sample",
                "--space",
                "AnyNetXE",
                "-n",
                "3",
                "--regime",
                "fashion-mnist",
                "--resolution",
                "32",
                "--num-classes",
                "7",
                "--flops",
                "4M:6M",
            ]
        )
        == 0
    )
    assert "32 px, 1 ch, 7 classes" in capsys.readouterr().out


def test_describe_named_model_json(capsys):
    assert main(["describe", "RegNetX-400MF", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["flops"] == 397_678_568 and obj["params"] == 5_157_512
    assert obj["acts"] == 3_143_272 and obj["resolution"] == 224
    for key in (
        "name",
        "depths",
        "widths",
        "group_widths",
        "bottleneck_ratios",
        "se_ratio",
        "block",
    ):
        assert key in obj
    assert obj["depths"] == [1, 2, 7, 12]


def test_describe_table_and_arch_file(tmp_path, capsys):
    assert main(["describe", "RegNetY-400MF"]) == 0
    text = capsys.readouterr().out
    assert "stage4" in text and "440x7x7" in text
    from designspace.core.named import get_model

    f = tmp_path / "a.json"
    f.write_text(get_model("RegNetX32").to_json())
    assert main(["describe", str(f), "--resolution", "96", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resolution"] == 96


def test_spaces_lists_everything(capsys):
    assert main(["spaces"]) == 0
    text = capsys.readouterr().out
    assert "AnyNetXA" in text and "RegNetY" in text
    assert main(["spaces", "AnyNetXE"]) == 0
    assert "non-decreasing" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "--space", "AnyNetQ", "-n", "5"], "valid spaces"),
        (["sample", "--space", "AnyNetE", "-n", "0"], "positive"),
        (["sample", "--space", "AnyNetE", "-n", "5", "--flops", "400M:360M"], "reversed"),
        (["sample", "--space", "AnyNetE", "-n", "5", "--flops", "lots"], "LO:HI"),
        (["sample", "--space", "AnyNetE", "-n", "5", "--flops", "1:2"], "widen the band"),
        (["sample", "--space", "AnyNetE", "-n", "5", "-o", "x.xlsx"], "format"),
        (["sample", "--space", "AnyNetE", "-n", "5", "--regime", "mnist"], "valid regimes"),
        (["describe", "RegNetZ-1GF"], "unknown model"),
        (["describe", "missing.json"], "cannot read architecture file"),
        (["describe", "--from", "missing.parquet", "--index", "0"], "does not exist"),
        (["sample", "-n", "5"], "required"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message):
    r = run_cli(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_describe_bad_architecture_files(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"stages": [{"depth": 1, "width": 24, "group_width": 16}]}))
    r = run_cli("describe", str(f))
    assert r.returncode == 2 and "does not divide" in r.stderr
    f.write_text(json.dumps({"stages": [{"depth": 1}]}))
    r = run_cli("describe", str(f))
    assert r.returncode == 2 and "'width'" in r.stderr
    f.write_text(json.dumps({"stages": [{"depth": 1, "width": -8}]}))
    r = run_cli("describe", str(f))
    assert r.returncode == 2 and "positive" in r.stderr


def test_core_imports_neither_torch_nor_ray(tmp_path):
    code = (
        "import sys, designspace, designspace.core.sampling, designspace.core.complexity, "
        "designspace.core.spaces, designspace.core.named, designspace.core.regnet\n"
        "from designspace.cli import main\n"
        f"main(['sample', '--space', 'AnyNetE', '-n', '20', '-o', r'{tmp_path / 's.parquet'}'])\n"
        "bad = [m for m in ('torch', 'ray', 'fvcore') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("command", ["spaces", "sample", "describe"])
def test_help_ends_with_examples_that_parse(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out.rstrip()
    tail = text[text.rindex("\nexamples:") + 1 :]
    commands = [line.strip() for line in tail.splitlines() if line.startswith("  designspace ")]
    assert len(commands) >= 3 and all(c.split()[1] == command for c in commands)
    # every example line is followed by its explanation, and the block closes the help
    assert len(tail.splitlines()) == 1 + 2 * len(commands)
    parser = build_parser()
    for line in commands:
        args = parser.parse_args(shlex.split(line)[1:])
        assert args.command == command


@pytest.mark.parametrize(
    ("args", "code"), [(["spaces"], 0), (["sample", "--space", "Nope", "-n", "3"], 2)]
)
def test_after_ray_the_process_ends_with_its_exit_code_and_flushed_output(args, code):
    # Ray's native threads could crash the interpreter's teardown after a clean stop: once
    # Ray is loaded, entry() flushes and ends the process itself, skipping that teardown.
    script = (
        "import atexit, sys, types\n"
        "sys.modules['ray'] = types.ModuleType('ray')\n"
        "atexit.register(lambda: print('TEARDOWN RAN'))\n"
        f"sys.argv = ['designspace', *{args!r}]\n"
        "from designspace.cli import entry\n"
        "entry()\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == code
    assert "TEARDOWN RAN" not in r.stdout
    if code == 0:
        assert "AnyNetXA" in r.stdout  # buffered output written before the process ended
    else:
        assert r.stderr.count("\n") == 1 and "error" in r.stderr


def test_without_ray_the_interpreter_ends_normally():
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('TEARDOWN RAN'))\n"
        "sys.argv = ['designspace', 'spaces']\n"
        "from designspace.cli import entry\n"
        "entry()\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.rstrip().endswith("TEARDOWN RAN")
