"""Reading NDS's published populations: every field of both file shapes, and the import."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from designspace.analysis import compare, load_results
from designspace.cli import main
from designspace.errors import DesignSpaceError
from designspace.formats.nds import import_nds, nds_regime, nds_space, read_nds
from tests.nds_files import anynet_record, darts_record, lrwd_file, reruns_file, write


def test_space_and_regime_from_file_names():
    assert nds_space("x/ResNet_lr-wd_in.json") == "ResNet"
    assert nds_space("ResNeXt-A_in.json") == "ResNeXt-A"
    assert nds_space("DARTS.json") == "DARTS"
    assert nds_regime("ResNet_lr-wd_in.json") == "imagenet"
    assert nds_regime("ResNet_reruns.json") == "cifar10"


def test_anynet_record_every_field(tmp_path):
    rec = anynet_record(3)
    d = read_nds(write(tmp_path / "Toy_in.json", [anynet_record(0), rec]))
    assert len(d) == 2
    r = d.iloc[1]
    assert (r["space"], r["sweep"], r["sample_index"], r["source"]) == (
        "Toy",
        "Toy_in",
        1,
        "Toy_in.json",
    )
    assert (r["regime"], r["cfg_dataset"], r["resolution"]) == ("imagenet", "imagenet", 224)
    # errors: percent -> fraction; min is the headline metric, last epoch kept too
    assert r["val_top1_err"] == pytest.approx(rec["min_test_top1"] / 100)
    assert r["best_val_top1_err"] == pytest.approx(rec["min_test_top1"] / 100)
    assert r["final_val_top1_err"] == pytest.approx(rec["test_ep_top1"][-1] / 100)
    assert r["epoch_val_top1_err"] == pytest.approx([x / 100 for x in rec["test_ep_top1"]])
    assert r["epoch_train_top1_err"] == pytest.approx([x / 100 for x in rec["train_ep_top1"]])
    assert r["epoch_train_loss"] == pytest.approx(rec["train_ep_loss"])
    assert r["train_loss"] == pytest.approx(rec["train_ep_loss"][-1])
    assert r["iter_train_loss"] == pytest.approx([6.0, 5.5])
    assert r["iter_train_top1_err"] == pytest.approx([0.99, 0.98])
    assert r["epochs_done"] == 6.0
    assert r["status"] == "ok"
    # complexity and resources
    assert (r["flops"], r["params"]) == (rec["flops"], rec["params"])
    assert (r["act_mem"], r["exp_mem"], r["iter_time_s"]) == (103.0, 3003.0, 0.2)
    assert r["job_id"] == "1003"
    # settings
    o = rec["optim"]
    assert r["cfg_lr"] == o["base_lr"] and r["cfg_weight_decay"] == o["wd"]
    assert (r["cfg_momentum"], r["cfg_epochs"], r["cfg_seed"]) == (0.9, 6.0, 4)
    assert (r["cfg_lr_policy"], r["cfg_iter_lr"]) == ("cos", False)
    # architecture: index 0 is the stem; b = 1 / bot_mul; g = w * bot_mul / groups
    assert (r["block"], r["stem_width"], r["stem_stride"]) == ("res_bottleneck_block", 56, 4)
    assert r["num_stages"] == 2 and r["depth"] == 1 + 3 % 3 + 2
    assert (
        list(r["depths"]) == [1, 2]
        and list(r["widths"]) == [96, 256]
        and list(r["strides"]) == [1, 2]
    )
    assert list(r["bottleneck_ratios"]) == [4.0, 2.0]
    assert list(r["group_widths"]) == [96 * 0.25 / 2, 256 * 0.5 / 4]
    assert (r["d1"], r["w1"], r["b1"], r["g1"]) == (1, 96, 4.0, 12)
    assert (r["d2"], r["w2"], r["b2"], r["g2"]) == (2, 256, 2.0, 32)
    assert json.loads(r["arch_json"]) == rec["net"]
    assert len(r["arch_id"]) == 16 and r["arch_id"] != d.iloc[0]["arch_id"]


def test_reruns_file_gives_two_spaces_and_basic_block_defaults(tmp_path):
    d = read_nds(reruns_file(tmp_path, n=4))
    assert sorted(d["space"].unique()) == ["Toy-mid", "Toy-top"]
    assert d.groupby("space").size().to_dict() == {"Toy-mid": 4, "Toy-top": 4}
    assert d["sample_index"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert (d["regime"] == "cifar10").all() and (d["resolution"] == 32).all()
    r = d.iloc[0]
    assert r["stem_stride"] == 1 and r["stem_width"] == 16
    assert list(r["depths"]) == [2, 3, 3] and list(r["widths"]) == [32, 128, 160]
    assert list(r["bottleneck_ratios"]) == [1.0, 1.0, 1.0]
    assert list(r["group_widths"]) == [32, 128, 160]
    assert r["prec_time_train_fw_bw_s"] == 0.02 and r["prec_time_test_fw_s"] == 0.007
    # repeated runs of one network share the arch_id; the two networks differ
    top = d[d["space"] == "Toy-top"]
    assert top["arch_id"].nunique() == 1
    assert top["cfg_seed"].tolist() == [0, 1, 2, 3]
    assert d["arch_id"].nunique() == 1  # cifar_record(0) and (2) share the net
    assert read_nds(reruns_file(tmp_path), space="R")["space"].unique().tolist() == [
        "R-top",
        "R-mid",
    ]


def test_darts_genotype_is_json_text(tmp_path):
    d = read_nds(write(tmp_path / "DARTS_in.json", [darts_record(0), darts_record(1)]))
    r = d.iloc[1]
    assert r["block"] == "cell" and r["depth"] == 10 and r["cell_width"] == 24
    assert r["aux"] is False or r["aux"] == False  # noqa: E712 - numpy bool
    assert r["drop_prob"] == 0.0 and r["num_stages"] == 0
    geno = json.loads(r["genotype"])
    assert geno["normal"][0] == ["sep_conv_3x3", 0] and geno["reduce_concat"] == [2, 3]
    assert r["depths"] is None and pd.isna(r["d1"])
    # the genotype dict form (not text) is accepted too
    rec = darts_record(2)
    rec["net"]["genotype"] = json.loads(r["genotype"])
    assert read_nds(write(tmp_path / "D.json", [rec]))["genotype"][0] == r["genotype"]


def test_diverged_runs(tmp_path):
    recs = [anynet_record(0), anynet_record(1, diverged=True), anynet_record(2, nan=True)]
    recs.append(anynet_record(3))
    recs[3]["min_test_top1"] = float("nan")
    d = read_nds(write(tmp_path / "T_in.json", recs))
    assert d["status"].tolist() == ["ok", "diverged", "diverged", "diverged"]
    # CIFAR chance is 90% error: 89.5% is diverged there, not on ImageNet
    rec = anynet_record(0)
    rec["min_test_top1"] = 89.5
    assert read_nds(write(tmp_path / "C.json", [rec]))["status"][0] == "diverged"
    assert read_nds(write(tmp_path / "C_in.json", [rec]))["status"][0] == "ok"


def test_bad_records_name_file_and_record(tmp_path):
    rec = anynet_record(0)
    del rec["optim"]["wd"]
    p = write(tmp_path / "X_in.json", [anynet_record(1), rec])
    with pytest.raises(DesignSpaceError, match=r"X_in.json: record \[1\] has no field 'optim.wd'"):
        read_nds(p)
    data = {"top": [anynet_record(0)], "mid": [anynet_record(1), "text"]}
    with pytest.raises(DesignSpaceError, match=r"record mid\[1\] is a str"):
        read_nds(write(tmp_path / "Y.json", data))


def test_import_writes_a_dataset_like_a_sweep(tmp_path):
    out = tmp_path / "out"
    lr = lrwd_file(tmp_path)
    written = import_nds([lr, reruns_file(tmp_path)], out)
    assert len(written) == 8 + 10
    d = pd.read_parquet(out / "results")
    assert len(d) == 18 and {"Toy", "Toy-top", "Toy-mid"} == set(d["space"])
    assert (d.loc[d["space"] == "Toy", "status"] == "diverged").sum() == 1
    assert load_results(out)["val_top1_err"].between(0, 1).all()
    # a second import into the same folder keeps one schema; the same models are refused
    import_nds([lr], out, space="Other")
    d = pd.read_parquet(out / "results")
    assert len(d) == 26 and d.loc[d["space"] == "Other", "d2"].notna().all()
    with pytest.raises(DesignSpaceError, match="already holds model Toy #0"):
        import_nds([lr], out)
    assert len(pd.read_parquet(out / "results")) == 26


def test_imported_data_goes_through_the_analyses(tmp_path):
    out = tmp_path / "out"
    import_nds([reruns_file(tmp_path, n=6)], out)
    c = compare(load_results(out))
    assert set(c.table.index) == {"Toy-top", "Toy-mid"}
    assert c.table.loc["Toy-top", "median"] < c.table.loc["Toy-mid", "median"]


def test_cli_import_then_analyze(tmp_path, capsys):
    out, rep = tmp_path / "out", tmp_path / "rep"
    assert main(["import", "nds", str(lrwd_file(tmp_path, n=12)), "--out", str(out)]) == 0
    assert "Toy: diverged 1, ok 11" in capsys.readouterr().out
    code = main(["analyze", str(out), "--out", str(rep), "--n-boot", "200", "--formats", "png"])
    assert code == 0
    assert (rep / "report.md").exists() and (rep / "summary.csv").exists()
    summary = pd.read_csv(rep / "summary.csv", index_col=0)
    assert summary.loc["Toy", "n"] == 11


def test_a_space_without_stages_leaves_only_itself_out_of_the_fits(tmp_path):
    from designspace.reporting.options import AnalysisOptions
    from designspace.reporting.report import analyze

    out = tmp_path / "out"
    import_nds([lrwd_file(tmp_path, n=12)], out)
    darts = [darts_record(i) for i in range(12)]
    import_nds([write(tmp_path / "DARTS_lr-wd_in.json", darts)], out)
    rep = analyze(load_results(out), tmp_path / "a", AnalysisOptions(n_boot=200, formats=("png",)))
    fits = next(r for r in rep.sections if r.name == "fits")
    assert fits.skipped is None and "fits" in rep.tables
    assert set(rep.tables["fits"]["space"]) == {"Toy"}
    assert any(line.startswith("RegNet fits: space DARTS left out") for line in fits.not_done)


def test_a_reruns_file_alone_says_what_it_is_good_for(tmp_path):
    from designspace.reporting.context import prepare

    out = tmp_path / "out"
    import_nds([reruns_file(tmp_path, n=6)], out)
    ctx = prepare(load_results(out))  # top and mid: one architecture, six seeds each
    said = [w for w in ctx.warnings if "seed replicates" in w]
    assert len(said) == 2 and all("trained 6 times" in w and "training noise" in w for w in said)
    assert not any("only 1 model" in w for w in ctx.warnings)
