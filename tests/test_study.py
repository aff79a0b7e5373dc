"""Study files and the study/demo pipeline (sweep + analysis) on a tiny budget."""

from pathlib import Path

import pandas as pd
import pytest

from designspace.core.spaces import get_space
from designspace.errors import DesignSpaceError
from designspace.studies.study import load_study, run_study, study_from_dict

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.toml")))
def test_every_study_file_loads(path):
    study = load_study(path)
    assert study.n >= 1 and study.spaces
    assert Path(study.out).is_relative_to(ROOT / "results")
    study.train_config()  # every training setting is valid
    for space in study.spaces:
        get_space(str(ROOT / space) if space.endswith((".yaml", ".toml")) else space)


def test_demo_study_is_the_main_job():
    demo = load_study("demo")
    assert demo.spaces == ("AnyNetXA", "AnyNetXE") and demo.regime == "fashion-mnist"
    assert demo.train_config().dataset == "fashion-mnist"


def test_bad_study_files(tmp_path):
    with pytest.raises(DesignSpaceError, match="missing key"):
        study_from_dict({"name": "x"})
    with pytest.raises(DesignSpaceError, match="unknown key"):
        study_from_dict(
            {
                "name": "x",
                "spaces": ["AnyNetXA"],
                "n": 1,
                "regime": "imagenet",
                "out": "o",
                "colour": 1,
            }
        )
    bad = tmp_path / "s.toml"
    bad.write_text("name = ")
    with pytest.raises(DesignSpaceError, match="not valid TOML"):
        load_study(bad)
    good = {"name": "x", "spaces": ["AnyNetXA", "AnyNetXE"], "n": 1, "regime": "imagenet",
            "out": "o"}  # fmt: skip
    study_from_dict(good)
    for change, message in (
        ({"reference": "AnyNetXB"}, "reference 'AnyNetXB' is not one of the study's spaces"),
        ({"placement": {"max_concurent": 2}}, "did you mean 'max_concurrent'"),
        ({"placement": {"executor": "local", "cpus_per_trial": -1}}, "cpus-per-trial"),
        ({"train": {"epochs": "one"}}, r"f\.toml, \[train\]"),
        ({"spaces": 5}, "'spaces' must be a non-empty list"),
        ({"seed": -1}, "'seed' must be an integer >= 0"),
    ):
        with pytest.raises(DesignSpaceError, match=message):
            study_from_dict({**good, **change}, "f.toml")


def test_a_study_into_a_folder_in_use_is_refused(tmp_path):
    from designspace.sweep.locks import out_lock

    study = study_from_dict(
        {
            "name": "x",
            "spaces": ["AnyNetXA"],
            "n": 1,
            "regime": "fashion-mnist",
            "out": str(tmp_path / "o"),
        }  # fmt: skip
    )
    with out_lock(tmp_path / "o"):
        with pytest.raises(DesignSpaceError, match="is in use by pid"):
            run_study(study, progress=False, placement_overrides={"executor": "local"})


def test_run_study_sweeps_and_writes_the_report(tmp_path):
    study = study_from_dict(
        {
            "name": "tiny",
            "spaces": ["AnyNetXA", "AnyNetXE"],
            "n": 3,
            "regime": "fashion-mnist",
            "reference": "AnyNetXA",
            "out": str(tmp_path / "tiny"),
            "train": {"max_steps": 3, "subset": 256, "val_subset": 100, "batch_size": 32},
        }
    )
    result = run_study(study, progress=False, placement_overrides={"executor": "local"})
    frame = pd.read_parquet(result.results_dir / "results")
    assert len(frame) == 6 and set(frame["space"]) == {"AnyNetXA", "AnyNetXE"}
    assert (result.report_dir / "report.html").exists()
    assert (result.report_dir / "edf.png").exists()
    table = result.comparison
    assert list(table.index) == ["AnyNetXA", "AnyNetXE"] and (table["n"] == 3).all()
    assert not (result.results_dir / ".designspace.lock").exists()


def test_a_budgeted_study_prints_its_eta_first_and_resumes_bigger(tmp_path):
    from sweep_support import run_cli

    study = tmp_path / "experiments" / "b.toml"
    study.parent.mkdir()
    study.write_text(
        'name = "b"\nspaces = ["AnyNetXA", "AnyNetXE"]\nn = 2\nregime = "fashion-mnist"\n'
        'out = "results/b"\nbudget = "1h"\n[train]\nmax_steps = 3\nsubset = 256\n'
        "val_subset = 100\nbatch_size = 32\n"
    )
    r = run_cli("study", str(study), "--executor", "local", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0].startswith("study b: AnyNetXA, AnyNetXE; up to 2 per space, as many as fit")
    assert "budget; ETA 1h00m (done by about" in lines[0]
    assert lines[1].startswith("budget 1h00m: training ends by")
    assert "plan: 2 model(s) per space of at most 2, 2 more to train" in lines[2]
    frame = pd.read_parquet(tmp_path / "results" / "b" / "results")
    assert len(frame) == 4
    # A bigger n resumes the same sweep (nothing retrained); --budget off trains exactly n.
    r = run_cli("study", str(study), "-n", "3", "--budget", "off", "--executor", "local",
                "--no-progress")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "n = 3 per space" in r.stdout.splitlines()[0]
    again = pd.read_parquet(tmp_path / "results" / "b" / "results")
    assert len(again) == 6 and (again.attempt == 1).all()
    old = again.merge(frame[["arch_id", "finished_at"]], on="arch_id", suffixes=("", "_old"))
    assert len(old) == 4 and (old.finished_at == old.finished_at_old).all()


def test_a_study_declares_its_confirmatory_family():
    good = {"name": "x", "spaces": ["AnyNetXA", "AnyNetXB", "AnyNetXC"], "n": 1,
            "regime": "imagenet", "out": "o"}  # fmt: skip
    assert study_from_dict(good).confirmatory is None  # default: every step present
    study = study_from_dict({**good, "confirmatory": ["shared_g", "good_wm", "shared_g"]})
    assert study.confirmatory == ("shared_g", "good_wm")
    for value, message in (
        (["shared_q"], r"f\.toml: 'confirmatory': unknown claim 'shared_q' \(did you mean"),
        (["widths_increase"], "does not hold both spaces"),
        ("shared_b", "must be a list of claim names"),
    ):
        with pytest.raises(DesignSpaceError, match=message):
            study_from_dict({**good, "confirmatory": value}, "f.toml")
