"""A new user's first hour, scripted from an empty folder: the README's commands, and none of
the sharp edges a walkthrough met before (silence on long work, output far from the study, an
unknown name without the valid ones, a sample silently retargeted, a whole report section lost
to one space without per-stage data)."""

import shutil
from pathlib import Path

import pandas as pd
from nds_files import darts_record, lrwd_file, write

from designspace.cli import main
from designspace.feedback import PROGRESS_LINE

FIXTURE = Path(__file__).resolve().parents[1] / "results" / "fixtures" / "small_results"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_first_hour_from_an_empty_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "spaces")
    assert code == 0 and "AnyNetXE" in out and "RegNetX" in out
    code, _, _ = run(capsys, "sample", "--space", "AnyNetE", "-n", "12", "-o", "s.parquet")
    assert code == 0 and len(pd.read_parquet("s.parquet")) == 12
    code, out, _ = run(capsys, "describe", "--from", "s.parquet", "--index", "3")
    assert code == 0 and "flops" in out

    # an ImageNet-band sample is not silently shrunk to a 28-px Fashion-MNIST model
    code, _, err = run(capsys, "train", "--from", "s.parquet", "--index", "0")
    assert code == 2 and "--retarget" in err and "another complexity band" in err

    # a study folder: the analysis lands beside its results, with progress on the way
    shutil.copytree(FIXTURE, tmp_path / "study" / "results")
    code, _, err = run(capsys, "analyze", "study", "--n-boot", "200", "--formats", "png")
    assert code == 0 and (tmp_path / "study" / "analysis" / "report.html").is_file()
    assert not (tmp_path / "analysis").exists()
    progress = [line for line in err.splitlines() if PROGRESS_LINE.match(line)]
    assert progress[0].startswith("analyze: reading study (0.") and len(progress) > 10
    html = (tmp_path / "study" / "analysis" / "report.html").read_text()
    assert '<nav id="contents">' in html and 'href="#comparison"' in html

    # an unknown statistic names the valid ones, the closest first
    code, _, err = run(capsys, "plot", "param", "study", "--x", "wm", "-o", "p.png")
    assert code == 2 and "closest first: fit_wm" in err and not Path("p.png").exists()
    code, _, err = run(capsys, "plot", "edf", "study", "-o", "edf.pdf")
    assert code == 0 and Path("edf.pdf").read_bytes()[:5] == b"%PDF-"
    assert any(PROGRESS_LINE.match(line) for line in err.splitlines())

    # NDS: a space without per-stage data leaves only itself out of the fits
    lrwd = lrwd_file(tmp_path, n=12)
    darts = write(tmp_path / "DARTS_lr-wd_in.json", [darts_record(i) for i in range(12)])
    code, out, err = run(capsys, "import", "nds", str(lrwd), str(darts), "--out", "nds")
    assert code == 0 and "import nds [2/2]: reading" in err
    code, _, _ = run(capsys, "analyze", "nds", "--n-boot", "200", "--formats", "png")
    fits = pd.read_csv(tmp_path / "nds" / "analysis" / "fits.csv")
    assert code == 0 and set(fits["space"]) == {"Toy"}
