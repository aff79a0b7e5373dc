"""What designspace writes and where (issue 20): a command writes only into an output it owns,
replaces only its own unchanged files, and refuses, in one line and before anything is
written, an output that is empty, is or holds an input, lies in a results data set or is a
folder of someone else's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile import refused, run_cli, snapshot
from nds_files import lrwd_file

from designspace.errors import DesignSpaceError
from designspace.formats import outputs

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "results" / "fixtures" / "small_results"
STUDY = ROOT / "results" / "fmnist-progression"


def _stage(tmp_path: Path, files: dict[str, str]) -> Path:
    stage = tmp_path / f".stage-{len(list(tmp_path.iterdir()))}"
    stage.mkdir()
    for name, text in files.items():
        (stage / name).write_text(text)
    return stage


# ------------------------------------------------------------------ the cases (CLI)
def test_analysis_into_the_folder_of_its_input_and_notes_loses_nothing(tmp_path):
    d = tmp_path / "D"
    d.mkdir()
    shutil.copy(FIXTURE / "AnyNetXA.parquet", d / "data.parquet")
    (d / "report.md").write_text("# my notes\n")
    (d / "data.csv").write_text("a,b\n1,2\n")
    msg = refused("analyze", str(d / "data.csv"), "--out", str(d), watch=[tmp_path])
    assert "contains the input" in msg
    # no input inside, but the folder is the user's: refused too, and says what to do
    msg = refused("analyze", str(FIXTURE), "--out", str(d), watch=[tmp_path])
    assert "did not write" in msg and "new or empty folder" in msg


def test_out_in_a_data_set_empty_or_an_input_is_refused(tmp_path):
    copy = tmp_path / "study"
    (copy / "results").mkdir(parents=True)
    for f in FIXTURE.glob("*.parquet"):
        shutil.copy(f, copy / "results" / f.name)
    msg = refused("analyze", str(copy), "--out", str(copy / "results"), watch=[tmp_path])
    assert "results data set" in msg
    refused("analyze", str(copy), "--out", str(copy / "results" / "a"), watch=[tmp_path])
    msg = refused("analyze", str(copy), "--out", "", watch=[tmp_path], cwd=tmp_path)
    assert "--out is empty" in msg
    msg = refused("analyze", str(copy), "--out", str(copy), watch=[tmp_path])
    assert "the input" in msg
    nds = lrwd_file(tmp_path)
    msg = refused("import", "nds", str(nds), "--out", str(tmp_path), watch=[tmp_path])
    assert "contains the input" in msg
    msg = refused("sweep", "--samples", str(copy / "results" / "AnyNetXA.parquet"), "--out",
                  str(tmp_path), watch=[tmp_path])  # fmt: skip
    assert "contains the input" in msg


def test_single_file_outputs_replace_only_their_own_kind(tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text("x,y\n1,2\n")
    msg = refused("sample", "--space", "AnyNetXA", "-n", "2", "-o", str(mine), watch=[tmp_path])
    assert "not a table designspace wrote" in msg
    msg = refused("sample", "--space", "AnyNetXA", "-n", "2", "-o", "", watch=[tmp_path])
    assert "empty" in msg
    ours = tmp_path / "ours.csv"  # a samples table designspace wrote may be replaced
    for n in ("2", "3"):
        proc, _ = run_cli("sample", "--space", "AnyNetXA", "-n", n, "-o", str(ours))
        assert proc.returncode == 0, proc.stderr
    assert len(ours.read_text().splitlines()) == 4
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    msg = refused("plot", "edf", str(FIXTURE), "-o", str(png), watch=[tmp_path])
    assert "not a figure designspace wrote" in msg


# ------------------------------------------------------------------ ownership (API)
def test_what_a_folder_is(tmp_path):
    assert outputs.ownership(tmp_path, outputs.ANALYSIS).kind == "empty"
    (tmp_path / ".designspace.lock").write_text("")
    assert outputs.ownership(tmp_path, outputs.SWEEP).kind == "empty"
    (tmp_path / "notes.txt").write_text("mine")
    for kind in (outputs.ANALYSIS, outputs.SWEEP, outputs.NDS, outputs.REPLICATE):
        assert outputs.ownership(tmp_path, kind) is None
        with pytest.raises(DesignSpaceError, match="did not write"):
            outputs.check_out_dir(tmp_path, kind)
    started = tmp_path / "started"  # a sweep stopped before its sweep.json
    (started / "results").mkdir(parents=True)
    assert outputs.ownership(started, outputs.SWEEP).kind == outputs.SWEEP
    nds = tmp_path / "nds"
    (nds / "results").mkdir(parents=True)
    shutil.copy(FIXTURE / "AnyNetXA.parquet", nds / "results" / "a.parquet")
    assert outputs.ownership(nds, outputs.NDS).kind == outputs.NDS
    assert outputs.ownership(nds, outputs.SWEEP) is None
    rep = tmp_path / "rep"
    (rep / "seed-1").mkdir(parents=True)
    (rep / "seed-1" / "sweep.json").write_text("{}")
    (rep / "seed-2").mkdir()
    assert outputs.ownership(rep, outputs.REPLICATE).kind == outputs.REPLICATE
    (rep / "seed-3").mkdir()
    (rep / "seed-3" / "x.txt").write_text("mine")
    assert outputs.ownership(rep, outputs.REPLICATE) is None


def test_the_committed_studies_are_adopted(tmp_path):
    # the committed analysis carries its manifest since it was regenerated ...
    committed = outputs.ownership(STUDY / "analysis", outputs.ANALYSIS)
    assert committed is not None and committed.kind == "manifest"
    assert committed.command == "analyze" and "summary.csv" in committed.files
    # ... and an analysis an earlier version wrote (the same folder without it) is adopted
    copy = tmp_path / "study"
    shutil.copytree(STUDY, copy)
    (copy / "analysis" / outputs.OUTPUTS_NAME).unlink()
    assert outputs.check_out_dir(copy, outputs.SWEEP) == copy
    owner = outputs.ownership(copy / "analysis", outputs.ANALYSIS)
    assert owner is not None and owner.kind == outputs.ANALYSIS
    every = {p.name for p in (copy / "analysis").iterdir()}
    assert owner.adopted == every and "summary.csv" in every
    # replacing it: the new files overwrite their namesakes; nothing else is removed
    (copy / "analysis" / "mine.txt").write_text("mine")
    stage = _stage(tmp_path, {"report.md": "# Design-space analysis: x\n", "summary.csv": "a"})
    done = outputs.publish(stage, copy / "analysis", "analyze", outputs.ANALYSIS)
    left = {p.name for p in (copy / "analysis").iterdir()}
    assert left == every | {"mine.txt", outputs.OUTPUTS_NAME}
    assert (copy / "analysis" / "summary.csv").read_text() == "a"
    assert "edf.png" in done.kept and not done.removed and not stage.exists()
    # from now on the folder has a manifest: the next analysis owns what this one wrote
    stage = _stage(tmp_path, {"report.md": "# Design-space analysis: y\n"})
    done = outputs.publish(stage, copy / "analysis", "analyze", outputs.ANALYSIS)
    assert done.removed == ("summary.csv",) and (copy / "analysis" / "mine.txt").exists()


def test_a_changed_file_is_kept_and_a_foreign_namesake_refused(tmp_path):
    out = tmp_path / "a"
    outputs.publish(_stage(tmp_path, {"t.csv": "1", "u.csv": "2", "w.csv": "3"}), out, "analyze",
                    outputs.ANALYSIS)  # fmt: skip
    (out / "u.csv").write_text("edited by hand")
    (out / "notes.txt").write_text("mine")
    done = outputs.publish(_stage(tmp_path, {"t.csv": "9"}), out, "analyze", outputs.ANALYSIS)
    assert done.kept == ("u.csv",) and done.removed == ("w.csv",)
    assert (out / "u.csv").read_text() == "edited by hand" and (out / "t.csv").read_text() == "9"
    assert (out / "notes.txt").read_text() == "mine"
    # a new output named like the user's file: refused before anything moves
    before = snapshot([out])
    with pytest.raises(DesignSpaceError, match="not written by designspace"):
        outputs.publish(_stage(tmp_path, {"t.csv": "5", "notes.txt": "x"}), out, "analyze",
                        outputs.ANALYSIS)  # fmt: skip
    assert snapshot([out]) == before


def test_a_user_file_named_like_the_manifest_is_kept(tmp_path):
    out = tmp_path / "a"
    out.mkdir()
    (out / outputs.OUTPUTS_NAME).write_text("my own json, not yours")
    before = snapshot([out])
    with pytest.raises(DesignSpaceError, match="not an outputs manifest"):
        outputs.check_out_dir(out, outputs.ANALYSIS)
    with pytest.raises(DesignSpaceError):
        outputs.publish(_stage(tmp_path, {"t.csv": "1"}), out, "analyze", outputs.ANALYSIS)
    assert snapshot([out]) == before


def test_a_manifest_of_another_kind_is_not_this_commands(tmp_path):
    out = tmp_path / "a"
    outputs.publish(_stage(tmp_path, {"t.csv": "1"}), out, "analyze", outputs.ANALYSIS)
    assert outputs.ownership(out, outputs.ANALYSIS).kind == "manifest"
    with pytest.raises(DesignSpaceError, match="did not write"):
        outputs.check_out_dir(out, outputs.NDS)


def test_figures_and_tables_designspace_wrote_are_recognised(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from designspace.formats.archfile import write_table
    from designspace.reporting.plots import save

    fig = plt.figure()
    for ext in ("png", "svg", "pdf"):
        path = save(fig, tmp_path / f"f.{ext}")
        assert outputs.written_by_designspace(path, outputs.FIGURE), ext
        assert outputs.check_out_file(path, outputs.FIGURE, (f".{ext}",)) == path
        (tmp_path / f"g.{ext}").write_bytes(b"not a figure")
        with pytest.raises(DesignSpaceError, match="not a figure"):
            outputs.check_out_file(tmp_path / f"g.{ext}", outputs.FIGURE, (f".{ext}",))
    plt.close(fig)
    import pandas as pd

    frame = pd.read_parquet(FIXTURE / "AnyNetXA.parquet")
    for ext in (".parquet", ".csv", ".jsonl"):
        path = write_table(frame.head(2), tmp_path / f"t{ext}")
        assert outputs.written_by_designspace(path, outputs.TABLE), ext
        write_table(frame.head(2)[["val_top1_err"]], tmp_path / f"u{ext}")
        assert not outputs.written_by_designspace(tmp_path / f"u{ext}", outputs.TABLE), ext
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "t.csv")
    with pytest.raises(DesignSpaceError, match="not a table"):
        outputs.check_out_file(link, outputs.TABLE, (".csv",))


@pytest.mark.parametrize(
    ("folder", "kind"),
    [
        ("fmnist-progression", outputs.SWEEP),
        ("fmnist-exercises", outputs.SWEEP),
        ("fmnist-small-progression", outputs.SWEEP),
        ("fidelity", outputs.SWEEP),
        ("fidelity-seeds/long", outputs.REPLICATE),
        ("fmnist-progression/analysis", outputs.ANALYSIS),
        ("fmnist-exercises/analysis", outputs.ANALYSIS),
        ("fmnist-small-progression/analysis", outputs.ANALYSIS),
    ],
)
def test_every_committed_output_folder_is_recognised(folder, kind):
    path = ROOT / "results" / folder
    assert outputs.ownership(path, kind) is not None  # read only: nothing is written here
    assert outputs.check_out_dir(path, kind) == path


def test_only_figures_designspace_drew_are_replaced(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from designspace.formats.outputs import FIGURE, check_out_file, written_by_designspace
    from designspace.reporting.plots import new_figure, save

    for ext in ("png", "svg", "pdf"):
        fig, ax = new_figure()
        ax.plot([0, 1])
        ours = save(fig, tmp_path / f"ours.{ext}")
        plt.figure()
        plt.plot([0, 1])
        plt.savefig(tmp_path / f"theirs.{ext}")  # matplotlib, but not designspace
        plt.close("all")
        assert written_by_designspace(ours, FIGURE)
        assert not written_by_designspace(tmp_path / f"theirs.{ext}", FIGURE)
        assert check_out_file(ours, FIGURE, (f".{ext}",)) == ours.resolve()
        with pytest.raises(DesignSpaceError, match="is not a figure designspace wrote"):
            check_out_file(tmp_path / f"theirs.{ext}", FIGURE, (f".{ext}",))
