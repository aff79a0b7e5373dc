"""experiments/stem.py end to end on a tiny schedule: runs.csv, the statistics (checked against
an independent computation), resuming, and bad input."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "experiments" / "stem.py"
TINY = ["--seeds", "0", "1", "--max-steps", "2", "--subset", "256", "--val-subset", "100"]
TINY += ["--threads", "1"]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("experiment_stem", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses and typing look modules up by name
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def stem() -> ModuleType:
    """The script as a module."""
    return _load()


@pytest.fixture(scope="module")
def tiny_run(stem: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of one tiny run (2 seeds x 2 stems, 2 optimizer steps each)."""
    out = tmp_path_factory.mktemp("stem")
    assert stem.main([*TINY, "--out", str(out)]) == 0
    return out


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "runs.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_runs_csv_has_every_stem_and_seed(tiny_run: Path) -> None:
    rows = _rows(tiny_run)
    assert len(rows) == 4
    assert {(r["stem"], int(r["seed"])) for r in rows} == {
        (stem, seed) for stem in ("simple", "small") for seed in (0, 1)
    }
    assert list(rows[0]) == [
        "stem",
        "seed",
        "val_top1_err",
        "flops",
        "params",
        "train_time_s",
        "images_per_s",
        "status",
    ]
    for r in rows:
        assert r["status"] == "ok"
        assert 0.0 <= float(r["val_top1_err"]) <= 1.0
        assert float(r["train_time_s"]) > 0 and float(r["images_per_s"]) > 0


def test_small_stem_costs_about_3_5x_the_flops_and_the_same_params(tiny_run: Path) -> None:
    import dataclasses

    from designspace.core.complexity import complexity
    from designspace.core.named import get_model

    rows = _rows(tiny_run)
    flops = {r["stem"]: int(r["flops"]) for r in rows}
    params = {r["stem"]: int(r["params"]) for r in rows}
    base = get_model("RegNetX32")
    for name in ("simple", "small"):
        cost = complexity(dataclasses.replace(base, stem=name), resolution=28)
        assert flops[name] == cost.flops and params[name] == cost.params
    # Not 4x: the stem conv and stage 1 cost 4x (28/14 and 14/7 px), but stage 2 runs at 7 px
    # instead of 4 px (ceil(7/2)), (7/4)^2 = 3.06x; the head is unchanged. 13.71 / 3.96 MF.
    ratio = flops["small"] / flops["simple"]
    assert 3.0 < ratio < 4.0
    assert ratio == pytest.approx(3.4614, abs=1e-3)
    assert params["small"] == params["simple"]
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["flops_ratio_small_over_simple"] == pytest.approx(ratio)
    assert summary["stems"]["simple"]["stage_sides_px"] == [14, 7, 4]
    assert summary["stems"]["small"]["stage_sides_px"] == [28, 14, 7]


def test_summary_statistics_match_an_independent_computation(tiny_run: Path) -> None:
    rows = _rows(tiny_run)
    err = {(r["stem"], int(r["seed"])): float(r["val_top1_err"]) for r in rows}
    small = np.array([err["small", s] for s in (0, 1)])
    simple = np.array([err["simple", s] for s in (0, 1)])
    summary = json.loads((tiny_run / "summary.json").read_text())
    diff, pair = summary["difference"], summary["paired"]

    for key in ("estimate", "low", "high", "df", "t", "p"):
        assert key in diff and key in pair
    assert diff["estimate"] == pytest.approx(small.mean() - simple.mean(), abs=1e-12)
    assert summary["stems"]["small"]["mean_err"] == pytest.approx(small.mean())
    assert summary["stems"]["simple"]["sd_err"] == pytest.approx(simple.std(ddof=1))
    assert (summary["stems"]["small"]["n"], summary["stems"]["simple"]["n"]) == (2, 2)

    # Welch by hand: se, Welch-Satterthwaite df, t quantile.
    va, vb = small.var(ddof=1) / 2, simple.var(ddof=1) / 2
    if va + vb == 0:  # two steps may leave every error equal: no interval then
        assert diff["low"] is None and diff["high"] is None
    else:
        df = (va + vb) ** 2 / (va**2 / 1 + vb**2 / 1)
        half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
        assert diff["df"] == pytest.approx(df, rel=1e-9)
        assert diff["low"] == pytest.approx(diff["estimate"] - half, rel=1e-9, abs=1e-12)
        assert diff["high"] == pytest.approx(diff["estimate"] + half, rel=1e-9, abs=1e-12)
        assert diff["low"] <= diff["estimate"] <= diff["high"]
        t = (small.mean() - simple.mean()) / math.sqrt(va + vb)
        assert diff["p"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)

    # Paired by seed by hand.
    d = small - simple
    assert pair["estimate"] == pytest.approx(d.mean(), abs=1e-12)
    assert pair["n_pairs"] == 2 and pair["seeds"] == [0, 1]
    if d.std(ddof=1) == 0:
        assert pair["low"] is None and pair["high"] is None
    else:
        half = stats.t.ppf(0.975, 1) * d.std(ddof=1) / math.sqrt(2)
        assert pair["df"] == 1
        assert pair["low"] == pytest.approx(d.mean() - half, rel=1e-9, abs=1e-12)
        assert pair["high"] == pytest.approx(d.mean() + half, rel=1e-9, abs=1e-12)
        assert pair["low"] <= pair["estimate"] <= pair["high"]


def test_summary_records_machine_settings_and_command(tiny_run: Path) -> None:
    summary = json.loads((tiny_run / "summary.json").read_text())
    machine = summary["machine"]
    assert set(machine["cpu"]) >= {"model", "avx512f", "avx2"}
    assert machine["threads"] == 1 and machine["torch"]
    assert summary["train"]["max_steps"] == 2 and summary["train"]["subset"] == 256
    assert summary["train"]["epochs"] == 1 and summary["train"]["lr"] == 0.1  # from the study
    assert summary["command"].endswith(" ".join([*TINY, "--out", str(tiny_run)]))
    md = (tiny_run / "summary.md").read_text()
    assert "small - simple" in md and "paired by seed" in md and summary["command"] in md


def test_rerun_trains_nothing(
    stem: ModuleType, tiny_run: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import designspace.training.train

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a rerun trained a model")

    monkeypatch.setattr(designspace.training.train, "train", no_training)
    before = (tiny_run / "runs.csv").read_bytes()
    start = time.perf_counter()
    assert stem.main([*TINY, "--out", str(tiny_run)]) == 0
    assert time.perf_counter() - start < 5
    assert (tiny_run / "runs.csv").read_bytes() == before
    assert "nothing to train" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_2(
    stem: ModuleType, tiny_run: Path, tmp_path: Path, capsys
) -> None:
    missing = tmp_path / "missing.toml"
    assert stem.main(["--study", str(missing), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()

    # Other settings into a folder that holds runs: refused, nothing changed.
    before = (tiny_run / "runs.csv").read_bytes()
    other = [a if a != "2" else "3" for a in TINY]  # --max-steps 3
    assert stem.main([*other, "--out", str(tiny_run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "max_steps" in err
    assert (tiny_run / "runs.csv").read_bytes() == before

    assert stem.main(["--subset", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--subset must be > 0" in capsys.readouterr().err
