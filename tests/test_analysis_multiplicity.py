"""p-value adjustment against independent computations; interval levels."""

import numpy as np
import pytest
from scipy import stats

from designspace.analysis import adjust_pvalues, interval_alpha
from designspace.errors import DesignSpaceError


def test_bh_matches_scipy_false_discovery_control():
    rng = np.random.default_rng(0)
    for m in (1, 2, 7, 40):
        p = rng.random(m) ** 3
        np.testing.assert_allclose(
            adjust_pvalues(p, "bh"), stats.false_discovery_control(p, method="bh")
        )


def test_holm_matches_a_hand_computation():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1 -> 0.04, 0.09, 0.08 -> 0.09 (monotone), 0.5
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.04, 0.09, np.nan, 0.09, 0.5])
    np.testing.assert_allclose(adjust_pvalues([0.2, 0.4], "holm"), [0.4, 0.4])
    np.testing.assert_allclose(adjust_pvalues([0.01, 0.5], "none"), [0.01, 0.5])
    assert adjust_pvalues([0.9, 0.8, 0.7], "holm").max() == 1.0


def test_holm_by_brute_force_definition():
    # Holm rejects H_(i) iff p_(j) <= alpha / (m - j + 1) for all j <= i
    rng = np.random.default_rng(1)
    for _ in range(50):
        p = rng.random(6) ** 4
        adj = adjust_pvalues(p, "holm")
        order = np.argsort(p)
        for alpha in (0.01, 0.05, 0.1):
            ok = p[order] <= alpha / (6 - np.arange(6))
            rejected = np.zeros(6, dtype=bool)
            rejected[order] = np.cumprod(ok).astype(bool)
            np.testing.assert_array_equal(adj <= alpha, rejected)


def test_interval_levels_and_bad_input():
    assert interval_alpha(0.05, 10, "holm") == pytest.approx(0.005)
    assert interval_alpha(0.05, 10, "bh", n_rejected=4) == pytest.approx(0.02)
    assert interval_alpha(0.05, 10, "none") == 0.05
    with pytest.raises(DesignSpaceError, match="unknown p-value adjustment"):
        adjust_pvalues([0.1], "bonf")
    with pytest.raises(DesignSpaceError, match=r"\[0, 1\]"):
        adjust_pvalues([1.5], "holm")
