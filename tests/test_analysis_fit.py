"""Fitting the RegNet quantized linear rule: exact rule, recovery with e_fit 0, speed."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from designspace.analysis import fit_block_widths, fit_regnet, fit_widths, quantized_widths
from designspace.errors import DesignSpaceError

MODELS = json.loads(
    (Path(__file__).resolve().parents[1] / "designspace/data/regnet_models.json").read_text()
)


def test_quantized_widths_match_reference_rule_and_published_example():
    from designspace.regnet import regnet_widths

    for m in MODELS:
        got = quantized_widths(m["depth"], m["w0"], m["wa"], m["wm"])
        np.testing.assert_array_equal(got, regnet_widths(m["depth"], m["w0"], m["wa"], m["wm"]))
    x200 = next(m for m in MODELS if m["name"] == "RegNetX-200MF")
    w = quantized_widths(x200["depth"], x200["w0"], x200["wa"], x200["wm"]).astype(int)
    values, counts = np.unique(w, return_counts=True)
    assert values.tolist() == [24, 56, 152, 368] and counts.tolist() == [1, 1, 4, 7]
    # broadcasting over parameter grids
    assert quantized_widths(10, np.array([8, 16])[:, None], 20.0, np.array([2.0, 2.5])).shape == (
        2,
        2,
        10,
    )


def test_fit_recovers_published_models_exactly():
    for m in MODELS:
        w = quantized_widths(m["depth"], m["w0"], m["wa"], m["wm"])
        f = fit_widths(w)
        assert f.e_fit == pytest.approx(0.0, abs=1e-12), m["name"]
        np.testing.assert_array_equal(f.widths, w)


def test_fit_recovers_random_regnets_and_reports_e_fit_formula():
    rng = np.random.default_rng(0)
    params = [
        (
            int(rng.integers(12, 29)),
            8 * int(rng.integers(1, 33)),
            float(np.exp(rng.uniform(np.log(8), np.log(128)))),
            float(rng.uniform(2, 3)),
        )
        for _ in range(40)
    ]
    widths = [quantized_widths(*p) for p in params]
    fits = fit_block_widths(widths)
    assert (fits["e_fit"] < 1e-12).mean() >= 0.9
    assert fits["e_fit"].max() < 0.1
    for w, f in zip(widths, fits.itertuples(), strict=True):
        pred = quantized_widths(w.size, f.fit_w0, f.fit_wa, f.fit_wm)
        assert f.e_fit == pytest.approx(np.mean(np.abs(np.log(w) - np.log(pred))))


def test_non_linear_profiles_have_larger_e_fit():
    linear = quantized_widths(16, 48, 30.0, 2.4)
    zigzag = np.tile([64.0, 512.0], 8)
    assert fit_widths(zigzag).e_fit > 0.5 > fit_widths(linear).e_fit


def test_fit_regnet_over_results_table_uses_depths_and_widths():
    table = pd.DataFrame(
        {
            "depths": [[1, 1, 4, 7], [2, 3]],
            "widths": [[24, 56, 152, 368], [32, 64]],
        },
        index=[10, 20],
    )
    out = fit_regnet(table)
    assert list(out.index) == [10, 20]
    assert list(out.columns) == ["fit_w0", "fit_wa", "fit_wm", "e_fit"]
    assert out.loc[10, "e_fit"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(DesignSpaceError, match="needs column"):
        fit_regnet(table.drop(columns="depths"))
    with pytest.raises(DesignSpaceError, match="positive"):
        fit_widths([8, 0, 16])


def test_fit_of_500_models_is_fast():
    rng = np.random.default_rng(1)
    widths = [
        quantized_widths(
            int(rng.integers(12, 29)),
            8 * int(rng.integers(1, 33)),
            float(rng.uniform(8, 128)),
            float(rng.uniform(2, 3)),
        )
        for _ in range(500)
    ]
    t = time.perf_counter()
    fits = fit_block_widths(widths)
    assert time.perf_counter() - t < 10.0
    assert len(fits) == 500 and fits["e_fit"].median() < 1e-12


def test_factorized_grid_evaluation_is_bit_identical_to_the_rule():
    from designspace.analysis.fit import _log_widths_grid

    rng = np.random.default_rng(2)
    w0 = 8.0 * rng.integers(1, 40, size=(3, 4))
    wa = np.concatenate([np.zeros((3, 1)), rng.uniform(0.5, 300, size=(3, 5))], axis=1)
    wm = rng.uniform(1.5, 3.0, size=(3, 6))
    got = _log_widths_grid(20, w0, wa, wm, 8)
    want = np.log(
        quantized_widths(20, w0[:, :, None, None], wa[:, None, :, None], wm[:, None, None, :])
    )
    np.testing.assert_array_equal(got, want)
