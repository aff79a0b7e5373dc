"""Inference (the settings compare() and nested_rules() share) and Normalization: validated on
construction, frozen, and honoured by both analyses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from designspace.analysis import Inference, Normalization, compare, nested_rules
from designspace.errors import DesignSpaceError


def frame(groups: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [
        dict(space=k, val_top1_err=float(x), status="ok", flops=1e8 + i * 1e6)
        for k, v in groups.items()
        for i, x in enumerate(v)
    ]
    return pd.DataFrame(rows)


def two_spaces(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return frame({"AnyNetXC": rng.normal(0.25, 0.01, 40), "AnyNetXD": rng.normal(0.24, 0.01, 40)})


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(alpha=0), "alpha"),
        (dict(alpha=1.0), "alpha"),
        (dict(alpha=True), "alpha"),
        (dict(adjust="sidak"), "adjustment"),
        (dict(margin=0), "margin"),
        (dict(margin=float("nan")), "margin"),
        (dict(noise=0.0), "noise"),
        (dict(noise=-0.01), "noise"),
        (dict(noise=float("inf")), "noise"),
    ],
)
def test_bad_settings_are_refused_on_construction(kw, message):
    with pytest.raises(DesignSpaceError, match=message):
        Inference(**kw)


def test_inference_is_frozen_and_keeps_the_noise_sd():
    class Floor:  # a NoiseFloor-like object
        sd = 0.004

    inf = Inference(noise=Floor())
    assert inf.noise == inf.noise_sd == 0.004 and Inference().noise_sd is None
    with pytest.raises(TypeError):
        Inference(seed=1)  # type: ignore[call-arg]  # nothing it decides resamples
    with pytest.raises(dataclasses.FrozenInstanceError):
        inf.alpha = 0.1  # type: ignore[misc]


def test_inference_adjusts_and_widens_like_its_method():
    p = [0.01, 0.02, 0.5]
    np.testing.assert_allclose(Inference().adjusted(p), [0.03, 0.04, 0.5])
    np.testing.assert_allclose(Inference(adjust="none").adjusted(p), p)
    assert Inference(alpha=0.1).level(4, 0) == pytest.approx(0.025)
    assert Inference(adjust="none").level(4, 0) == 0.05


@pytest.mark.parametrize("kw", [dict(complexity=""), dict(bins=0), dict(bins=2.5)])
def test_bad_normalization_is_refused(kw):
    with pytest.raises(DesignSpaceError, match="normalization"):
        Normalization(**kw)


def test_compare_takes_a_normalization_not_a_flag():
    with pytest.raises(TypeError, match="Normalization"):
        compare(two_spaces(), normalize=True)  # type: ignore[arg-type]


def test_compare_and_nested_rules_use_every_setting():
    data = two_spaces()
    base = Inference()
    cmp = compare(data, inference=base)
    assert compare(data, inference=base).pairs.equals(cmp.pairs)  # deterministic
    assert (cmp.alpha, cmp.adjust, cmp.margin) == (0.05, "holm", 0.005)
    wide = compare(data, inference=dataclasses.replace(base, alpha=0.01, margin=0.02))
    assert wide.interval_alpha == 0.01 and wide.margin == 0.02
    noisy = compare(data, inference=dataclasses.replace(base, noise=0.002)).pairs.iloc[0]
    assert noisy["diff_over_noise"] == pytest.approx(noisy["median_diff"] / 0.002)

    rules = nested_rules(data, inference=base).set_index("rule")
    again = nested_rules(data, inference=base).set_index("rule")
    pd.testing.assert_frame_equal(rules, again)
    assert (
        nested_rules(data)
        .set_index("rule")
        .equals(nested_rules(data, inference=Inference()).set_index("rule"))
    )  # the default is Inference()
    step = rules.loc["widths_increase"]
    noisy_step = nested_rules(data, inference=dataclasses.replace(base, noise=0.002))
    row = noisy_step.set_index("rule").loc["widths_increase"]
    assert row["diff_over_noise"] == pytest.approx(step["effect"] / 0.002)
    assert "seed-to-seed sd 0.0020" in row["sentence"]
    bh = nested_rules(data, inference=dataclasses.replace(base, adjust="bh"))
    assert "bh-adjusted" in bh.set_index("rule").loc["widths_increase", "sentence"]
