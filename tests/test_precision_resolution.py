"""`--precision auto` is resolved once per sweep, recorded in its manifest and kept on resume;
an analysis of models trained at different precisions says so."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sweep_support import tiny

from designspace.errors import DesignSpaceError
from designspace.formats import results as res
from designspace.reporting.context import data_warnings
from designspace.reporting.options import AnalysisOptions
from designspace.sweep import Placement, run_sweep
from designspace.sweep.plan import resolve_precision


def test_auto_resolves_by_device_and_then_keeps_what_was_recorded():
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("auto", "cuda:0") == "bf16"
    assert resolve_precision("fp32", "cuda") == "fp32"  # an explicit value always wins
    assert resolve_precision("bf16", "cpu") == "bf16"
    kept = {"resolved": {"precision": "bf16"}}
    assert resolve_precision("auto", "cpu", kept) == "bf16"  # resumed on another machine
    # a sweep written before the manifest recorded it: its rows say what it used
    assert resolve_precision("auto", "cuda", {}, ["fp32", "fp32"]) == "fp32"
    with pytest.raises(DesignSpaceError, match="mix fp32 and bf16"):
        resolve_precision("auto", "cpu", {}, ["fp32", "bf16"])


def test_a_sweep_records_the_resolved_precision_and_a_resume_keeps_it(tmp_path):
    out = tmp_path / "sweep"
    run_sweep(tiny(n=1), out, Placement(executor="local"), progress=False)
    manifest = json.loads((out / res.MANIFEST_NAME).read_text())
    assert manifest["train"]["precision"] == "auto"  # the command as given
    assert manifest["resolved"] == {"precision": "fp32"}  # what this CPU resolved it to
    first = res.load_results(out)
    assert list(first["precision"]) == ["fp32"] and list(first["cfg_precision"]) == ["fp32"]
    # The same sweep resumed where auto would now mean bf16 (as on a GPU machine): the
    # recorded value wins, so the grown sweep's new row is fp32 too, never a silent mix.
    manifest["resolved"] = {"precision": "bf16"}  # planted: pretend the first machine chose bf16
    (out / res.MANIFEST_NAME).write_text(json.dumps(manifest))
    grown = run_sweep(tiny(n=2), out, Placement(executor="local"), progress=False)
    new = grown[grown["sample_index"] == 1]
    assert list(new["precision"]) == ["bf16"] and list(new["cfg_precision"]) == ["bf16"]


def test_an_analysis_of_mixed_precisions_warns():
    models = pd.DataFrame(
        {
            "space": ["A"] * 12 + ["B"] * 12,
            "val_top1_err": [0.2] * 24,
            "precision": ["fp32"] * 12 + ["bf16"] * 4 + ["fp32"] * 8,
            "channels_last": [True] * 24,
        }
    )
    warnings = data_warnings(models, AnalysisOptions())
    mixed = [w for w in warnings if "different precision settings" in w]
    assert len(mixed) == 1 and "B (bf16: 4, fp32: 8)" in mixed[0] and "A (fp32: 12)" in mixed[0]
    models["precision"] = "fp32"
    assert not any("different" in w for w in data_warnings(models, AnalysisOptions()))
